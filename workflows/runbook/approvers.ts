// Operator controls over the client's approvers: ask again after a rejection, and replace an
// approver who left (their links stop working; the new person gets links of their own).
import {
  reassignApproverUpdate,
  requestApprovalUpdate,
  type ReassignApproverRequest,
} from '../../domain/definitions.js';
import type { Person } from '../../domain/schemas.js';
import type { Approvals } from './approvals.js';
import type { Controls } from './controls.js';
import { conflict, type RunbookState } from './state.js';

/** Mails a newly assigned approver their own links of another kind (intake, reveal). */
export type ReassignListener = (to: Person, round: string) => Promise<void>;

export class Approvers {
  private readonly listeners: ReassignListener[] = [];

  constructor(
    private readonly runbook: RunbookState,
    private readonly approvals: Approvals,
    controls: Controls,
  ) {
    controls.register(
      requestApprovalUpdate,
      (request) => {
        const step = runbook.state.steps.find((candidate) => candidate.key === request.step);
        if (!step || step.status !== 'rejected')
          throw conflict(`step ${request.step} is not held by a rejection`);
      },
      (request) => {
        approvals.reRequested.add(request.step);
        runbook.recordControl('approval-requested', request, { step: request.step });
      },
    );
    controls.register(
      reassignApproverUpdate,
      (request) => {
        if (!runbook.isApprover(request.from))
          throw conflict(`${request.from} is not an approver of this transition`);
        if (runbook.isApprover(request.to.email))
          throw conflict(`${request.to.email} is already an approver of this transition`);
      },
      (request) => this.reassign(request),
    );
  }

  /** Called after an approver is replaced, so open links of other kinds reach the new person too. */
  onReassigned(listener: ReassignListener): void {
    this.listeners.push(listener);
  }

  /**
   * Replaces an approver: the old person's links on pending requests stop working (the link view
   * finds them no longer among the request's approvers) and the new person gets a link of their own.
   */
  private async reassign(request: ReassignApproverRequest): Promise<void> {
    const { approvers, state } = this.runbook;
    const index = approvers.findIndex((person) => person.email === request.from);
    approvers.splice(index, 1, { ...request.to });
    const reassignment = state.controls.filter((c) => c.action === 'approver-reassigned').length + 1;
    const pending = state.approvals.filter(
      (approval) => approval.status === 'pending' && approval.approvers.includes(request.from),
    );
    for (const approval of pending) {
      approval.approvers = approval.approvers.map((email) =>
        email === request.from ? request.to.email : email,
      );
    }
    this.runbook.recordControl('approver-reassigned', request, { from: request.from, to: request.to.email });
    const round = `reassigned-${reassignment}`;
    for (const approval of pending)
      await this.approvals.pendingSenders.get(approval.requestId)?.([request.to], round);
    for (const listener of this.listeners) await listener(request.to, round);
  }
}
