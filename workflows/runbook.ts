// Runbook machinery shared by the offboarding and onboarding workflows: the state every client
// reads, the operator controls, steps with their documents, and durable timers that re-arm when
// an operator extends a period. Deterministic: no I/O here, only activities do side effects.
import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  approvalLinkQuery,
  cancelUpdate,
  contactsQuery,
  completeTaskUpdate,
  decideUpdate,
  failureTypes,
  legalHoldUpdate,
  pauseUpdate,
  reassignApproverUpdate,
  releaseLegalHoldUpdate,
  resumeUpdate,
  searchAttributes,
  linkOpenedSignal,
  requestApprovalUpdate,
  stateQuery,
  type ApprovalState,
  type ApprovalLinkView,
  type ControlRecord,
  type DecideRequest,
  type DecideResult,
  type TaskState,
  type ControlRequest,
  type LinkOpened,
  type LinkPurpose,
  linkOpeningLimits,
  type ReassignApproverRequest,
  type RunbookInput,
  type TransitionContacts,
  type StepState,
  type StallState,
  type TransitionState,
  type TransitionStatus,
} from '../domain/definitions.js';
import type { UpdateDefinition } from '@temporalio/common';
import { escapeMarkdown } from '../domain/markdown.js';
import type { Person, StartRequest, StepKey } from '../domain/schemas.js';
import { addDuration, humanDate } from '../domain/timeline.js';
import { approvalItems } from '../domain/approval-items.js';
import { guardedActivities, sendStallNotice } from './activities.js';

export function nowIso(): string {
  // Date.now() is deterministic inside workflows: it is the time of the current workflow task.
  return new Date(Date.now()).toISOString();
}

export function conflict(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: failureTypes.conflict, message, nonRetryable: true });
}

export function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: failureTypes.invalid, message, nonRetryable: true });
}

/** What a step's body returns: the facts its document shows. */
export type StepFacts = Record<string, unknown>;

export interface TimerOptions {
  /** Called at each reminder instant that passes before the deadline; recomputed if the deadline moves. */
  reminders?: (deadline: string) => string[];
  onReminder?: (at: string, deadline: string) => Promise<void>;
}

/** What the workflow remembers of a link it mailed: never the token, only what it is for. */
export interface IssuedLinkRecord {
  purpose: LinkPurpose;
  /** The approval request id, or the credential id. */
  requestId: string;
  approver: string;
  /** For reveal links: the credential's reveal generation when the link was mailed. */
  generation?: number;
}

const evidenceExcerptLength = 280;

/** The message of an activity failure, from its cause (the activity's own error). */
function failureMessage(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  const message =
    cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error);
  return message.slice(0, 500);
}

function withEvidenceExcerpt(task: TaskState): TaskState {
  if (!task.evidence || task.evidence.text.length <= evidenceExcerptLength) return task;
  return {
    ...task,
    evidence: { ...task.evidence, text: `${task.evidence.text.slice(0, evidenceExcerptLength)}…` },
  };
}

/** How long a stalled side effect waits before its next round of retries: 30 s, doubling to 10 min. */
function stallRetryDelayMs(round: number): number {
  return Math.min(10 * 60_000, 30_000 * 2 ** (round - 1));
}

export class Runbook {
  readonly state: TransitionState;
  /** Every side effect of the runbook, each retried until it works and watched for stalls. */
  readonly effects = guardedActivities((activity, call) => this.effect(activity, call));
  /** Which pending call owns the stall shown in the state, so only that call's success clears it. */
  private stallOwner = 0;
  private nextStallOwner = 1;
  private statusBeforeStall: StepState['status'] | null = null;
  private readonly work = new CancellationScope();
  private cancelRequest: ControlRequest | undefined;
  private lastDocumentSha: string | null = null;
  /** The timer being waited on; its deadline is a function so an extension shows at once. */
  private activeTimer: { name: string; deadline: () => string } | null = null;
  /** SHA-256 of every link issued (approval, intake, reveal), to its request and person. Never the token itself. */
  private readonly links = new Map<string, IssuedLinkRecord>();
  /**
   * Link openings (a GET on the page): recorded, never taken as a decision. Anyone holding a link can
   * open it without limit, so only the first opening per link and user agent is kept, at most
   * `openingsPerLink` per link; the rest are only counted.
   */
  readonly linkOpenings: (IssuedLinkRecord & { at: string; ip: string; userAgent: string })[] = [];
  private readonly openingsByLink = new Map<string, { agents: Set<string>; notListed: number }>();
  /** Steps whose rejected approval an operator asked to request again. */
  private readonly reRequested = new Set<StepKey>();
  private titles: Partial<Record<StepKey, string>> = {};
  /** The client's approvers now: an operator may reassign one (the request keeps the original list). */
  readonly approvers: Person[];
  /** Sends an approval request's links to the given approvers; set while the request is pending. */
  private readonly linkSenders = new Map<string, (approvers: Person[], round: string) => Promise<void>>();
  /** Other link holders (intake, reveal) that mail a newly assigned approver their own links. */
  private readonly reassignListeners: ((to: Person, round: string) => Promise<void>)[] = [];

  constructor(
    readonly request: RunbookInput<StartRequest>,
    stepKeys: readonly StepKey[],
  ) {
    const startedAt = nowIso();
    this.approvers = request.contacts.approvers.map((person) => ({ ...person }));
    this.state = {
      id: workflowInfo().workflowId,
      kind: request.kind,
      clientId: request.client.id,
      clientName: request.client.name,
      timezone: request.client.timezone,
      status: 'running',
      startedBy: request.startedBy,
      currentStep: null,
      dates: { startedAt },
      paused: false,
      legalHold: false,
      steps: stepKeys.map((key) => ({ key, status: 'pending' })),
      tasks: [],
      approvals: [],
      credentials: [],
      nextTimer: null,
      controls: [],
    };
    this.registerControls();
    this.registerTasksAndApprovals();
  }

  private registerTasksAndApprovals(): void {
    setHandler(
      completeTaskUpdate,
      (request) => {
        const task = this.state.tasks.find((candidate) => candidate.id === request.taskId)!;
        task.status = 'completed';
        task.completedAt = nowIso();
        task.completedBy = request.actor;
        task.evidence = request.evidence;
        return task;
      },
      {
        validator: (request) => {
          const task = this.state.tasks.find((candidate) => candidate.id === request.taskId);
          if (!task)
            throw ApplicationFailure.create({
              type: failureTypes.notFound,
              message: `no task ${request.taskId}`,
            });
          if (task.status !== 'open') throw conflict(`task ${task.id} is already ${task.status}`);
          if (!request.evidence?.text?.trim()) throw invalid('evidence.text is required');
          if (task.evidenceNeeded === 'restore') {
            const restore = request.evidence.restore;
            if (!restore)
              throw invalid('evidence.restore (startedAt, endedAt, integrityCheck, verifiedBy) is required');
            if (!(Date.parse(restore.endedAt) >= Date.parse(restore.startedAt)))
              throw invalid('evidence.restore.endedAt must not be before startedAt');
          }
        },
      },
    );
    setHandler(approvalLinkQuery, (tokenHash) => this.linkView(tokenHash));
    setHandler(contactsQuery, () => this.contacts());
    setHandler(linkOpenedSignal, (opened) => this.recordOpening(opened));
    setHandler(decideUpdate, (request) => this.decide(request), {
      validator: (request) => {
        const view = this.linkView(request.tokenHash);
        if (!view)
          throw ApplicationFailure.create({ type: failureTypes.notFound, message: 'this link is not known' });
        if (view.status !== 'pending') throw conflict(`nothing to decide: this request is ${view.status}`);
        if (request.decision !== 'approve' && request.decision !== 'reject')
          throw invalid('decision must be approve or reject');
      },
    });
    this.registerControl(
      requestApprovalUpdate,
      (request) => {
        const step = this.state.steps.find((candidate) => candidate.key === request.step);
        if (!step || step.status !== 'rejected')
          throw conflict(`step ${request.step} is not held by a rejection`);
      },
      (request) => {
        this.reRequested.add(request.step);
        this.recordControl('approval-requested', request, { step: request.step });
      },
    );
    this.registerControl(
      reassignApproverUpdate,
      (request) => {
        if (!this.approvers.some((person) => person.email === request.from))
          throw conflict(`${request.from} is not an approver of this transition`);
        if (this.approvers.some((person) => person.email === request.to.email))
          throw conflict(`${request.to.email} is already an approver of this transition`);
      },
      (request) => this.reassignApprover(request),
    );
  }

  /**
   * Replaces an approver: the old person's links on pending requests stop working (the link view
   * finds them no longer among the request's approvers) and the new person gets a link of their own.
   */
  private async reassignApprover(request: ReassignApproverRequest): Promise<void> {
    const index = this.approvers.findIndex((person) => person.email === request.from);
    this.approvers.splice(index, 1, { ...request.to });
    const reassignment = this.state.controls.filter((c) => c.action === 'approver-reassigned').length + 1;
    const pending = this.state.approvals.filter(
      (approval) => approval.status === 'pending' && approval.approvers.includes(request.from),
    );
    for (const approval of pending) {
      approval.approvers = approval.approvers.map((email) =>
        email === request.from ? request.to.email : email,
      );
    }
    this.recordControl('approver-reassigned', request, { from: request.from, to: request.to.email });
    for (const approval of pending) {
      await this.linkSenders.get(approval.requestId)?.([request.to], `reassigned-${reassignment}`);
    }
    for (const listener of this.reassignListeners) await listener(request.to, `reassigned-${reassignment}`);
  }

  /** Called after an approver is replaced, so open links of other kinds reach the new person too. */
  onApproverReassigned(listener: (to: Person, round: string) => Promise<void>): void {
    this.reassignListeners.push(listener);
  }

  private recordOpening(opened: LinkOpened): void {
    const link = this.links.get(opened.tokenHash);
    if (!link) return;
    const userAgent = opened.userAgent.slice(0, linkOpeningLimits.userAgentLength);
    const seen = this.openingsByLink.get(opened.tokenHash) ?? { agents: new Set<string>(), notListed: 0 };
    this.openingsByLink.set(opened.tokenHash, seen);
    if (seen.agents.has(userAgent)) return;
    if (seen.agents.size >= linkOpeningLimits.perLink) {
      seen.notListed += 1;
      return;
    }
    seen.agents.add(userAgent);
    this.linkOpenings.push({ ...link, at: nowIso(), ip: opened.ip.slice(0, 64), userAgent });
  }

  /** Openings of links of these requests that were counted but not listed. */
  private openingsNotListed(requestIds: Set<string>): number {
    let count = 0;
    for (const [tokenHash, seen] of this.openingsByLink) {
      if (requestIds.has(this.links.get(tokenHash)!.requestId)) count += seen.notListed;
    }
    return count;
  }

  /** Remembers links just mailed, by the SHA-256 of their tokens. */
  rememberLinks(
    purpose: LinkPurpose,
    requestId: string,
    issued: { tokenHash: string; approver: string }[],
    generation?: number,
  ) {
    for (const link of issued)
      this.links.set(link.tokenHash, {
        purpose,
        requestId,
        approver: link.approver,
        ...(generation ? { generation } : {}),
      });
  }

  /** Who the client's pages name, and whom they tell the client to contact. */
  contacts(): TransitionContacts {
    return {
      transitionId: this.state.id,
      kind: this.state.kind,
      clientName: this.state.clientName,
      timezone: this.state.timezone,
      requestedBy: this.request.requestedBy,
      operators: this.request.contacts.operators,
    };
  }

  /** The link behind a token hash, when it is of the expected purpose. */
  linkOf(tokenHash: string, purpose: LinkPurpose): IssuedLinkRecord | undefined {
    const link = this.links.get(tokenHash);
    return link?.purpose === purpose ? link : undefined;
  }

  isApprover(email: string): boolean {
    return this.approvers.some((person) => person.email === email);
  }

  private linkView(tokenHash: string): ApprovalLinkView | null {
    const link = this.linkOf(tokenHash, 'approval');
    const approval = link && this.state.approvals.find((candidate) => candidate.requestId === link.requestId);
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
      ...this.contacts(),
      step: approval.step,
      items: approvalItems(approval.step, this.request.scope),
      approver: link.approver,
      status,
      approval: { ...approval, decisions: approval.decisions.map(strip) },
      ownDecision: own ? strip(own) : undefined,
    };
  }

  private decide(request: DecideRequest): DecideResult {
    const link = this.linkOf(request.tokenHash, 'approval')!;
    const approval = this.state.approvals.find((candidate) => candidate.requestId === link.requestId)!;
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
   * Asks the client's approvers for a step (DESIGN §4): a personal link to each, reminders every
   * `reminderInterval` until `approvalTimeout`, then `onTimeout`. A rejection holds the step, writes
   * its document, tells the operators, and waits until an operator asks again (or cancels).
   * `summary` is Markdown: user text in it goes through escapeMarkdown.
   */
  async approval(key: StepKey, summary: string): Promise<ApprovalState> {
    const terms = this.request.terms;
    for (let attempt = 1; ; attempt++) {
      const approval = await this.requestOnce(key, summary, attempt);
      if (approval.status === 'approved') return approval;
      this.setStepStatus(key, 'rejected');
      await this.writeStepDocument(key, `${this.titleOf(key)}: rejection ${attempt}`, `rejected-${attempt}`, {
        outcome: 'rejected',
        approvals: [approval],
      });
      await this.notifyOperators(
        `rejected:${key}:${attempt}`,
        `Rejected: ${this.titleOf(key)} for ${this.state.clientName}`,
        [
          `The client's approval of **${this.titleOf(key)}** was rejected${approval.decisions.length ? '' : ` (no decision before the deadline; onTimeout is ${terms.onTimeout})`}.`,
          ...approval.decisions.map(
            (d) =>
              `${escapeMarkdown(d.approver)} decided ${d.decision}: ${escapeMarkdown(d.comment || '(no comment)')}`,
          ),
          'The runbook holds at this step. Ask again with POST /v1/transitions/:id/steps/:step/request-approval, or cancel.',
        ],
      );
      await condition(() => this.reRequested.has(key));
      this.reRequested.delete(key);
      this.setStepStatus(key, 'running');
    }
  }

  private async requestOnce(key: StepKey, summary: string, attempt: number): Promise<ApprovalState> {
    const terms = this.request.terms;
    const requestedAt = nowIso();
    const deadline = addDuration(requestedAt, terms.approvalTimeout);
    const approval: ApprovalState = {
      requestId: `${key}-${attempt}`,
      step: key,
      title: this.titleOf(key),
      status: 'pending',
      policy: terms.approvalPolicy,
      requestedAt,
      deadline,
      remindersSent: 0,
      approvers: this.request.contacts.approvers.map((person) => person.email),
      decisions: [],
    };
    this.state.approvals.push(approval);
    this.setStepStatus(key, 'awaiting-approval');
    // Links stay valid past the deadline when the request escalates and keeps waiting.
    const expiresAt = addDuration(deadline, terms.onTimeout === 'escalate' ? terms.approvalTimeout : 'PT0S');
    const send = async (approvers: Person[], round: string) => {
      const issued = await this.effects.sendLinks({
        transitionId: this.state.id,
        purpose: 'approval',
        template: 'approval-request',
        requestId: approval.requestId,
        round,
        approvers,
        expiresAt,
        data: {
          kind: this.state.kind,
          clientName: this.state.clientName,
          step: key,
          title: approval.title,
          summary,
          requestedBy: this.request.requestedBy,
          deadline,
          deadlineLocal: humanDate(deadline, this.state.timezone),
          expiresLocal: humanDate(expiresAt, this.state.timezone),
        },
      });
      this.rememberLinks('approval', approval.requestId, issued);
    };
    const undecided = () =>
      this.approvers.filter(
        (person) =>
          approval.approvers.includes(person.email) &&
          !approval.decisions.some((d) => d.approver === person.email),
      );
    this.linkSenders.set(approval.requestId, send);
    await send(undecided(), 'request');
    const settled = () => approval.status !== 'pending';
    const interval = terms.reminderInterval;
    let nextReminder = addDuration(requestedAt, interval);
    while (!settled() && Date.now() < Date.parse(deadline)) {
      const wakeAt = Math.min(Date.parse(nextReminder), Date.parse(deadline));
      const purpose = wakeAt < Date.parse(deadline) ? 'reminder' : 'deadline';
      if (
        await condition(settled, Math.max(1, wakeAt - Date.now()), {
          summary: `approval ${purpose}: ${approval.requestId}`,
        })
      )
        break;
      if (Date.now() >= Date.parse(nextReminder) && Date.now() < Date.parse(deadline)) {
        approval.remindersSent += 1;
        await send(undecided(), `reminder-${approval.remindersSent}`);
        // After downtime several reminder instants may have passed: this was the one catch-up, and
        // the next reminder is a whole interval after it, never a burst.
        nextReminder = addDuration(nextReminder, interval);
        if (Date.parse(nextReminder) <= Date.now()) nextReminder = addDuration(nowIso(), interval);
      }
    }
    if (!settled()) {
      if (terms.onTimeout === 'reject') {
        approval.status = 'rejected';
        approval.settledAt = nowIso();
      } else {
        approval.escalatedAt = nowIso();
        await this.notifyOperators(
          `escalated:${approval.requestId}`,
          `Escalation: no decision on ${approval.title} for ${this.state.clientName}`,
          [
            `No approver decided on **${approval.title}** before the deadline (${deadline}).`,
            `Approvers: ${escapeMarkdown(approval.approvers.join(', '))}. The runbook keeps waiting for their decision.`,
          ],
        );
        await condition(settled);
      }
    }
    this.linkSenders.delete(approval.requestId);
    return approval;
  }

  /** A manual task per asset, emailed to the operators; the step waits until each is completed. */
  async tasks(
    key: StepKey,
    assets: { id: string; title: string; evidenceNeeded?: TaskState['evidenceNeeded'] }[],
  ): Promise<TaskState[]> {
    if (assets.length === 0) return [];
    const tasks: TaskState[] = assets.map((asset) => ({
      id: `${key}.${asset.id}`,
      step: key,
      assetId: asset.id,
      title: asset.title,
      status: 'open',
      ...(asset.evidenceNeeded ? { evidenceNeeded: asset.evidenceNeeded } : {}),
      createdAt: nowIso(),
    }));
    this.state.tasks.push(...tasks);
    this.setStepStatus(key, 'awaiting-task');
    await this.effects.sendEmail({
      idempotencyKey: `${this.state.id}:${key}:tasks`,
      to: this.request.contacts.operators.map((person) => person.email),
      template: 'tasks',
      data: {
        transitionId: this.state.id,
        clientName: this.state.clientName,
        step: key,
        title: this.titleOf(key),
        tasks,
      },
    });
    await condition(() => tasks.every((task) => task.status !== 'open'));
    this.setStepStatus(key, 'running');
    return tasks;
  }

  /** A plain notice to the operators (escalations, rejections), once per key. */
  async notifyOperators(key: string, subject: string, paragraphs: string[]): Promise<void> {
    await this.notify(
      key,
      this.request.contacts.operators.map((p) => p.email),
      subject,
      paragraphs,
    );
  }

  /** An email notice: `subject` and `rows` are text; `paragraphs` are Markdown, user text in them escaped. */
  async notify(
    key: string,
    to: string[],
    subject: string,
    paragraphs: string[],
    rows: { label: string; value: string }[] = [],
  ) {
    const operators = new Set(this.request.contacts.operators.map((person) => person.email));
    await this.effects.sendEmail({
      idempotencyKey: `${this.state.id}:${key}`,
      to,
      template: 'notice',
      // Only operators hold an API key: a client's copy carries no link they cannot open.
      data: {
        subject,
        paragraphs,
        rows,
        transitionId: this.state.id,
        forOperators: to.every((email) => operators.has(email)),
      },
    });
  }

  titleOf(key: StepKey): string {
    return this.titles[key] ?? key;
  }

  /** Records an attributed control (who, why, when) in the state every client reads. */
  recordControl(
    action: ControlRecord['action'],
    request: ControlRequest,
    details?: Record<string, string>,
  ): void {
    this.state.controls.push({ action, actor: request.actor, reason: request.reason, at: nowIso(), details });
  }

  /**
   * The state as clients see it, with the next timer computed from the current dates. Task evidence
   * is cut to an excerpt (the documents carry it whole), so the answer stays small at any scope.
   */
  snapshot(): TransitionState {
    const timer = this.activeTimer;
    return {
      ...this.state,
      tasks: this.state.tasks.map(withEvidenceExcerpt),
      nextTimer: timer ? { name: timer.name, firesAt: timer.deadline() } : null,
    };
  }

  private requireRunning(): void {
    if (this.state.status !== 'running' || this.cancelRequest) {
      throw conflict(`the transition is ${this.cancelRequest ? 'being cancelled' : this.state.status}`);
    }
  }

  /** Adds an attributed control handler; the validator rejects it (changing nothing) when it does not apply. */
  registerControl<Args extends ControlRequest>(
    update: UpdateDefinition<TransitionState, [Args]>,
    check: (request: Args) => void,
    apply: (request: Args) => void | Promise<void>,
  ): void {
    setHandler(
      update,
      async (request: Args) => {
        await apply(request);
        return this.snapshot();
      },
      {
        validator: (request: Args) => {
          if (!request.reason?.trim()) throw invalid('a reason is required');
          this.requireRunning();
          check(request);
        },
      },
    );
  }

  private registerControls(): void {
    setHandler(stateQuery, () => this.snapshot());
    this.registerControl(
      pauseUpdate,
      () => {
        if (this.state.paused) throw conflict('the transition is already paused');
      },
      (request) => {
        this.state.paused = true;
        this.recordControl('paused', request);
      },
    );
    this.registerControl(
      resumeUpdate,
      () => {
        if (!this.state.paused) throw conflict('the transition is not paused');
      },
      (request) => {
        this.state.paused = false;
        this.recordControl('resumed', request);
      },
    );
    this.registerControl(
      legalHoldUpdate,
      () => {
        if (this.state.legalHold) throw conflict('a legal hold is already in place');
      },
      (request) => {
        this.state.legalHold = true;
        this.recordControl('legal-hold-placed', request);
      },
    );
    this.registerControl(
      releaseLegalHoldUpdate,
      () => {
        if (!this.state.legalHold) throw conflict('no legal hold is in place');
      },
      (request) => {
        this.state.legalHold = false;
        this.recordControl('legal-hold-released', request);
      },
    );
    this.registerControl(
      cancelUpdate,
      () => undefined,
      (request) => {
        this.cancelRequest = request;
        this.recordControl('cancelled', request);
        this.work.cancel();
      },
    );
  }

  /**
   * Runs a side effect until it works. When its own retries run out (SMTP down, a full disk, a broken
   * template), the step shows as `stalled` with the last error, the operators are told once, and
   * the call is tried again after a growing pause: the runbook goes on by itself once the fault clears.
   */
  private async effect<T>(activity: string, call: () => Promise<T>): Promise<T> {
    const owner = this.nextStallOwner++;
    for (let round = 1; ; round++) {
      try {
        const result = await call();
        if (this.stallOwner === owner) this.clearStall();
        return result;
      } catch (error) {
        if (isCancellation(error)) throw error;
        await this.markStalled(owner, activity, error, round);
        await sleep(stallRetryDelayMs(round));
      }
    }
  }

  private async markStalled(owner: number, activity: string, error: unknown, round: number): Promise<void> {
    const lastError = failureMessage(error);
    if (this.stallOwner !== owner) {
      this.stallOwner = owner;
      const step = this.state.currentStep;
      if (step) {
        this.statusBeforeStall = this.stepState(step).status;
        this.setStepStatus(step, 'stalled');
      }
      this.state.stalled = {
        step,
        activity,
        lastError,
        since: nowIso(),
        rounds: 0,
        operatorsNotified: false,
      };
      upsertSearchAttributes({ [searchAttributes.stalled.name]: [step ?? 'transition'] });
    }
    const stalled = this.state.stalled!;
    stalled.lastError = lastError;
    stalled.rounds = round;
    if (!stalled.operatorsNotified) stalled.operatorsNotified = await this.tellOperatorsOfStall(stalled);
  }

  /** Best effort: the fault may be the mail server itself; the state and /metrics show the stall anyway. */
  private async tellOperatorsOfStall(stalled: StallState): Promise<boolean> {
    const where = stalled.step ? `the step ${this.titleOf(stalled.step)}` : 'the transition';
    try {
      await sendStallNotice({
        idempotencyKey: `${this.state.id}:stalled:${stalled.activity}:${stalled.since}`,
        to: this.request.contacts.operators.map((person) => person.email),
        template: 'notice',
        data: {
          subject: `Stalled: ${where} for ${this.state.clientName}`,
          paragraphs: [
            `${where} of \`${this.state.id}\` is stalled since ${stalled.since}: \`${stalled.activity}\` keeps failing.`,
            `Last error: ${stalled.lastError}`,
            'The runbook tries again by itself, less and less often (up to every 10 minutes), and goes on as soon as it works. Fix the cause (mail server, disk, configuration); nothing else is needed.',
          ],
          rows: [],
          transitionId: this.state.id,
          forOperators: true,
        },
      });
      return true;
    } catch (error) {
      if (isCancellation(error)) throw error;
      return false;
    }
  }

  private clearStall(): void {
    const step = this.state.stalled?.step;
    if (step && this.statusBeforeStall && this.stepState(step).status === 'stalled')
      this.setStepStatus(step, this.statusBeforeStall);
    delete this.state.stalled;
    this.stallOwner = 0;
    this.statusBeforeStall = null;
    upsertSearchAttributes({ [searchAttributes.stalled.name]: [] });
  }

  private publish(): void {
    upsertSearchAttributes({
      [searchAttributes.transitionStatus.name]: [this.state.status],
      [searchAttributes.currentStep.name]: this.state.currentStep ? [this.state.currentStep] : [],
    });
  }

  stepState(key: StepKey): StepState {
    const step = this.state.steps.find((candidate) => candidate.key === key);
    if (!step) throw ApplicationFailure.nonRetryable(`unknown step ${key}`);
    return step;
  }

  setStepStatus(key: StepKey, status: StepState['status']): void {
    this.stepState(key).status = status;
  }

  /** Runs one step: waits while paused, marks it running, runs its body, writes its document. */
  async step(key: StepKey, title: string, body: () => Promise<StepFacts>): Promise<void> {
    this.titles[key] = title;
    await condition(() => !this.state.paused);
    const step = this.stepState(key);
    step.status = 'running';
    step.startedAt = nowIso();
    this.state.currentStep = key;
    this.publish();
    let facts: StepFacts;
    try {
      facts = await body();
    } catch (error) {
      step.status = isCancellation(error) ? 'skipped' : 'failed';
      step.finishedAt = nowIso();
      await CancellationScope.nonCancellable(() =>
        this.writeStepDocument(key, title, undefined, {
          outcome: isCancellation(error) ? 'cancelled' : 'failed',
        }),
      );
      throw error;
    }
    step.status = 'completed';
    step.finishedAt = nowIso();
    await this.writeStepDocument(key, title, undefined, facts);
  }

  /**
   * Writes a step's document once, with what every document shows (its tasks, approvals and the
   * operator actions during the step); the chain links each to the previous one's SHA-256.
   */
  private async writeStepDocument(
    key: StepKey,
    title: string,
    suffix: string | undefined,
    facts: StepFacts,
  ): Promise<void> {
    const step = this.stepState(key);
    const index = this.state.steps.indexOf(step) + 1;
    const since = step.startedAt ?? this.state.dates.startedAt;
    const approvals = this.state.approvals.filter((approval) => approval.step === key);
    const requestIds = new Set([
      ...approvals.map((approval) => approval.requestId),
      ...this.state.credentials.filter((c) => c.step === key).map((c) => c.id),
    ]);
    // Only what the document shows travels: the step, not the whole state (payloads are bounded).
    const document = await this.effects.writeDocument({
      transitionId: this.state.id,
      kind: this.state.kind,
      step: key,
      documentId: `${String(index).padStart(2, '0')}-${key}${suffix ? `-${suffix}` : ''}`,
      title,
      previousSha256: this.lastDocumentSha,
      client: { id: this.state.clientId, name: this.state.clientName, timezone: this.state.timezone },
      stepState: { ...step },
      createdAt: step.finishedAt ?? nowIso(),
      facts: {
        tasks: this.state.tasks.filter((task) => task.step === key),
        credentials: this.state.credentials.filter((credential) => credential.step === key),
        approvals,
        linkOpenings: this.linkOpenings.filter((opening) => requestIds.has(opening.requestId)),
        linkOpeningsNotListed: this.openingsNotListed(requestIds),
        controls: this.state.controls.filter((control) => control.at >= since),
        ...facts,
      },
    });
    this.lastDocumentSha = document.sha256;
    if (!suffix) step.documentId = document.id;
    await this.effects.archiveHistory({ transitionId: this.state.id });
  }

  /**
   * Durable timer until `deadline()`, re-armed whenever the deadline moves (an extension). Reminders
   * fire at the instants `options.reminders` gives for the current deadline, each at most once.
   */
  async waitUntil(name: string, deadline: () => string, options: TimerOptions = {}): Promise<void> {
    const sent = new Set<string>();
    this.activeTimer = { name, deadline };
    for (;;) {
      const target = deadline();
      const now = Date.now();
      const due = (options.reminders?.(target) ?? []).filter(
        (at) => !sent.has(at) && Date.parse(at) > now - 1,
      );
      const nextReminder = due.find((at) => Date.parse(at) > now);
      const overdueReminder = due.find((at) => Date.parse(at) <= now);
      if (overdueReminder && options.onReminder) {
        sent.add(overdueReminder);
        await options.onReminder(overdueReminder, target);
        continue;
      }
      const wakeAt = nextReminder && Date.parse(nextReminder) < Date.parse(target) ? nextReminder : target;
      const remaining = Date.parse(wakeAt) - now;
      if (remaining <= 0) break;
      const summary = wakeAt === target ? name : `reminder before ${name}`;
      const moved = await condition(() => deadline() !== target, remaining, { summary });
      if (!moved && wakeAt === target) break;
      if (!moved && nextReminder && options.onReminder) {
        sent.add(nextReminder);
        await options.onReminder(nextReminder, target);
      }
    }
    this.activeTimer = null;
  }

  /** Deletion never starts while a legal hold is on; the state shows what it waits for. */
  async whileLegalHold(): Promise<void> {
    if (!this.state.legalHold) return;
    await condition(() => !this.state.legalHold);
  }

  private finish(status: TransitionStatus, outcome: string): void {
    this.state.status = status;
    this.state.outcome = outcome;
    this.state.currentStep = null;
    this.activeTimer = null;
    this.state.dates.finishedAt = nowIso();
    this.publish();
  }

  /**
   * The last copy of the history into the document store, so the audit trail outlives the engine's
   * retention. Nothing the trail shows happens after it (the trail leaves out the close event).
   */
  private async archiveAtClose(): Promise<void> {
    await CancellationScope.nonCancellable(() =>
      this.effects.archiveHistory({ transitionId: this.state.id }),
    );
  }

  /** Runs the steps inside a cancellable scope and settles the transition's final status. */
  async run(steps: () => Promise<void>): Promise<TransitionState> {
    this.publish();
    try {
      await this.work.run(steps);
      this.finish('completed', 'all steps completed');
    } catch (error) {
      if (this.cancelRequest && isCancellation(error)) {
        for (const step of this.state.steps) {
          if (step.status !== 'completed') step.status = 'skipped';
        }
        this.finish('cancelled', `cancelled by ${this.cancelRequest.actor}: ${this.cancelRequest.reason}`);
      } else {
        this.finish('failed', error instanceof Error ? error.message : String(error));
        await condition(allHandlersFinished);
        await this.archiveAtClose();
        throw error;
      }
    }
    await condition(allHandlersFinished);
    await this.archiveAtClose();
    return this.snapshot();
  }
}
