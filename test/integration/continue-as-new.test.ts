// A run whose history grows past its budget continues as new at its next step boundary, and nobody
// outside can tell but the audit trail: links mailed before still work, documents chain on, the state
// keeps every task, approval, extension and credential, no email goes twice, and the trail reads
// every part. The budget is set tiny here so a short offboarding continues several times.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow/index.js';
import type { RunbookInput, TaskPage, TransitionState } from '../../domain/definitions.js';
import type { OffboardingRequest } from '../../domain/schemas.js';
import { decodeHistory } from '../../audit/history-codec.js';
import { temporalCli } from '../../embedded/temporal.js';
import { archiveSweepScheduleId, ensureArchiveSweep } from '../../worker/archive-sweep-schedule.js';
import { bucketSanitization, offboardingBody, oneOfEach } from '../factories.js';
import { csrfIn, linkIn, postForm } from '../support/links.js';
import {
  expectFits,
  launchBrowser,
  viewports,
  type BrowserSession,
  type ViewportName,
} from '../support/browser.js';
import {
  auditorKey,
  operatorKey,
  startStack,
  validatorKey,
  waitForState,
  type Stack,
} from '../support/stack.js';

const execFileAsync = promisify(execFile);

let stack: Stack;
let session: BrowserSession;

beforeAll(async () => {
  [stack, session] = await Promise.all([startStack({ HISTORY_BUDGET_EVENTS: '100' }), launchBrowser()]);
}, 120_000);

afterAll(async () => {
  await session?.close();
  await stack?.stop();
});

const devices = Array.from({ length: 300 }, (_, index) => ({
  id: `ws-${String(index).padStart(3, '0')}`,
  hostname: `ws-${index}.acme.local`,
  type: 'workstation',
  agents: ['rmm'],
}));

/** Long enough that the carried task keeps only its start: the whole is in the step's document. */
const longEvidence = (id: string) =>
  `${id}: agent removed; uninstall log follows. ${'log line ok; '.repeat(120)}`;

async function workflowRuns(id: string) {
  const runs: { runId: string; status: string }[] = [];
  for await (const info of stack.client.workflow.list({ query: `WorkflowId = '${id}'` }))
    runs.push({ runId: info.runId, status: info.status.name });
  return runs;
}

/** The input a workflow run started with, decoded as the worker reads it. */
async function startInput(id: string, runId: string) {
  const history = await stack.client.workflow.getHandle(id, runId).fetchHistory();
  const started = history.events![0]!.workflowExecutionStartedEventAttributes!;
  return (await decodeArrayFromPayloads(
    stack.client.options.loadedDataConverter,
    started.input?.payloads ?? [],
  )) as RunbookInput<OffboardingRequest>[];
}

async function decideFromMail(title: string) {
  const mail = await stack.waitForMail((m) => m.subject === `Approval needed: ${title} for Acme Dental LLC`);
  const link = linkIn(mail, 'approvals');
  const page = await fetch(link);
  expect(page.status).toBe(200);
  const posted = await postForm(
    link,
    { decision: 'approve', comment: `ok: ${title}`, csrf: csrfIn(await page.text()) },
    { origin: new URL(link).origin },
  );
  expect(posted.status).toBe(200);
  return link;
}

async function completeTask(id: string, taskId: string, evidence: Record<string, unknown>, key?: string) {
  await waitForState<TransitionState>(stack, id, (state) =>
    state.tasks.some((task) => task.id === taskId && task.status === 'open'),
  );
  const route = `/v1/transitions/${id}/tasks/${taskId}/complete`;
  expect((await stack.call('POST', route, { evidence }, key)).status).toBe(200);
}

describe('a run that outgrows its history budget', () => {
  it('continues as new between steps and stays one transition to operators, clients and auditors', async () => {
    const body = offboardingBody({
      terms: {
        noticeReceivedAt: new Date().toISOString(),
        noticePeriod: 'PT4S',
        transitionPeriod: 'PT6S',
        retentionPeriod: 'PT2S',
        approvalTimeout: 'PT5M',
        reminderInterval: 'PT5M',
      },
      ...oneOfEach,
      scope: { ...oneOfEach.scope, devices },
    });
    const id = `offboarding-${body.client.id}`;
    const started = await stack.call('POST', '/v1/transitions', body);
    expect(started.status).toBe(201);

    // An extension early on must survive every continuation.
    const extended = await stack.call('POST', `/v1/transitions/${id}/extend`, {
      period: 'retentionPeriod',
      by: 'PT1S',
      reason: 'client asked for one more second',
    });
    expect(extended.status).toBe(200);
    const { dates } = (await extended.json()) as TransitionState;

    await completeTask(id, 'data-export.ehr-backups', { text: '12.4 GiB exported, sha256 9f2c' });
    const exportLink = await decideFromMail('Data export manifest');

    await decideFromMail('Agent removal record');
    // The data export's task and one per device.
    await waitForState<TransitionState>(stack, id, (state) => state.taskCounts?.total === 301);
    const open = (await (
      await stack.call('GET', `/v1/transitions/${id}/tasks?step=agent-removal&status=open&limit=1000`)
    ).json()) as TaskPage;
    const items = open.tasks.map((task) => ({
      taskId: task.id,
      evidence: { text: longEvidence(task.assetId) },
    }));
    expect(items).toHaveLength(300);
    for (let start = 0; start < items.length; start += 100) {
      const response = await stack.call('POST', `/v1/transitions/${id}/tasks/complete`, {
        items: items.slice(start, start + 100),
      });
      expect(response.status).toBe(200);
    }

    // By now the run has continued as new; the decided link of an earlier part still knows its request.
    await waitForState<TransitionState>(stack, id, (state) => state.currentStep === 'credential-rotation');
    const runs = await workflowRuns(id);
    expect(runs.filter((run) => run.status === 'CONTINUED_AS_NEW').length).toBeGreaterThanOrEqual(1);
    const exportPage = await fetch(exportLink);
    expect(exportPage.status).toBe(200);
    expect(await exportPage.text()).toContain('ok: Data export manifest');

    await decideFromMail('Credential rotation and access revocation record');
    await waitForState<TransitionState>(stack, id, (state) =>
      state.credentials.some((c) => c.id === 'domain-admin' && c.status === 'awaiting'),
    );
    const rotated = 'Rotated-Secret-After-Continue-4471';
    expect(
      (await stack.call('POST', `/v1/transitions/${id}/credentials/domain-admin`, { secret: rotated }))
        .status,
    ).toBe(201);
    const revealMail = await stack.waitForMail(
      (m) => !!m.subject?.startsWith('New credential ready: msp-admin'),
    );
    const revealLink = linkIn(revealMail, 'reveal');
    const revealed = await postForm(revealLink, { csrf: csrfIn(await (await fetch(revealLink)).text()) });
    expect(await revealed.text()).toContain(rotated);
    await completeTask(id, 'credential-rotation.domain-admin', { text: 'old account disabled' });

    await decideFromMail('Certificate of data deletion');
    await completeTask(id, 'retention-deletion.ehr-backups', {
      text: 'All copies purged',
      sanitization: bucketSanitization,
    });
    await completeTask(
      id,
      'retention-deletion.ehr-backups.validation',
      {
        text: 'listed the bucket again',
        validation: { verificationMethod: 'bucket listing', verificationResult: 'passed' },
      },
      validatorKey,
    );

    const final = await waitForState<TransitionState>(
      stack,
      id,
      (state) => state.status === 'completed',
      60_000,
    );
    expect(final.steps.map((step) => step.status)).toEqual(Array(8).fill('completed'));
    expect(final.dates.deletionDueAt).toBe(dates.deletionDueAt);
    expect(final.controls.map((control) => control.action)).toEqual(['extended']);
    expect(final.approvals.map((approval) => [approval.step, approval.status])).toEqual([
      ['data-export', 'approved'],
      ['agent-removal', 'approved'],
      ['credential-rotation', 'approved'],
      ['retention-deletion', 'approved'],
    ]);
    expect(final.taskCounts).toEqual({ total: 304, open: 0, completed: 304, cancelled: 0 });
    expect(final.credentials[0]).toMatchObject({ id: 'domain-admin', status: 'revealed' });
    expect(final.workflowRuns).toBeGreaterThanOrEqual(3);

    // Several workflow runs, one transition: listed once, under the first run's id. The memory of
    // 300 tasks is too large for a workflow input: it went by the document store.
    const allRuns = await workflowRuns(id);
    expect(allRuns.length).toBeGreaterThanOrEqual(3);
    const checkpoints: string[] = [];
    for (const run of allRuns) {
      const [input] = await startInput(id, run.runId);
      if (input?.continued) checkpoints.push(Object.keys(input.continued.checkpoint)[0]!);
    }
    expect(checkpoints).toEqual(Array(allRuns.length - 1).fill('stored'));
    const firstRunId = allRuns.at(-1)!.runId;
    const listed = (await (await stack.call('GET', `/v1/transitions?clientId=${body.client.id}`)).json()) as {
      transitions: { id: string; runId: string; status: string }[];
    };
    expect(listed.transitions).toEqual([
      expect.objectContaining({ id, runId: firstRunId, status: 'completed' }),
    ]);

    // Each email once, though each part of the run sent with its own workflow run.
    const subjects = stack.mail.map((mail) => mail.subject);
    for (const subject of [
      'Termination timeline for Acme Dental LLC',
      'Approval needed: Data export manifest for Acme Dental LLC',
      'Approval needed: Certificate of data deletion for Acme Dental LLC',
    ])
      expect(subjects.filter((candidate) => candidate === subject)).toHaveLength(1);

    // The tasks of a step before a continuation keep their start; the document holds the whole.
    const page = (await (
      await stack.call('GET', `/v1/transitions/${id}/tasks?step=agent-removal&limit=5`)
    ).json()) as TaskPage;
    expect(page.tasks[0]).toMatchObject({ status: 'completed', evidenceIn: '04-agent-removal' });
    expect(page.tasks[0]!.evidence!.text.length).toBeLessThan(300);
    const removalDoc = await (
      await stack.call('GET', `/v1/transitions/${id}/documents/04-agent-removal`, undefined, auditorKey)
    ).text();
    expect(removalDoc).toContain(longEvidence('ws-000').slice(0, 400));

    // One chain of documents across the runs.
    const documents = (
      (await (await stack.call('GET', `/v1/transitions/${id}/documents`, undefined, auditorKey)).json()) as {
        runId: string;
        documents: { id: string; sha256: string; previousSha256: string | null }[];
      }
    ).documents;
    expect(documents.map((doc) => doc.id)).toEqual([
      '01-termination-notice',
      '02-data-export',
      '03-cutover',
      '04-agent-removal',
      '05-credential-rotation',
      '06-transition-assistance',
      '07-retention-deletion',
      '08-closure',
    ]);
    let previous: string | null = null;
    for (const doc of documents) {
      const md = await (
        await stack.call('GET', `/v1/transitions/${id}/documents/${doc.id}`, undefined, auditorKey)
      ).arrayBuffer();
      expect(createHash('sha256').update(Buffer.from(md)).digest('hex')).toBe(doc.sha256);
      expect(doc.previousSha256).toBe(previous);
      previous = doc.sha256;
    }

    // The trail reads every part, in order, and says where the run went on.
    const report = (await (
      await stack.call('GET', `/v1/transitions/${id}/audit?runId=${firstRunId}`, undefined, auditorKey)
    ).json()) as {
      runId: string;
      verification: { valid: boolean; documents: number };
      entries: { action: string; step: string; actor: string; details: string }[];
    };
    expect(report.runId).toBe(firstRunId);
    expect(report.verification).toMatchObject({ valid: true, documents: 8 });
    const actions = report.entries.map((entry) => entry.action);
    expect(actions.filter((action) => action === 'started')).toHaveLength(1);
    expect(actions.filter((action) => action === 'continued as new')).toHaveLength(allRuns.length - 1);
    expect(actions.at(-1)).toBe('finished');
    expect(actions.filter((action) => /checkpoint/i.test(action))).toEqual([]);
    expect(
      report.entries.filter((entry) => entry.action === 'approval decided').map((entry) => entry.step),
    ).toEqual(['data-export', 'agent-removal', 'credential-rotation', 'retention-deletion']);
    expect(report.entries.filter((entry) => entry.action === 'document written')).toHaveLength(8);
    expect(JSON.stringify(report)).not.toContain(rotated);

    const pack = await stack.call('GET', `/v1/transitions/${id}/pack`, undefined, auditorKey);
    expect(pack.status).toBe(200);

    // The console says the run went on in several workflow runs, and where a task's whole evidence is.
    for (const viewport of Object.keys(viewports) as ViewportName[]) {
      const page = await (await session.context(viewport)).newPage();
      await page.goto(`${stack.api.url}/console/transitions/${id}`);
      await page.getByLabel('API key').fill(operatorKey);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      await expectFits(page);
      const text = await page.locator('main').innerText();
      expect(text).toContain(`in ${final.workflowRuns} workflow runs`);
      // Nothing is open, so the finished tasks are shown unfolded.
      const removal = page.locator('li', { hasText: 'agent-removal.ws-299' });
      await expect.poll(() => removal.innerText()).toContain('Shortened here');
      await removal.getByRole('link', { name: '04-agent-removal' }).click();
      await page.waitForURL(/documents\/04-agent-removal/);
      expect(await page.content()).toContain('ws-299: agent removed');
      await page.close();
    }

    // The client is taken on again under the same id: a link of the first transition finds the last
    // workflow run of its own chain (not the new transition) and says the request is closed.
    expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
    const closed = await fetch(exportLink);
    expect(closed.status).toBe(410);
    expect(await closed.text()).toContain('was completed');
    await stack.client.workflow.getHandle(id).terminate('the second start was only to test the link');

    // Once Temporal has deleted every workflow run, the archive of each part gives the same trail.
    for (const run of await workflowRuns(id))
      await execFileAsync(temporalCli(), [
        'workflow',
        'delete',
        '--workflow-id',
        id,
        '--run-id',
        run.runId,
        '--address',
        stack.config.temporal.address!,
        '--namespace',
        'default',
        '--yes',
      ]);
    const deadline = Date.now() + 30_000;
    while ((await workflowRuns(id)).length > 0) {
      if (Date.now() > deadline) throw new Error('the workflow runs were not deleted');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const archived = await stack.call('GET', `/v1/transitions/${id}/audit`, undefined, auditorKey);
    expect(archived.status).toBe(200);
    const fromArchive = (await archived.json()) as typeof report & { source: string };
    expect(fromArchive.source).toBe('archive');
    expect(fromArchive.runId).toBe(firstRunId);
    expect(fromArchive.entries).toEqual(report.entries);
    expect(fromArchive.verification).toEqual(report.verification);
  }, 240_000);

  it('a continued run terminated from outside is archived by the sweep as its part of the run', async () => {
    const body = offboardingBody({
      terms: {
        noticeReceivedAt: new Date().toISOString(),
        noticePeriod: 'PT1S',
        transitionPeriod: 'PT1S',
        retentionPeriod: 'PT1H',
      },
      ...oneOfEach,
      scope: { ...oneOfEach.scope, devices: devices.slice(0, 30) },
      approvalSteps: [],
    });
    const id = `offboarding-${body.client.id}`;
    expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
    await completeTask(id, 'data-export.ehr-backups', { text: 'exported' });
    // One Update per task: enough events that the run continues after the step.
    for (const device of devices.slice(0, 30))
      await completeTask(id, `agent-removal.${device.id}`, { text: `${device.id}: removed` });
    const continued = await waitForState<TransitionState>(
      stack,
      id,
      (state) => state.currentStep === 'credential-rotation' && (state.workflowRuns ?? 1) > 1,
    );
    const runs = await workflowRuns(id);
    const firstRunId = runs.at(-1)!.runId;
    await stack.client.workflow.getHandle(id).terminate('terminated from outside by the test');

    const part = continued.workflowRuns! - 1;
    const archive = path.join(stack.dataDir, 'documents', id, firstRunId, 'archive', `history-${part}.binpb`);
    await ensureArchiveSweep(stack.client, stack.config.temporal.taskQueue);
    const schedule = stack.client.schedule.getHandle(archiveSweepScheduleId);
    // Visibility sees a close a moment later: the sweep is run until it has.
    const deadline = Date.now() + 60_000;
    const terminated = async () =>
      existsSync(archive) &&
      !!decodeHistory(await readFile(archive)).events?.at(-1)?.workflowExecutionTerminatedEventAttributes;
    while (!(await terminated()) && Date.now() < deadline) {
      await schedule.trigger();
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
    expect(await terminated()).toBe(true);

    const report = (await (
      await stack.call('GET', `/v1/transitions/${id}/audit`, undefined, auditorKey)
    ).json()) as { runId: string; header: { outcome: string }; entries: { action: string }[] };
    expect(report.runId).toBe(firstRunId);
    expect(report.header.outcome).toBe('terminated');
    const actions = report.entries.map((entry) => entry.action);
    expect(actions.filter((action) => action === 'continued as new')).toHaveLength(part);
    expect(actions.at(-1)).toBe('terminated');
  }, 120_000);
});
