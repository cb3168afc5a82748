// Credential custody shared by both runbooks (DESIGN §7): the workflow handles vault references
// only. Secrets go from the client's intake form or the operator API straight into the vault (in the
// API process); the workflow records which reference, who supplied it and when, and which approver
// revealed a handed-over credential.
import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import {
  credentialLinkQuery,
  failureTypes,
  reissueRevealUpdate,
  revealCredentialUpdate,
  supplyCredentialUpdate,
  type CredentialLinkView,
  type CredentialState,
  type ReissueRevealRequest,
  type SupplyCredentialRequest,
} from '../domain/definitions.js';
import { escapeMarkdown } from '../domain/markdown.js';
import type { StepKey } from '../domain/schemas.js';
import { addDuration, durationMillis, humanDate } from '../domain/timeline.js';
import { conflict, nowIso, type Runbook } from './runbook.js';

export interface CredentialAsset {
  id: string;
  system: string;
  account: string;
}

export class CredentialCustody {
  constructor(private readonly runbook: Runbook) {
    runbook.onApproverReassigned(async (to, round) => {
      for (const credential of this.state.credentials) {
        if (credential.step === 'credential-vaulting' && credential.status === 'awaiting')
          await this.sendLinks('intake', credential, round, [to]);
        if (
          credential.step === 'credential-rotation' &&
          credential.status === 'vaulted' &&
          credential.revealLinksSentAt
        )
          await this.sendLinks('reveal', credential, round, [to]);
      }
    });
    this.registerReissue();
    setHandler(credentialLinkQuery, (tokenHash) => this.linkView(tokenHash));
    setHandler(supplyCredentialUpdate, (request) => this.supply(request), {
      validator: (request) => this.checkSupply(request),
    });
    setHandler(
      revealCredentialUpdate,
      (request) => {
        const credential = this.credentialOfLink(request.tokenHash, 'reveal')!;
        credential.status = 'revealed';
        credential.revealedBy = this.runbook.linkOf(request.tokenHash, 'reveal')!.approver;
        credential.revealedAt = nowIso();
        return credential.reference!;
      },
      {
        validator: (request) => {
          const view = this.linkView(request.tokenHash);
          if (!view || view.purpose !== 'reveal') throw notKnown();
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
  }

  /**
   * A fresh one-time reveal link for each approver after a reveal was lost (the page closed, the
   * answer never arrived, the link expired); the links mailed before stop working.
   */
  private registerReissue(): void {
    this.runbook.registerControl<ReissueRevealRequest>(
      reissueRevealUpdate,
      (request) => {
        const credential = this.handedOver(request.credentialId);
        if (!credential)
          throw ApplicationFailure.create({
            type: failureTypes.notFound,
            message: `no credential ${request.credentialId} handed over in this transition`,
          });
        if (!credential.revealLinksSentAt)
          throw conflict(
            `credential ${request.credentialId} has no reveal link yet: it is ${credential.status}`,
          );
      },
      async (request) => {
        const credential = this.handedOver(request.credentialId)!;
        credential.revealGeneration = (credential.revealGeneration ?? 0) + 1;
        credential.status = 'vaulted';
        delete credential.revealedAt;
        delete credential.revealedBy;
        this.runbook.recordControl('reveal-reissued', request, { credential: credential.id });
        await this.sendLinks('reveal', credential, `reissue-${credential.revealGeneration}`);
        credential.revealLinksSentAt = nowIso();
      },
    );
  }

  private handedOver(credentialId: string): CredentialState | undefined {
    return this.state.credentials.find(
      (credential) => credential.id === credentialId && credential.step === 'credential-rotation',
    );
  }

  private get state() {
    return this.runbook.state;
  }

  private awaiting(credentialId: string): CredentialState | undefined {
    return this.state.credentials.find(
      (credential) => credential.id === credentialId && credential.status === 'awaiting',
    );
  }

  private credentialOfLink(tokenHash: string, purpose: 'intake' | 'reveal'): CredentialState | undefined {
    const link = this.runbook.linkOf(tokenHash, purpose);
    if (!link) return undefined;
    const wanted = purpose === 'intake' ? 'credential-vaulting' : 'credential-rotation';
    return this.state.credentials.find(
      (credential) => credential.id === link.requestId && credential.step === wanted,
    );
  }

  private linkView(tokenHash: string): CredentialLinkView | null {
    for (const purpose of ['intake', 'reveal'] as const) {
      const link = this.runbook.linkOf(tokenHash, purpose);
      const credential = this.credentialOfLink(tokenHash, purpose);
      if (!link || !credential) continue;
      const { reference: _reference, ...shown } = credential;
      let status: CredentialLinkView['status'] = 'pending';
      if (!this.runbook.isApprover(link.approver)) status = 'superseded';
      else if (purpose === 'reveal' && (link.generation ?? 0) !== (credential.revealGeneration ?? 0))
        status = 'reissued';
      else if (purpose === 'intake' && credential.status !== 'awaiting') status = 'supplied';
      else if (purpose === 'reveal' && credential.status === 'revealed') status = 'revealed';
      return {
        ...this.runbook.contacts(),
        purpose,
        approver: link.approver,
        credential: shown,
        status,
      };
    }
    return null;
  }

  private checkSupply(request: SupplyCredentialRequest): void {
    if (request.via === 'intake-link') {
      const view = request.tokenHash ? this.linkView(request.tokenHash) : null;
      if (!view || view.purpose !== 'intake' || view.credential.id !== request.credentialId) throw notKnown();
      if (view.status === 'superseded') throw conflict('you are no longer an approver of this transition');
      if (view.status === 'supplied')
        throw conflict(`this credential was already supplied on ${view.credential.suppliedAt}`);
      return;
    }
    if (!this.state.credentials.some((credential) => credential.id === request.credentialId))
      throw ApplicationFailure.create({
        type: failureTypes.notFound,
        message: `no credential ${request.credentialId} in this transition`,
      });
    if (!this.awaiting(request.credentialId))
      throw conflict(`credential ${request.credentialId} is not awaited now`);
  }

  private supply(request: SupplyCredentialRequest): CredentialState {
    const credential = this.awaiting(request.credentialId)!;
    const person = request.tokenHash ? this.runbook.linkOf(request.tokenHash, 'intake')?.approver : undefined;
    credential.status = 'vaulted';
    credential.reference = request.reference;
    credential.suppliedBy = person ?? request.actor;
    credential.suppliedVia = request.via;
    credential.suppliedAt = nowIso();
    return credential;
  }

  private open(key: StepKey, assets: CredentialAsset[]): CredentialState[] {
    const credentials: CredentialState[] = assets.map((asset) => ({
      id: asset.id,
      step: key,
      system: asset.system,
      account: asset.account,
      status: 'awaiting',
      requestedAt: nowIso(),
      remindersSent: 0,
    }));
    this.state.credentials.push(...credentials);
    return credentials;
  }

  /** Mails each current approver a fresh link of `purpose` for one credential. */
  private async sendLinks(
    purpose: 'intake' | 'reveal',
    credential: CredentialState,
    round: string,
    approvers = this.runbook.approvers,
  ): Promise<void> {
    const terms = this.runbook.request.terms;
    const expiresAt = addDuration(nowIso(), terms.approvalTimeout);
    const issued = await this.runbook.effects.sendLinks({
      transitionId: this.state.id,
      purpose,
      requestId: credential.id,
      round,
      approvers,
      expiresAt,
      template: purpose === 'intake' ? 'credential-intake' : 'credential-reveal',
      data: {
        clientName: this.state.clientName,
        kind: this.state.kind,
        credential: { id: credential.id, system: credential.system, account: credential.account },
        requestedBy: this.runbook.request.requestedBy,
        expiresLocal: humanDate(expiresAt, this.state.timezone),
      },
    });
    this.runbook.rememberLinks(purpose, credential.id, issued, credential.revealGeneration);
  }

  /**
   * Onboarding: asks the approvers for each credential through one-time intake links (operators may
   * put it through the API instead) and waits, reminding every `reminderInterval`, until all are in.
   */
  async collect(key: StepKey, assets: CredentialAsset[], rotationPeriod: string): Promise<CredentialState[]> {
    const credentials = this.open(key, assets);
    if (credentials.length === 0) return credentials;
    this.runbook.setStepStatus(key, 'awaiting-credentials');
    for (const credential of credentials) await this.sendLinks('intake', credential, 'request');
    await this.runbook.notifyOperators(
      `credentials-requested:${key}`,
      `Credentials requested from ${this.state.clientName}`,
      [
        `The client's approvers received a one-time intake link for each of ${credentials.length} credential(s): ${credentials.map(listed).join(', ')}.`,
        `An operator can put one instead with POST /v1/transitions/${this.state.id}/credentials/:credentialId and \`{ "secret": "…" }\`.`,
      ],
    );
    const allIn = () => credentials.every((credential) => credential.status !== 'awaiting');
    let round = 0;
    const terms = this.runbook.request.terms;
    const interval = durationMillis(terms.reminderInterval);
    const escalateAt = Date.parse(addDuration(nowIso(), terms.approvalTimeout));
    let escalated = false;
    while (!(await condition(allIn, interval, { summary: `credential intake reminder: ${key}` }))) {
      round += 1;
      const missing = credentials.filter((candidate) => candidate.status === 'awaiting');
      for (const credential of missing) {
        credential.remindersSent += 1;
        await this.sendLinks('intake', credential, `reminder-${round}`);
      }
      // Past approvalTimeout the operators hear of it once; the reminders to the client go on.
      if (!escalated && Date.now() >= escalateAt) {
        escalated = true;
        await this.runbook.notifyOperators(
          `credentials-escalated:${key}`,
          `Escalation: credentials still missing from ${this.state.clientName}`,
          [
            `The client has not handed over ${missing.length} credential(s) within ${terms.approvalTimeout}: ${missing.map(listed).join(', ')}.`,
            `Reminders keep going out every ${terms.reminderInterval}. An operator can put a credential with POST /v1/transitions/${this.state.id}/credentials/:credentialId.`,
          ],
        );
      }
    }
    for (const credential of credentials)
      credential.rotationDueAt = addDuration(credential.suppliedAt!, rotationPeriod);
    this.runbook.setStepStatus(key, 'running');
    return credentials;
  }

  /**
   * Offboarding: waits until the operators put each rotated credential into the vault, then mails
   * the approvers a one-time reveal link for it. The MSP keeps only the reference.
   */
  async handOver(key: StepKey, assets: CredentialAsset[]): Promise<CredentialState[]> {
    const credentials = this.open(key, assets);
    if (credentials.length === 0) return credentials;
    this.runbook.setStepStatus(key, 'awaiting-credentials');
    await this.runbook.notifyOperators(
      `credentials-to-rotate:${key}`,
      `Rotate credentials of ${this.state.clientName}`,
      [
        `Rotate each credential below and put the new value into the vault with POST /v1/transitions/${this.state.id}/credentials/:credentialId and \`{ "secret": "…" }\`. The client's approvers then get a one-time link to reveal it.`,
        ...credentials.map((c) => `\`${c.id}\`: ${accountOn(c)}`),
      ],
    );
    const sent = new Set<string>();
    for (;;) {
      const ready = credentials.filter(
        (credential) => credential.status !== 'awaiting' && !sent.has(credential.id),
      );
      for (const credential of ready) {
        sent.add(credential.id);
        await this.sendLinks('reveal', credential, 'request');
        credential.revealLinksSentAt = nowIso();
      }
      if (sent.size === credentials.length) break;
      await condition(() => credentials.some((c) => c.status !== 'awaiting' && !sent.has(c.id)));
    }
    this.runbook.setStepStatus(key, 'running');
    return credentials;
  }
}

/** Account and system as the client named them, literal in the Markdown of a notice. */
function accountOn(credential: CredentialAsset): string {
  return `${escapeMarkdown(credential.account)} on ${escapeMarkdown(credential.system)}`;
}

/** A credential in a notice's list: its id, then whose account on which system. */
function listed(credential: CredentialAsset): string {
  return `\`${credential.id}\` (${accountOn(credential)})`;
}

function notKnown(): ApplicationFailure {
  return ApplicationFailure.create({ type: failureTypes.notFound, message: 'this link is not known' });
}
