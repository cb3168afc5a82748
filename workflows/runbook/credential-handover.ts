// Offboarding's credential hand-over: the operators put each rotated credential into the vault, each
// approver gets a one-time reveal link, and the reveal spends it. An operator can reissue a link
// after a lost reveal; the earlier ones stop working.
import { condition, setHandler } from '@temporalio/workflow';
import {
  reissueRevealUpdate,
  revealCredentialUpdate,
  type CredentialState,
  type ReissueRevealRequest,
  type SecretReference,
} from '../../domain/definitions.js';
import { escapeMarkdown } from '../../domain/markdown.js';
import type { StepKey } from '../../domain/schemas.js';
import type { Controls } from './controls.js';
import { accountOn, linkNotKnown, type CredentialAsset, type CredentialLinks } from './credentials.js';
import type { Notices } from './notices.js';
import { conflict, notFound, nowIso, type RunbookState } from './state.js';

export class CredentialHandover {
  constructor(
    private readonly runbook: RunbookState,
    private readonly credentialLinks: CredentialLinks,
    private readonly notices: Notices,
    controls: Controls,
  ) {
    setHandler(
      revealCredentialUpdate,
      (request) => {
        const credential = credentialLinks.credentialOf(request.tokenHash, 'reveal')!;
        credential.status = 'revealed';
        credential.revealedBy = credentialLinks.approverOf(request.tokenHash, 'reveal')!;
        credential.revealedAt = nowIso();
        return credential.reference!;
      },
      {
        validator: (request) => {
          const view = credentialLinks.view(request.tokenHash);
          if (!view || view.purpose !== 'reveal') throw linkNotKnown();
          if (view.status === 'reissued')
            throw conflict('a newer link was sent for this credential: use the link in the latest email');
          if (view.status === 'superseded')
            throw conflict('you are no longer an approver of this transition');
          if (view.status === 'revealed')
            throw conflict(
              `this credential was already revealed on ${view.credential.revealedAt} to ${view.credential.revealedBy}`,
            );
        },
      },
    );
    controls.register<ReissueRevealRequest>(
      reissueRevealUpdate,
      (request) => {
        const credential = this.handedOver(request.credentialId);
        if (!credential)
          throw notFound(`no credential ${request.credentialId} handed over in this transition`);
        if (!credential.revealLinksSentAt)
          throw conflict(
            `credential ${request.credentialId} has no reveal link yet: it is ${credential.status}`,
          );
      },
      (request) => this.reissue(request),
    );
  }

  /** Why a credential's connector did not rotate it, for the operators who now must. */
  private connectorFailure(key: StepKey, credentialId: string): string {
    const task = this.runbook.state.tasks.find((candidate) => candidate.id === `${key}.${credentialId}`);
    const error = task?.automation?.error;
    return error
      ? ` (its ${escapeMarkdown(task.automation!.connector)} connector failed: ${escapeMarkdown(error.message)})`
      : '';
  }

  private handedOver(credentialId: string): CredentialState | undefined {
    return this.runbook.state.credentials.find(
      (credential) => credential.id === credentialId && credential.step === 'credential-rotation',
    );
  }

  /** A fresh one-time reveal link for each approver; the links mailed before stop working. */
  private async reissue(request: ReissueRevealRequest): Promise<void> {
    const credential = this.handedOver(request.credentialId)!;
    credential.revealGeneration = (credential.revealGeneration ?? 0) + 1;
    credential.status = 'vaulted';
    delete credential.revealedAt;
    delete credential.revealedBy;
    this.runbook.recordControl('reveal-reissued', request, { credential: credential.id });
    await this.credentialLinks.send('reveal', credential, `reissue-${credential.revealGeneration}`);
    credential.revealLinksSentAt = nowIso();
  }

  /**
   * A secret a connector rotated into the vault, for a credential still awaiting one (a retry of the
   * connector after the hand-over began): handed over as if an operator had put it.
   */
  supplyByConnector(credentialId: string, reference: SecretReference, connector: string): void {
    const credential = this.handedOver(credentialId);
    if (credential?.status !== 'awaiting') return;
    credential.status = 'vaulted';
    credential.reference = reference;
    credential.suppliedBy = `connector ${connector}`;
    credential.suppliedVia = 'connector';
    credential.suppliedAt = nowIso();
  }

  /**
   * Waits until each rotated credential is in the vault (put by the operators, or already rotated by
   * its connector: `rotated`), then mails the approvers a one-time reveal link for it. The MSP keeps
   * only the reference.
   */
  async handOver(
    key: StepKey,
    assets: CredentialAsset[],
    rotated: ReadonlyMap<string, { reference: SecretReference; connector: string }> = new Map(),
  ): Promise<CredentialState[]> {
    const { state } = this.runbook;
    const credentials = this.credentialLinks.open(key, assets);
    if (credentials.length === 0) return credentials;
    for (const [id, { reference, connector }] of rotated) this.supplyByConnector(id, reference, connector);
    this.runbook.setStepStatus(key, 'awaiting-credentials');
    const toRotate = credentials.filter((credential) => credential.status === 'awaiting');
    if (toRotate.length > 0)
      await this.notices.toOperators(
        `credentials-to-rotate:${key}`,
        `Rotate credentials of ${state.clientName}`,
        [
          `Rotate each credential below and put the new value into the vault with POST /v1/transitions/${state.id}/credentials/:credentialId and \`{ "secret": "…" }\`. The client's approvers then get a one-time link to reveal it.`,
          ...toRotate.map((c) => `\`${c.id}\`: ${accountOn(c)}${this.connectorFailure(key, c.id)}`),
        ],
      );
    const sent = new Set<string>();
    for (;;) {
      const ready = credentials.filter(
        (credential) => credential.status !== 'awaiting' && !sent.has(credential.id),
      );
      for (const credential of ready) {
        sent.add(credential.id);
        await this.credentialLinks.send('reveal', credential, 'request');
        credential.revealLinksSentAt = nowIso();
      }
      if (sent.size === credentials.length) break;
      await condition(() => credentials.some((c) => c.status !== 'awaiting' && !sent.has(c.id)));
    }
    this.runbook.setStepStatus(key, 'running');
    return credentials;
  }
}
