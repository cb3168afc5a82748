// Asking the client: a personal link to each approver, reminders every `reminderInterval` until
// `approvalTimeout`, then `onTimeout`. The decision comes back as an Update whose validator refuses
// a stale or repeated click; decisions pressed together come as one batch Update, each refused or
// applied as it would be alone. A rejection holds the step until an operator asks again (or cancels).
import { condition, setHandler, type ApplicationFailure } from '@temporalio/workflow';
import { approvalItems } from '../../domain/approval-items.js';
import {
  approvalLinkQuery,
  decideBatchUpdate,
  decideUpdate,
  failureTypes,
  maxDecisionBatch,
  type ApprovalLinkView,
  type ApprovalState,
  type DecideRequest,
  type DecideResult,
  type DecisionOutcome,
} from '../../domain/definitions.js';
import { escapeMarkdown } from '../../domain/markdown.js';
import type { Person, StepKey } from '../../domain/schemas.js';
import { addDuration, dateInWords, dateInWordsAndUtc } from '../../domain/timeline.js';
import type { Documents } from './documents.js';
import type { Effects } from './effects.js';
import type { Links } from './links.js';
import type { Notices } from './notices.js';
import { conflict, invalid, notFound, nowIso, type RunbookState } from './state.js';

/** Sends a pending request's links to the given approvers, for the named round. */
export type LinkSender = (approvers: Person[], round: string) => Promise<void>;

export class Approvals {
  /** Steps whose rejected approval an operator asked to request again. */
  readonly reRequested = new Set<StepKey>();
  /** The link senders of pending requests, so a newly assigned approver gets a link too. */
  readonly pendingSenders = new Map<string, LinkSender>();

  constructor(
    private readonly runbook: RunbookState,
    private readonly effects: Effects,
    private readonly links: Links,
    private readonly notices: Notices,
    private readonly documents: Documents,
  ) {
    setHandler(approvalLinkQuery, (tokenHash) => this.linkView(tokenHash));
    setHandler(decideUpdate, (request) => this.decide(request), {
      validator: (request) => {
        const refused = this.refusal(request);
        if (refused) throw refused;
      },
    });
    setHandler(
      decideBatchUpdate,
      ({ items }) => ({ outcomes: items.map((request) => this.decideInBatch(request)) }),
      {
        // Only a malformed batch is refused whole: a refused decision must not take the others with it.
        validator: ({ items }) => {
          if (!Array.isArray(items) || items.length === 0 || items.length > maxDecisionBatch)
            throw invalid(`a batch holds 1 to ${maxDecisionBatch} decisions`);
          if (items.some((item) => item.audit?.v !== 1 || item.audit.event !== 'decision'))
            throw invalid('every decision of a batch carries its audit marker');
        },
      },
    );
  }

  /** Why a decision cannot be taken now (the validator's refusal), or null when it can. */
  private refusal(request: DecideRequest): ApplicationFailure | null {
    const view = this.linkView(request.tokenHash);
    if (!view) return notFound('this link is not known');
    if (view.status !== 'pending') return conflict(`nothing to decide: this request is ${view.status}`);
    if (request.decision !== 'approve' && request.decision !== 'reject')
      return invalid('decision must be approve or reject');
    return null;
  }

  /**
   * One decision of a batch, checked when its turn comes (after the ones before it in the batch), so
   * a second press or a press after the request settled is refused exactly as it would be alone.
   */
  private decideInBatch(request: DecideRequest): DecisionOutcome {
    const refused = this.refusal(request);
    if (!refused) return { ok: true, result: this.decide(request) };
    return { ok: false, failure: { type: refused.type ?? failureTypes.invalid, message: refused.message } };
  }

  private linkView(tokenHash: string): ApprovalLinkView | null {
    const { state, request } = this.runbook;
    const link = this.links.of(tokenHash, 'approval');
    const approval = link && state.approvals.find((candidate) => candidate.requestId === link.requestId);
    if (!link || !approval) return null;
    const own = approval.decisions.find((decision) => decision.approver === link.approver);
    const strip = ({ ip: _ip, userAgent: _userAgent, ...decision }: ApprovalState['decisions'][number]) =>
      decision;
    let status: ApprovalLinkView['status'] = 'pending';
    if (approval.status === 'superseded' || !approval.approvers.includes(link.approver))
      status = 'superseded';
    else if (own) status = 'decided';
    else if (approval.status !== 'pending') status = 'settled';
    return {
      ...this.runbook.contacts(),
      step: approval.step,
      items: approvalItems(approval.step, request.scope),
      approver: link.approver,
      status,
      approval: { ...approval, decisions: approval.decisions.map(strip) },
      ownDecision: own ? strip(own) : undefined,
    };
  }

  private decide(request: DecideRequest): DecideResult {
    const link = this.links.of(request.tokenHash, 'approval')!;
    const approval = this.runbook.state.approvals.find(
      (candidate) => candidate.requestId === link.requestId,
    )!;
    approval.decisions.push({
      approver: link.approver,
      decision: request.decision,
      comment: request.comment,
      decidedAt: nowIso(),
      ip: request.ip,
      userAgent: request.userAgent,
    });
    const approvedBy = new Set(
      approval.decisions.filter((d) => d.decision === 'approve').map((d) => d.approver),
    );
    if (request.decision === 'reject') approval.status = 'rejected';
    else if (approval.policy === 'any' || approval.approvers.every((approver) => approvedBy.has(approver))) {
      approval.status = 'approved';
    }
    if (approval.status !== 'pending') approval.settledAt = nowIso();
    return { step: approval.step, recorded: request.decision, approvalStatus: approval.status };
  }

  /**
   * Asks the client's approvers for a step until they approve. A rejection holds the step, writes
   * its document, tells the operators, and waits until an operator asks again (or cancels).
   * `summary` is Markdown: user text in it goes through escapeMarkdown.
   */
  async ask(key: StepKey, summary: string): Promise<ApprovalState> {
    const terms = this.runbook.request.terms;
    const title = this.runbook.titleOf(key);
    for (let attempt = 1; ; attempt++) {
      const approval = await this.requestOnce(key, summary, attempt);
      if (approval.status === 'approved') {
        this.runbook.setStepStatus(key, 'running');
        return approval;
      }
      this.runbook.setStepStatus(key, 'rejected');
      await this.documents.write(key, `${title}: rejection ${attempt}`, `rejected-${attempt}`, {
        outcome: 'rejected',
        approvals: [approval],
      });
      await this.notices.toOperators(
        `rejected:${key}:${attempt}`,
        `Rejected: ${title} for ${this.runbook.state.clientName}`,
        [
          `The client's approval of **${title}** was rejected${approval.decisions.length ? '' : ` (no decision before the deadline; onTimeout is ${terms.onTimeout})`}.`,
          ...approval.decisions.map(
            (d) =>
              `${escapeMarkdown(d.approver)} decided ${d.decision}: ${escapeMarkdown(d.comment || '(no comment)')}`,
          ),
          'The runbook holds at this step. Ask again with POST /v1/transitions/:id/steps/:step/request-approval, or cancel.',
        ],
      );
      await condition(() => this.reRequested.has(key));
      this.reRequested.delete(key);
      this.runbook.setStepStatus(key, 'running');
    }
  }

  private async requestOnce(key: StepKey, summary: string, attempt: number): Promise<ApprovalState> {
    const { state, request } = this.runbook;
    const terms = request.terms;
    const requestedAt = nowIso();
    const deadline = addDuration(requestedAt, terms.approvalTimeout);
    const approval: ApprovalState = {
      requestId: `${key}-${attempt}`,
      step: key,
      title: this.runbook.titleOf(key),
      status: 'pending',
      policy: terms.approvalPolicy,
      requestedAt,
      deadline,
      remindersSent: 0,
      approvers: request.contacts.approvers.map((person) => person.email),
      decisions: [],
    };
    state.approvals.push(approval);
    this.runbook.setStepStatus(key, 'awaiting-approval');
    // Links stay valid past the deadline when the request escalates and keeps waiting.
    const expiresAt = addDuration(deadline, terms.onTimeout === 'escalate' ? terms.approvalTimeout : 'PT0S');
    const send: LinkSender = async (approvers, round) => {
      const issued = await this.effects.sendLinks({
        audit: { v: 1, event: 'links' },
        transitionId: state.id,
        purpose: 'approval',
        template: 'approval-request',
        requestId: approval.requestId,
        round,
        approvers,
        expiresAt,
        data: {
          kind: state.kind,
          clientName: state.clientName,
          step: key,
          title: approval.title,
          summary,
          requestedBy: request.requestedBy,
          deadlineLocal: dateInWords(deadline, state.timezone),
          expiresLocal: dateInWords(expiresAt, state.timezone),
        },
      });
      this.links.remember('approval', approval.requestId, issued);
    };
    const undecided = () =>
      this.runbook.approvers.filter(
        (person) =>
          approval.approvers.includes(person.email) &&
          !approval.decisions.some((d) => d.approver === person.email),
      );
    this.pendingSenders.set(approval.requestId, send);
    await send(undecided(), 'request');
    const settled = () => approval.status !== 'pending';
    await this.remindUntilDeadline(approval, settled, () =>
      send(undecided(), `reminder-${approval.remindersSent}`),
    );
    if (!settled()) {
      if (terms.onTimeout === 'reject') {
        approval.status = 'rejected';
        approval.settledAt = nowIso();
      } else {
        approval.escalatedAt = nowIso();
        await this.notices.toOperators(
          `escalated:${approval.requestId}`,
          `Escalation: no decision on ${approval.title} for ${state.clientName}`,
          [
            `No approver decided on **${approval.title}** before the deadline, ${dateInWordsAndUtc(deadline, state.timezone)}.`,
            `Approvers: ${escapeMarkdown(approval.approvers.join(', '))}. The runbook keeps waiting for their decision.`,
          ],
          'escalation',
        );
        await condition(settled);
      }
    }
    this.pendingSenders.delete(approval.requestId);
    return approval;
  }

  /** Reminds every `reminderInterval` until the request settles or its deadline passes. */
  private async remindUntilDeadline(
    approval: ApprovalState,
    settled: () => boolean,
    remind: () => Promise<void>,
  ): Promise<void> {
    const interval = this.runbook.request.terms.reminderInterval;
    const deadline = Date.parse(approval.deadline);
    let nextReminder = addDuration(approval.requestedAt, interval);
    while (!settled() && Date.now() < deadline) {
      const wakeAt = Math.min(Date.parse(nextReminder), deadline);
      const purpose = wakeAt < deadline ? 'reminder' : 'deadline';
      if (
        await condition(settled, Math.max(1, wakeAt - Date.now()), {
          summary: `approval ${purpose}: ${approval.requestId}`,
        })
      )
        break;
      if (Date.now() >= Date.parse(nextReminder) && Date.now() < deadline) {
        approval.remindersSent += 1;
        await remind();
        // After downtime several reminder instants may have passed: this was the one catch-up, and
        // the next reminder is a whole interval after it, never a burst.
        nextReminder = addDuration(nextReminder, interval);
        if (Date.parse(nextReminder) <= Date.now()) nextReminder = addDuration(nowIso(), interval);
      }
    }
  }
}
