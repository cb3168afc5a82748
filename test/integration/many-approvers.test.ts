import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalWithDecisions, approveAllAtOnce, askManyApprovers } from '../support/many-approvers.js';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

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
});
