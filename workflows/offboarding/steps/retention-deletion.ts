// Step 7: wait until deletion is due (warning ahead), the client approves, no legal hold is on; then
// every retained copy is deleted following NIST SP 800-88, and the certificate records how.
import type { Evidence, TaskState } from '../../../domain/definitions.js';
import type { DeletionCertificate, Performer, SanitizedDataSet } from '../../../domain/facts.js';
import { escapeMarkdown } from '../../../domain/markdown.js';
import { remindersBefore } from '../../../domain/timeline.js';
import { automationOf } from '../../runbook/automation.js';
import { nowIso } from '../../runbook/state.js';
import type { StepDefinition } from '../../runbook/step.js';
import type { OffboardingContext } from '../context.js';

export const retentionDeletion: StepDefinition<'retention-deletion', OffboardingContext> = {
  key: 'retention-deletion',
  title: 'Certificate of data deletion',
  approval: {
    when: 'once deletion is due, before anything is deleted',
    summary: ({ request }) =>
      `Approve the permanent deletion of every retained copy of your data (${escapeMarkdown(request.scope.dataSets.map((set) => set.description).join('; ') || 'no data set listed')}). This cannot be undone.`,
  },
  tasks: ({ request }) =>
    request.scope.dataSets.map((set) => ({
      id: set.id,
      title: `Delete every retained copy of ${set.description} following NIST SP 800-88; record method, tool and verification`,
      automation: automationOf(set, 'delete-data', { ...(set.source ? { source: set.source } : {}) }),
    })),
  async run(context, { approve, completeTasks }) {
    const { runbook, dates, remindAhead } = context;
    await runbook.timers.waitUntil('deletion', () => dates().deletionDueAt, {
      reminders: (deadline) => remindersBefore(dates().assistanceEndsAt, deadline),
      onReminder: remindAhead('deletion', 'Deletion of retained data'),
    });
    await approve();
    // Deletion never starts while a legal hold is on, even once approved.
    await runbook.timers.whileLegalHold();
    const deletionStartedAt = nowIso();
    const tasks = await completeTasks();
    return {
      deletionDueAt: dates().deletionDueAt,
      deletionStartedAt,
      certificate: certificateOf(context, tasks, deletionStartedAt),
    };
  },
};

/** The NIST SP 800-88 fields, from the deletion tasks' evidence and the client's approval. */
function certificateOf(
  { runbook, request }: OffboardingContext,
  tasks: TaskState[],
  deletionStartedAt: string,
): DeletionCertificate {
  const { dataSets } = request.scope;
  const approval = runbook.state.approvals
    .filter((a) => a.step === 'retention-deletion' && a.status === 'approved')
    .at(-1);
  const consent = (approval?.decisions ?? [])
    .filter((d) => d.decision === 'approve')
    .map(({ approver, decidedAt, comment }) => ({ approver, decidedAt, comment }));
  const pick = (field: 'method' | 'tool' | 'verification') =>
    [...new Set(tasks.map((task) => summaryOf(task.evidence)[field]).filter(Boolean))].join('; ') ||
    undefined;
  return {
    what: dataSets.map((set) => `${set.description} (${set.id})`).join('; ') || 'no data set in scope',
    method: pick('method'),
    tool: pick('tool'),
    verification: pick('verification'),
    performedBy: [...new Set(tasks.map((task) => task.completedBy))].join(', ') || undefined,
    validatedBy: approval?.decisions
      .filter((d) => d.decision === 'approve')
      .map((d) => d.approver)
      .join(', '),
    date:
      tasks
        .map((task) => task.completedAt!)
        .sort()
        .at(-1) ?? deletionStartedAt,
    dataSets: dataSets.map((set) => sanitizedDataSet(set, tasks)),
    consent,
    performers: performersOf(tasks),
  };
}

/** The summary's method, tool and verification of one task: its free-text fields, or its structured record. */
function summaryOf(
  evidence: Evidence | undefined,
): Partial<Record<'method' | 'tool' | 'verification', string>> {
  const record = evidence?.sanitization;
  return {
    method: evidence?.method ?? (record && `${record.category} (${record.technique})`),
    tool: evidence?.tool ?? (record && `${record.tool} ${record.toolVersion}`),
    verification:
      evidence?.verification ?? (record && `${record.verificationMethod}: ${record.verificationResult}`),
  };
}

/** Each key that completed a deletion task once, with the person it names. */
function performersOf(tasks: TaskState[]): Performer[] {
  const byKey = new Map<string, Performer>();
  for (const task of tasks)
    if (task.completedBy && !byKey.has(task.completedBy))
      byKey.set(task.completedBy, { key: task.completedBy, holder: task.completedByHolder });
  return [...byKey.values()];
}

/** Whether the task's record is its connector's own (done and verified), not typed by a person. */
function byConnector(task: TaskState | undefined): boolean {
  const automation = task?.automation;
  return !!automation?.evidence && task!.completedBy === `connector ${automation.connector}`;
}

/** A data set with the evidence of its own deletion task: the certificate lists each medium apart. */
function sanitizedDataSet(set: { id: string; description: string }, tasks: TaskState[]): SanitizedDataSet {
  const task = tasks.find((candidate) => candidate.assetId === set.id);
  const evidence = task?.evidence;
  return {
    id: set.id,
    description: set.description,
    status: task?.status ?? 'no task',
    performedBy: task?.completedBy,
    performer: task?.completedByHolder,
    completedAt: task?.completedAt,
    sanitization: evidence?.sanitization,
    recordedBy: task?.status !== 'completed' ? undefined : byConnector(task) ? 'connector' : 'person',
    ...(byConnector(task) ? { verifications: task!.automation!.evidence!.verifications } : {}),
    method: evidence?.method,
    tool: evidence?.tool,
    verification: evidence?.verification,
  };
}
