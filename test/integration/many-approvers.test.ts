import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrailEntry } from '../../audit/trail.js';
import type { TransitionState } from '../../domain/definitions.js';
import {
  approvalWithDecisions,
  approveAllAtOnce,
  askManyApprovers,
  openPages,
  pressAtOnce,
} from '../support/many-approvers.js';
import { auditorKey, startStack, waitForState, type Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

/** How many Updates of each name the run accepted. */
async function acceptedUpdates(id: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const event of (await stack.client.workflow.getHandle(id).fetchHistory()).events ?? []) {
    const name = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name;
    if (name) counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

describe('fifty approvers at once', () => {
  it('each gets a link by mail, and every decision of a policy-"all" approval is recorded', async () => {
    const { id, links } = await askManyApprovers(stack, 50);
    expect(new Set(links).size).toBe(50);

    const results = await approveAllAtOnce(links);
    expect(results.map((result) => result.status)).toEqual(links.map(() => 200));

    const approval = await approvalWithDecisions(stack, id, 50);
    expect(approval.decisions).toHaveLength(50);
    expect(new Set(approval.decisions.map((decision) => decision.approver)).size).toBe(50);
    expect(approval.status).toBe('approved');
  });

  it('presses sent together get the answers they get alone, and the trail and the document show each decision', async () => {
    const { id, links } = await askManyApprovers(stack, 50);
    // Pages left open: each approver may press again later.
    const csrfs = await openPages(links);
    const presses = links.map((link, i) => ({ link, decision: 'approve', comment: `approver ${i + 1}` }));
    // Five approvers press twice at once (a double click sends the same form twice): one press
    // decides, the other is refused, whichever comes first.
    presses.push(...presses.slice(0, 5));
    const results = await pressAtOnce(presses, csrfs);
    const alreadyDecided = 'Your decision was not recorded: nothing to decide: this request is decided.';
    for (const [i, link] of links.entries()) {
      const answers = results.filter((_, n) => presses[n]!.link === link);
      const statuses = answers.map((answer) => answer.status).sort();
      expect(statuses, `approver ${i + 1}`).toEqual(i < 5 ? [200, 409] : [200]);
      expect(answers.find((answer) => answer.status === 200)!.page).toContain('Decision recorded');
      for (const refused of answers.filter((answer) => answer.status === 409))
        expect(refused.page).toContain(alreadyDecided);
    }
    const updates = await acceptedUpdates(id);
    expect(updates.decideBatch, 'the presses went in batches').toBeLessThan(results.length / 2);

    // Alone, once the request is settled: the same refusal as a second press in a batch.
    await approvalWithDecisions(stack, id, 50);
    const [late] = await pressAtOnce([{ link: links[9]!, decision: 'reject', comment: 'too late' }], csrfs);
    expect(late!.status).toBe(409);
    expect(late!.page).toContain(alreadyDecided);

    const done = await waitForState<TransitionState>(stack, id, (state) =>
      state.steps.some((step) => step.key === 'data-export' && step.documentId !== undefined),
    );
    const approval = done.approvals.at(-1)!;
    expect(approval.status).toBe('approved');
    expect(
      approval.decisions.map((decision) => [decision.approver.split('@')[0], decision.comment]).sort(),
    ).toEqual(links.map((_, i) => [`approver-${i + 1}`, `approver ${i + 1}`]).sort());

    const trail = (await (
      await stack.call('GET', `/v1/transitions/${id}/audit`, undefined, auditorKey)
    ).json()) as { entries: TrailEntry[] };
    const decided = trail.entries.filter((entry) => entry.action === 'approval decided');
    expect(decided.map((entry) => [entry.actor, entry.step, entry.details.split(';')[0]]).sort()).toEqual(
      approval.decisions
        .map((decision) => [decision.approver, 'data-export', `approve: “${decision.comment}”`])
        .sort(),
    );
    for (const entry of decided) {
      const own = approval.decisions.find((decision) => decision.approver === entry.actor)!;
      expect(entry.details).toContain(`IP ${own.ip}`);
      expect(Math.abs(Date.parse(entry.at) - Date.parse(own.decidedAt))).toBeLessThan(1_000);
    }
    expect(decided.at(-1)!.details).toContain('now approved');

    const document = await (
      await stack.call(
        'GET',
        `/v1/transitions/${id}/documents/${done.steps.find((step) => step.key === 'data-export')!.documentId}`,
      )
    ).text();
    for (const decision of approval.decisions)
      expect(document).toMatch(
        new RegExp(
          `\\| ${decision.approver.replace(/[.]/g, '\\.')} \\| approve \\| .+ \\| ${decision.comment} \\|`,
        ),
      );
    expect(document).not.toContain('too late');
  });

  it('a batch that fails answers 503 to each of its presses, and pressed again each decision is recorded once', async () => {
    const { id, links } = await askManyApprovers(stack, 5);
    const csrfs = await openPages(links);
    const presses = links.map((link, i) => ({ link, decision: 'approve', comment: `approver ${i + 1}` }));
    await stack.stopWorker();
    let whileAway: Awaited<ReturnType<typeof pressAtOnce>>;
    try {
      // No worker runs the batch: the Update is not answered within its deadline.
      whileAway = await pressAtOnce(presses, csrfs);
    } finally {
      await stack.startWorker();
    }
    for (const answer of whileAway) {
      expect(answer.status).toBe(503);
      expect(answer.page).toContain('Your answer could not be confirmed right now');
    }

    // Temporal may still apply an Update it was not answered for: pressed again, each decision is
    // either recorded now or already was, and never twice.
    const again = await pressAtOnce(presses, csrfs);
    for (const answer of again) expect([200, 409]).toContain(answer.status);
    const approval = await approvalWithDecisions(stack, id, 5);
    expect(approval.status).toBe('approved');
    expect(approval.decisions.map((decision) => decision.comment).sort()).toEqual(
      presses.map((press) => press.comment).sort(),
    );
  }, 60_000);
});
