// A client of thousands of devices, through the API as an operator's script would drive it: the
// scope goes by reference, the state counts the tasks and lists the first open ones, the tasks are
// read by pages and completed in batches, and no event of the run's history carries a large payload.
import protos from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchHistoryInPages } from '../../audit/history-pages.js';
import type { TaskPage, TransitionState } from '../../domain/definitions.js';
import { offboardingBody, uniqueClientId } from '../factories.js';
import { startStack, waitForState, type Stack } from '../support/stack.js';

const HistoryEvent = protos.temporal.api.history.v1.HistoryEvent;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

const deviceCount = Number(process.env.SCALE_DEVICES ?? 2_500);

async function json<T>(response: Response): Promise<T> {
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as T;
}

describe('a transition of thousands of devices', () => {
  it(`${deviceCount} devices: paged tasks, batch completion, every document and the audit; no large payload`, async () => {
    const clientId = uniqueClientId('fleet');
    const devices = Array.from({ length: deviceCount }, (_, i) => ({
      id: `ws-${i}`,
      hostname: `ws-${i}.fleet.example`,
      type: 'workstation',
      agents: ['rmm', 'backup'],
    }));
    const body = offboardingBody({
      clientId,
      client: { id: clientId, name: `Fleet ${clientId}`, timezone: 'UTC' },
      terms: { noticePeriod: 'PT1S', transitionPeriod: 'PT1S', retentionPeriod: 'PT1S' },
      scope: { devices, credentials: [], dataSets: [], backupJobs: [] },
      approvalSteps: [],
    });
    const id = `offboarding-${clientId}`;
    const path = `/v1/transitions/${id}`;
    expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);

    const waiting = await waitForState<TransitionState>(
      stack,
      id,
      (state) => state.taskCounts?.open === deviceCount,
      120_000,
    );
    expect(waiting.currentStep).toBe('agent-removal');
    expect(waiting.tasks).toHaveLength(100);
    expect(waiting.tasks[0]).toMatchObject({ id: 'agent-removal.ws-0', status: 'open' });

    const mail = await stack.waitForMail(
      (m) => m.subject === `Tasks to do: Agent removal record for Fleet ${clientId}`,
    );
    expect(mail.text).toContain('`agent-removal.ws-19`');
    expect(mail.text).not.toContain('`agent-removal.ws-20`');
    expect(mail.text).toContain(`and ${deviceCount - 20} more, ${deviceCount} in all`);

    // Every open task, a page at a time.
    const open: string[] = [];
    let cursor: string | null = null;
    do {
      const page: TaskPage = await json(
        await stack.call('GET', `${path}/tasks?status=open&limit=1000${cursor ? `&cursor=${cursor}` : ''}`),
      );
      open.push(...page.tasks.map((task) => task.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(open).toHaveLength(deviceCount);
    expect(new Set(open).size).toBe(deviceCount);
    expect((await stack.call('GET', `${path}/tasks?cursor=abc`)).status).toBe(400);
    expect((await stack.call('GET', `${path}/tasks?limit=5000`)).status).toBe(400);

    const item = (taskId: string) => ({ taskId, evidence: { text: `${taskId}: uninstalled, check fails` } });
    const complete = (ids: string[]) =>
      stack.call('POST', `${path}/tasks/complete`, { items: ids.map(item) });
    const openCount = async () =>
      (await json<TaskPage>(await stack.call('GET', `${path}/tasks?limit=1`))).counts;

    // A batch with an unknown, a repeated or a finished task changes nothing.
    expect((await complete([open[0]!, 'agent-removal.nope'])).status).toBe(404);
    expect((await complete([open[0]!, open[0]!])).status).toBe(400);
    expect((await openCount()).open).toBe(deviceCount);
    const first = await json<{ completed: number; counts: { open: number } }>(
      await complete(open.slice(0, 1000)),
    );
    expect(first).toMatchObject({ completed: 1000, counts: { open: deviceCount - 1000 } });
    const again = await complete([open[999]!, open[1000]!]);
    expect(again.status).toBe(409);
    expect(await again.text()).toContain(`${open[999]} (completed)`);
    expect((await openCount()).open).toBe(deviceCount - 1000);
    for (let start = 1000; start < deviceCount; start += 1000)
      await json(await complete(open.slice(start, start + 1000)));

    const done = await waitForState<TransitionState>(
      stack,
      id,
      (state) => state.status === 'completed',
      120_000,
    );
    expect(done.taskCounts).toEqual({ total: deviceCount, open: 0, completed: deviceCount, cancelled: 0 });

    const document = await (await stack.call('GET', `${path}/documents/04-agent-removal`)).text();
    expect(document).toContain(
      `| \`ws-${deviceCount - 1}\` | ws-${deviceCount - 1}.fleet.example | workstation | rmm, backup |`,
    );
    expect(document).toContain(`agent-removal.ws-${deviceCount - 1}: uninstalled, check fails`);
    const audit = await json<{ entries: { action: string }[] }>(await stack.call('GET', `${path}/audit`));
    expect(audit.entries.filter((entry) => entry.action === 'task completed')).toHaveLength(deviceCount);
    expect((await stack.call('GET', `${path}/audit?format=csv`)).status).toBe(200);

    const { runId } = await stack.client.workflow.getHandle(id).describe();
    const history = await fetchHistoryInPages(stack.client, { transitionId: id, runId });
    const sizes = (history.events ?? []).map((event) => HistoryEvent.encode(event).finish().length);
    expect(sizes.length).toBeLessThan(10_240);
    expect(Math.max(...sizes)).toBeLessThan(256 * 1024);
  }, 300_000);
});
