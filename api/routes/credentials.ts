import type { Client, WorkflowHandle } from '@temporalio/client';
import { z } from 'zod';
import type { Vault } from '../../connectors/vault/port.js';
import {
  credentialLinkQuery,
  revealCredentialUpdate,
  supplyCredentialUpdate,
  type CredentialLinkView,
  type SecretReference,
} from '../../domain/definitions.js';
import { dateInWords } from '../../domain/timeline.js';
import { fromTemporal } from '../errors.js';
import { createLinkPages, type LinkPageDeps } from '../link-pages.js';
import type { Operations } from '../operations.js';
import type { ApiRoutes } from '../routes.js';
import { tokenParams } from './approvals.js';
import { reasonBody, transitionIdParams } from './transitions.js';

// Not trimmed: spaces can be part of a password.
const secret = z.string().min(1, 'the secret is empty').max(4096);
export const secretBody = z.object({ secret });
export const credentialParams = transitionIdParams.extend({
  credentialId: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, 'expected a credential id'),
});
const csrfField = z.string().max(200).default('');

const lookup = (handle: WorkflowHandle, tokenHash: string) => handle.query(credentialLinkQuery, tokenHash);

/**
 * Secrets in (operator API, client intake links) and out (one-time reveal links). A secret goes
 * straight into the vault here, in the API process; the workflow receives only its reference.
 */
export function credentialRoutes(
  routes: ApiRoutes,
  deps: LinkPageDeps & { temporal: Client; vault: Vault; operations: Operations },
) {
  const intake = createLinkPages(deps, 'intake', 'pages/intake.html.hbs');
  const reveal = createLinkPages(deps, 'reveal', 'pages/reveal.html.hbs');
  const { operations } = deps;

  routes.add(
    {
      method: 'post',
      path: '/v1/transitions/:id/credentials/:credentialId',
      summary:
        'Put a credential the runbook awaits straight into the vault; answers its reference, never the value',
      roles: ['operator'],
      params: credentialParams,
      body: secretBody,
      status: 201,
      responses: {
        201: 'Stored: vault id, version, fingerprint',
        400: 'Invalid body',
        401: 'No key',
        403: 'Not an operator',
        404: 'Unknown transition or credential',
        409: 'Not awaited now',
      },
      tag: 'credentials',
    },
    ({ params, body, caller }) =>
      operations.supplyCredential(params.id, params.credentialId, body.secret, caller),
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/transitions/:id/credentials/:credentialId/reissue',
      summary:
        'Mail a fresh one-time reveal link for a handed-over credential after a lost reveal; earlier reveal links stop working',
      roles: ['operator'],
      params: credentialParams,
      body: reasonBody,
      responses: {
        200: 'New state',
        400: 'Invalid body',
        401: 'No key',
        403: 'Not an operator',
        404: 'Unknown transition or credential',
        409: 'No reveal link to replace yet, or the transition has finished',
      },
      tag: 'credentials',
    },
    ({ params, body, caller }) =>
      operations.reissueReveal(params.id, params.credentialId, body.reason, caller),
  );

  /** What an intake or reveal page says about its link, whatever its status. */
  const page = (view: CredentialLinkView, extra: Record<string, unknown> = {}) => {
    const when = (iso: string | undefined) => (iso ? dateInWords(iso, view.timezone) : 'earlier');
    const statusText: Record<CredentialLinkView['status'], string> = {
      pending: '',
      supplied: `This credential was already supplied (${when(view.credential.suppliedAt)}). This link is spent; nothing more is needed from you.`,
      revealed: `This credential was already revealed, ${when(view.credential.revealedAt)}, to ${view.credential.revealedBy ?? 'its approver'}. The link is spent.`,
      superseded: 'This link was replaced: you are no longer an approver of this transition.',
      reissued: 'A newer link was sent for this credential: use the link in the latest email.',
    };
    return {
      view,
      pending: view.status === 'pending',
      statusText: statusText[view.status],
      lost: view.status === 'revealed',
      contacts: view.operators,
      ...extra,
    };
  };
  const titles = {
    intake: { pending: 'Hand over a credential', done: 'Credential stored', spent: 'Link spent' },
    reveal: { pending: 'Your new credential', done: 'Your new credential', spent: 'Link spent' },
  };
  const titleOf = (purpose: 'intake' | 'reveal', view: CredentialLinkView) =>
    view.status === 'pending' ? titles[purpose].pending : titles[purpose].spent;

  routes.add(
    {
      method: 'get',
      path: '/intake/:token',
      summary: "The client's one-time form for a credential; changes nothing",
      roles: 'public',
      params: tokenParams,
      responses: { 200: 'HTML form', 404: 'Unknown link', 410: 'Expired link' },
      tag: 'credential links',
    },
    async ({ params, req, res }) => {
      const link = await intake.resolve(req, res, params.token, lookup);
      if (!link) return undefined;
      await intake.recordOpening(req, link);
      await intake.render(
        res,
        200,
        titleOf('intake', link.view),
        page(link.view, { csrf: intake.csrf(link.tokenHash) }),
      );
      return undefined;
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/intake/:token',
      summary: 'Store the credential in the vault; the link is spent',
      roles: 'public',
      params: tokenParams,
      body: z.object({ secret, csrf: csrfField }),
      responses: {
        200: 'Stored',
        403: 'Cross-site or no form value',
        404: 'Unknown link',
        409: 'Already supplied',
        410: 'Expired link',
      },
      tag: 'credential links',
    },
    async ({ params, body, req, res }) => {
      if (await intake.refuseCrossOrigin(req, res)) return undefined;
      const link = await intake.resolve(req, res, params.token, lookup);
      if (!link) return undefined;
      if (await intake.refuseWithoutCsrf(req, res, link.tokenHash, body.csrf)) return undefined;
      if (link.view.status !== 'pending') {
        await intake.render(res, 409, titleOf('intake', link.view), page(link.view));
        return undefined;
      }
      const { credential } = link.view;
      try {
        const reference = await operations.vaultSecret(
          link.claims.transitionId,
          credential.step,
          credential.id,
          body.secret,
        );
        await link.handle.executeUpdate(supplyCredentialUpdate, {
          args: [
            {
              credentialId: credential.id,
              reference,
              via: 'intake-link',
              tokenHash: link.tokenHash,
              actor: link.view.approver,
            },
          ],
        });
        await intake.render(
          res,
          200,
          titles.intake.done,
          page(link.view, { done: true, fingerprint: reference.fingerprint }),
        );
      } catch (error) {
        const known = fromTemporal(error);
        if (!known) throw error;
        await intake.deadEnd(res, known.status, {
          title: 'Credential not recorded',
          problem: `The credential was not recorded: ${known.message}.`,
          next: 'Open the link again to see where the request stands, or contact the people below.',
          contacts: link.view.operators,
        });
      }
      return undefined;
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/reveal/:token',
      summary: 'A button to reveal a handed-over credential once; changes nothing',
      roles: 'public',
      params: tokenParams,
      responses: { 200: 'HTML page', 404: 'Unknown link', 410: 'Expired link' },
      tag: 'credential links',
    },
    async ({ params, req, res }) => {
      const link = await reveal.resolve(req, res, params.token, lookup);
      if (!link) return undefined;
      await reveal.recordOpening(req, link);
      await reveal.render(
        res,
        200,
        titleOf('reveal', link.view),
        page(link.view, { csrf: reveal.csrf(link.tokenHash) }),
      );
      return undefined;
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/reveal/:token',
      summary: 'Reveal the credential, exactly once',
      roles: 'public',
      params: tokenParams,
      body: z.object({ csrf: csrfField }),
      responses: {
        200: 'The credential, once',
        403: 'Cross-site or no form value',
        404: 'Unknown link',
        409: 'Already revealed',
        410: 'Expired link',
      },
      tag: 'credential links',
    },
    async ({ params, body, req, res }) => {
      if (await reveal.refuseCrossOrigin(req, res)) return undefined;
      const link = await reveal.resolve(req, res, params.token, lookup);
      if (!link) return undefined;
      if (await reveal.refuseWithoutCsrf(req, res, link.tokenHash, body.csrf)) return undefined;
      let reference: SecretReference;
      try {
        reference = await link.handle.executeUpdate(revealCredentialUpdate, {
          args: [{ tokenHash: link.tokenHash, ...reveal.client(req) }],
        });
      } catch (error) {
        const known = fromTemporal(error);
        if (!known) throw error;
        await reveal.deadEnd(res, known.status, {
          title: 'Nothing to show',
          problem: `Nothing to show: ${known.message}.`,
          next: 'If you never saw the credential, ask the people below for a new one-time link.',
          contacts: link.view.operators,
        });
        return undefined;
      }
      const { secret: value } = await deps.vault.get(reference.vaultId, reference.version);
      await reveal.render(
        res,
        200,
        titles.reveal.done,
        page(link.view, { secret: value, fingerprint: reference.fingerprint }),
      );
      return undefined;
    },
  );
}
