// Inputs anyone can send (a link opened hundreds of times with a huge user agent) or the API accepts
// at its largest (500 devices, 2,000-character evidence each) must never wedge a transition: the
// workflow keeps what it holds and sends to activities bounded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransitionState } from '../../domain/definitions.js';
import { offboardingBody, uniqueClientId } from '../factories.js';
import { csrfIn, linkIn, postForm } from '../support/links.js';
import { startStack, waitForState, type Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

/** Runs `work` over `items`, `parallel` at a time, as an operator's script would. */
async function inBatches<T>(items: T[], parallel: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += parallel) await Promise.all(items.slice(i, i + parallel).map(work));
}

describe('bounded workflow state', () => {
  it('300 openings of a link with an 8 KB user agent and 1,000 reloads by one, then Approve: recorded in at most 100 Signals, and the transition goes on', async () => {
    const clientId = uniqueClientId('opens');
    const body = offboardingBody({
      clientId,
      client: { id: clientId, name: `Opened ${clientId}`, timezone: 'UTC' },
      terms: { noticePeriod: 'PT1S', transitionPeriod: 'PT1S', retentionPeriod: 'PT1S' },
      approvalSteps: ['data-export'],
    });
    const id = `offboarding-${clientId}`;
    expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
    const mail = await stack.waitForMail(
      (m) => m.subject?.includes(body.client.name) === true && m.subject.startsWith('Approval needed'),
    );
    const link = linkIn(mail, 'approvals');
    const agents = Array.from({ length: 300 }, (_, i) => `Scanner/${i} ${'x'.repeat(8192)}`);
    const reloads = Array.from({ length: 1000 }, () => 'Reloading/1.0');
    await inBatches([...agents, ...reloads], 20, async (agent) => {
      expect((await fetch(link, { headers: { 'user-agent': agent } })).status).toBe(200);
    });
    // Every page was shown, but the run's history took a bounded number of openings.
    const { events } = await stack.client.workflow.getHandle(id).fetchHistory();
    const openingSignals = events!.filter(
      (event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'linkOpened',
    );
    expect(openingSignals).toHaveLength(100);
    const csrf = csrfIn(await (await fetch(link)).text());
    expect((await postForm(link, { decision: 'approve', comment: 'fine', csrf })).status).toBe(200);
    const done = await waitForState<TransitionState>(
      stack,
      id,
      (state) => state.status === 'completed',
      60_000,
    );
    expect(done.approvals[0]).toMatchObject({ status: 'approved' });
    const document = await (await stack.call('GET', `/v1/transitions/${id}/documents/02-data-export`)).text();
    const listed = document.split('\n').filter((line) => line.includes('Scanner/'));
    expect(listed.length).toBeLessThanOrEqual(10);
    expect(Math.max(...listed.map((line) => line.length))).toBeLessThan(1000);
    expect(listed).toHaveLength(10);
    expect(document).toContain('90 further openings not listed');
  }, 180_000);

  it('500 devices, each task done with 2,000-character evidence: every completion counts and the transition completes', async () => {
    const clientId = uniqueClientId('big');
    const devices = Array.from({ length: 500 }, (_, i) => ({
      id: `ws-${i}`,
      hostname: `ws-${i}.big.local`,
      type: 'workstation',
      agents: ['rmm', 'backup'],
    }));
    const body = offboardingBody({
      clientId,
      terms: { noticePeriod: 'PT1S', transitionPeriod: 'PT1S', retentionPeriod: 'PT1S' },
      scope: { devices, credentials: [], dataSets: [], backupJobs: [] },
      approvalSteps: [],
    });
    const id = `offboarding-${clientId}`;
    expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
    await waitForState<TransitionState>(stack, id, (state) => state.taskCounts?.open === 500, 60_000);
    await inBatches(devices, 8, async (device) => {
      const text = `${device.id}: removed, verified by the RMM console. ${'e'.repeat(2000)}`.slice(0, 2000);
      const answer = await stack.call(
        'POST',
        `/v1/transitions/${id}/tasks/agent-removal.${device.id}/complete`,
        {
          evidence: {
            text,
            url: `https://rmm.example/${device.id}`,
            method: 'uninstall',
            tool: 'RMM 12.4',
            verification: 'agent list empty',
          },
        },
      );
      expect([device.id, answer.status]).toEqual([device.id, 200]);
    });
    const done = await waitForState<TransitionState>(
      stack,
      id,
      (state) => state.status === 'completed',
      120_000,
    );
    expect(done.steps.every((step) => step.status === 'completed')).toBe(true);
    const document = await (
      await stack.call('GET', `/v1/transitions/${id}/documents/04-agent-removal`)
    ).text();
    expect(document).toContain('ws-499: removed, verified by the RMM console.');
    expect(document.match(/e{1900}/g)).toHaveLength(500);
  }, 300_000);
});
