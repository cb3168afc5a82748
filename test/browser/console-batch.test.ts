// Completing many tasks at once from the console, pressed in Debian's Chromium: the operator chooses
// the CSV their spreadsheet exported, reads its rows in the box, and sends them; a file with a
// mistake names its line and completes nothing. Checked through the API afterwards.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskPage, TransitionState } from '../../domain/definitions.js';
import { offboardingBody, uniqueClientId } from '../factories.js';
import {
  expectFits,
  launchBrowser,
  viewports,
  type BrowserSession,
  type ViewportName,
} from '../support/browser.js';
import { operatorKey, startStack, waitForState, type Stack } from '../support/stack.js';

let stack: Stack;
let session: BrowserSession;

beforeAll(async () => {
  [stack, session] = await Promise.all([startStack(), launchBrowser()]);
}, 120_000);

afterAll(async () => {
  await session?.close();
  await stack?.stop();
});

const deviceCount = 150;

async function offboardingWaitingOnTasks(): Promise<string> {
  const clientId = uniqueClientId('batch');
  const devices = Array.from({ length: deviceCount }, (_, i) => ({
    id: `ws-${i}`,
    hostname: `ws-${i}.batch.example`,
    type: 'workstation',
    agents: ['rmm'],
  }));
  const body = offboardingBody({
    clientId,
    terms: { noticePeriod: 'PT1S', transitionPeriod: 'PT1H', retentionPeriod: 'PT1H' },
    scope: { devices, credentials: [], dataSets: [], backupJobs: [] },
    approvalSteps: [],
  });
  expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
  const id = `offboarding-${clientId}`;
  await waitForState<TransitionState>(stack, id, (state) => state.taskCounts?.open === deviceCount, 60_000);
  return id;
}

async function transitionPage(viewport: ViewportName, id: string): Promise<Page> {
  const page = await (await session.context(viewport)).newPage();
  await page.goto(`${stack.api.url}/console/transitions/${id}`);
  await page.getByLabel('API key').fill(operatorKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  await page.goto(`${stack.api.url}/console/transitions/${id}#tasks`);
  return page;
}

async function chooseCsv(page: Page, csv: string): Promise<void> {
  await page.getByText('Complete many tasks at once (CSV)').click();
  await page
    .getByLabel('A CSV file')
    .setInputFiles({ name: 'removed.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await expect.poll(() => page.getByLabel('Tasks and their evidence').inputValue()).toBe(csv);
}

const counts = async (id: string) =>
  ((await (await stack.call('GET', `/v1/transitions/${id}/tasks?limit=1`)).json()) as TaskPage).counts;

describe.each(Object.keys(viewports) as ViewportName[])(
  'batch completion in the console at %s size',
  (viewport) => {
    it('a CSV of every open task completes them all, each with its own evidence', async () => {
      const id = await offboardingWaitingOnTasks();
      const page = await transitionPage(viewport, id);
      expect(await page.getByRole('region', { name: 'Tasks', exact: true }).innerText()).toContain(
        `${deviceCount} open tasks`,
      );
      const rows = Array.from(
        { length: deviceCount },
        (_, i) => `agent-removal.ws-${i},"RMM removed from ws-${i}, check fails"`,
      );
      await chooseCsv(page, ['taskId,evidence', ...rows].join('\n'));
      await expectFits(page);
      await page.getByRole('button', { name: 'Complete these tasks' }).click();
      await page.getByText('Tasks completed').waitFor();
      await expectFits(page);
      expect(await counts(id)).toMatchObject({ open: 0, completed: deviceCount });
      // The page lists the latest 100 finished, newest first: the last rows of the file.
      const tasksRegion = await page.getByRole('region', { name: 'Tasks', exact: true }).innerText();
      expect(tasksRegion).toContain(`Finished tasks (${deviceCount}; the latest 100 below)`);
      expect(tasksRegion.indexOf('agent-removal.ws-149')).toBeLessThan(
        tasksRegion.indexOf('agent-removal.ws-50'),
      );
      expect(tasksRegion).not.toContain('agent-removal.ws-49');
      const tasks = (
        (await (await stack.call('GET', `/v1/transitions/${id}/tasks?limit=1000`)).json()) as TaskPage
      ).tasks;
      expect(tasks.find((task) => task.id === 'agent-removal.ws-77')).toMatchObject({
        status: 'completed',
        completedBy: 'ops',
        evidence: { text: 'RMM removed from ws-77, check fails' },
      });
    }, 120_000);

    it('a row with no evidence names its line, and nothing is completed', async () => {
      const id = await offboardingWaitingOnTasks();
      const page = await transitionPage(viewport, id);
      await chooseCsv(page, 'taskId,evidence\nagent-removal.ws-0,removed\nagent-removal.ws-1,\n');
      await page.getByRole('button', { name: 'Complete these tasks' }).click();
      await page
        .getByText(/Not done: .*line 3/)
        .first()
        .waitFor();
      expect(await counts(id)).toMatchObject({ open: deviceCount, completed: 0 });
    }, 120_000);
  },
);
