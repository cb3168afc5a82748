// Credential custody shared by both runbooks: the workflow handles vault references only. Secrets go
// from the client's intake form or the operator API straight into the vault (in the API process);
// the workflow records which reference, who supplied it and when, and who revealed a handed-over
// one. This part keeps the credentials, their links and the supply of a secret's reference; intake
// (onboarding) and hand-over (offboarding) build on it.
import { setHandler } from '@temporalio/workflow';
import {
  credentialLinkQuery,
  supplyCredentialUpdate,
  type CredentialLinkView,
  type CredentialState,
  type SupplyCredentialRequest,
} from '../../domain/definitions.js';
import { escapeMarkdown } from '../../domain/markdown.js';
import type { Person, StepKey } from '../../domain/schemas.js';
import { addDuration, dateInWords } from '../../domain/timeline.js';
import type { Approvers } from './approvers.js';
import type { Effects } from './effects.js';
import type { Links } from './links.js';
import { conflict, notFound, nowIso, type RunbookState } from './state.js';

export interface CredentialAsset {
  id: string;
  system: string;
  account: string;
}

export type CredentialLinkPurpose = 'intake' | 'reveal';

/** Which step's credentials each kind of link is about. */
const stepOfPurpose: Record<CredentialLinkPurpose, StepKey> = {
  intake: 'credential-vaulting',
  reveal: 'credential-rotation',
};

export class CredentialLinks {
  constructor(
    private readonly runbook: RunbookState,
    private readonly effects: Effects,
    private readonly links: Links,
    approvers: Approvers,
  ) {
    approvers.onReassigned(async (to, round) => {
      for (const credential of runbook.state.credentials) {
        if (credential.step === stepOfPurpose.intake && credential.status === 'awaiting')
          await this.send('intake', credential, round, [to]);
        if (
          credential.step === stepOfPurpose.reveal &&
          credential.status === 'vaulted' &&
          credential.revealLinksSentAt
        )
          await this.send('reveal', credential, round, [to]);
      }
    });
    setHandler(credentialLinkQuery, (tokenHash) => this.view(tokenHash));
    setHandler(supplyCredentialUpdate, (request) => this.supply(request), {
      validator: (request) => this.checkSupply(request),
    });
  }

  private awaiting(credentialId: string): CredentialState | undefined {
    return this.runbook.state.credentials.find(
      (credential) => credential.id === credentialId && credential.status === 'awaiting',
    );
  }

  /** A secret now in the vault, through an intake link or the operator API: only its reference comes here. */
  private checkSupply(request: SupplyCredentialRequest): void {
    if (request.via === 'intake-link') {
      const view = request.tokenHash ? this.view(request.tokenHash) : null;
      if (!view || view.purpose !== 'intake' || view.credential.id !== request.credentialId)
        throw linkNotKnown();
      if (view.status === 'superseded') throw conflict('you are no longer an approver of this transition');
      if (view.status === 'supplied')
        throw conflict(`this credential was already supplied on ${view.credential.suppliedAt}`);
      return;
    }
    if (!this.runbook.state.credentials.some((credential) => credential.id === request.credentialId))
      throw notFound(`no credential ${request.credentialId} in this transition`);
    if (!this.awaiting(request.credentialId))
      throw conflict(`credential ${request.credentialId} is not awaited now`);
  }

  private supply(request: SupplyCredentialRequest): CredentialState {
    const credential = this.awaiting(request.credentialId)!;
    const person = request.tokenHash ? this.approverOf(request.tokenHash, 'intake') : undefined;
    credential.status = 'vaulted';
    credential.reference = request.reference;
    credential.suppliedBy = person ?? request.actor;
    credential.suppliedVia = request.via;
    credential.suppliedAt = nowIso();
    return credential;
  }

  /** Adds the step's credentials to the state, each awaiting its secret. */
  open(key: StepKey, assets: CredentialAsset[]): CredentialState[] {
    const credentials: CredentialState[] = assets.map((asset) => ({
      id: asset.id,
      step: key,
      system: asset.system,
      account: asset.account,
      status: 'awaiting',
      requestedAt: nowIso(),
      remindersSent: 0,
    }));
    this.runbook.state.credentials.push(...credentials);
    return credentials;
  }

  /** Mails each current approver (or those given) a fresh link of `purpose` for one credential. */
  async send(
    purpose: CredentialLinkPurpose,
    credential: CredentialState,
    round: string,
    approvers: Person[] = this.runbook.approvers,
  ): Promise<void> {
    const { state, request } = this.runbook;
    const expiresAt = addDuration(nowIso(), request.terms.approvalTimeout);
    const issued = await this.effects.sendLinks({
      audit: { v: 1, event: 'links' },
      transitionId: state.id,
      purpose,
      requestId: credential.id,
      round,
      approvers,
      expiresAt,
      template: purpose === 'intake' ? 'credential-intake' : 'credential-reveal',
      data: {
        clientName: state.clientName,
        kind: state.kind,
        credential: { id: credential.id, system: credential.system, account: credential.account },
        requestedBy: request.requestedBy,
        expiresLocal: dateInWords(expiresAt, state.timezone),
      },
    });
    this.links.remember(purpose, credential.id, issued, credential.revealGeneration);
  }

  /** The person a link of `purpose` was mailed to. */
  approverOf(tokenHash: string, purpose: CredentialLinkPurpose): string | undefined {
    return this.links.of(tokenHash, purpose)?.approver;
  }

  /** The credential a link is about, when the link is of that purpose. */
  credentialOf(tokenHash: string, purpose: CredentialLinkPurpose): CredentialState | undefined {
    const link = this.links.of(tokenHash, purpose);
    if (!link) return undefined;
    return this.runbook.state.credentials.find(
      (credential) => credential.id === link.requestId && credential.step === stepOfPurpose[purpose],
    );
  }

  /** What an intake or reveal page shows about its link; null when no such link was mailed. */
  view(tokenHash: string): CredentialLinkView | null {
    for (const purpose of ['intake', 'reveal'] as const) {
      const link = this.links.of(tokenHash, purpose);
      const credential = this.credentialOf(tokenHash, purpose);
      if (!link || !credential) continue;
      const { reference: _reference, ...shown } = credential;
      let status: CredentialLinkView['status'] = 'pending';
      if (!this.runbook.isApprover(link.approver)) status = 'superseded';
      else if (purpose === 'reveal' && (link.generation ?? 0) !== (credential.revealGeneration ?? 0))
        status = 'reissued';
      else if (purpose === 'intake' && credential.status !== 'awaiting') status = 'supplied';
      else if (purpose === 'reveal' && credential.status === 'revealed') status = 'revealed';
      return { ...this.runbook.contacts(), purpose, approver: link.approver, credential: shown, status };
    }
    return null;
  }
}

export function linkNotKnown() {
  return notFound('this link is not known');
}

/** Account and system as the client named them, literal in the Markdown of a notice. */
export function accountOn(credential: CredentialAsset): string {
  return `${escapeMarkdown(credential.account)} on ${escapeMarkdown(credential.system)}`;
}

/** A credential in a notice's list: its id, then whose account on which system. */
export function listed(credential: CredentialAsset): string {
  return `\`${credential.id}\` (${accountOn(credential)})`;
}
