/**
 * At most `limit` calls at a time per workflow, the rest waiting their turn in order. Temporal
 * refuses more than a few concurrent Updates of one workflow (history.maxInFlightUpdates, 10 by
 * default) and buffers only one query while a workflow task runs; the refused calls come back
 * RESOURCE_EXHAUSTED and retry on a growing backoff, which put seconds on the slowest of 50 approvers
 * pressing at once. Waiting here instead hands each call to Temporal as soon as there is room.
 * Per API process: several processes together may still exceed the limit, and then back off.
 */
export class WorkflowGates {
  private readonly gates = new Map<string, { running: number; waiting: (() => void)[] }>();

  constructor(private readonly limit: number) {}

  async run<T>(workflowId: string, call: () => Promise<T>): Promise<T> {
    let gate = this.gates.get(workflowId);
    if (!gate) {
      gate = { running: 0, waiting: [] };
      this.gates.set(workflowId, gate);
    }
    if (gate.running >= this.limit) await new Promise<void>((resolve) => gate.waiting.push(resolve));
    else gate.running++;
    try {
      return await call();
    } finally {
      // The turn passes straight to the next caller; the last one out forgets the workflow.
      const next = gate.waiting.shift();
      if (next) next();
      else if (--gate.running === 0) this.gates.delete(workflowId);
    }
  }
}

/**
 * Every call of this API process to one workflow shares these: Temporal's limits are per workflow.
 * Updates up to Temporal's own 10 in flight: another API process's extra ones back off and retry.
 */
export const workflowQueries = new WorkflowGates(1);
export const workflowUpdates = new WorkflowGates(10);
