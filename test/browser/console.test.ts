// The operator console pressed in Debian's Chromium at desktop and phone size: sign in, the inbox,
// completing a task with evidence, starting a transition after its plan, controls, a rotated secret,
// a rejection asked again, and the auditor who finds no control. Every press is checked in the
// workflow's state through the API afterwards, and every page for sideways scrolling and tap targets.
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
import { csrfIn, linkIn, postForm } from '../support/links.js';
import {
  auditorKey,
  operatorKey,
  startStack,
  validatorKey,
  waitForState,
  type Stack,
} from '../support/stack.js';

let stack: Stack;
let session: BrowserSession;

beforeAll(async () => {
  [stack, session] = await Promise.all([startStack({ MSP_NAME: 'Northwind IT' }), launchBrowser()]);
}, 120_000);

afterAll(async () => {
  await session?.close();
  await stack?.stop();
});

const device = { id: 'srv-01', hostname: 'srv-01.acme.local', type: 'server', agents: ['rmm', 'backup'] };
const credential = { id: 'domain-admin', system: 'Active Directory', account: 'Administrator' };

/** An offboarding that reaches `step` at once (periods of a second), with the given scope and approvals. */
async function offboarding(options: {
  devices?: object[];
  credentials?: object[];
  dataSets?: object[];
  approvalSteps?: string[];
  retentionPeriod?: string;
}) {
  const clientId = uniqueClientId('console');
  const name = `Acme ${clientId}`;
  const body = offboardingBody({
    clientId,
    client: { id: clientId, name, timezone: 'America/Chicago' },
    terms: {
      noticePeriod: 'PT1S',
      transitionPeriod: 'PT1S',
      retentionPeriod: options.retentionPeriod ?? 'PT1H',
      approvalTimeout: 'PT1H',
      reminderInterval: 'PT1M',
    },
    scope: {
      devices: options.devices ?? [],
      credentials: options.credentials ?? [],
      dataSets: options.dataSets ?? [],
      backupJobs: [],
    },
    approvalSteps: options.approvalSteps ?? [],
  });
  expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
  return { id: `offboarding-${clientId}`, name };
}

async function signedIn(viewport: ViewportName, key = operatorKey, path = '/console'): Promise<Page> {
  const page = await (await session.context(viewport)).newPage();
  await page.goto(`${stack.api.url}${path}`);
  await expectFits(page);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return page;
}

/** The message a page announces after a press (waits for the page after the press). */
async function announced(page: Page, role: 'status' | 'alert' = 'status'): Promise<string> {
  const message = page.getByRole(role).filter({ hasText: /\S/ }).first();
  await message.waitFor();
  return message.innerText();
}

const stateOf = async (id: string) =>
  (await (await stack.call('GET', `/v1/transitions/${id}`)).json()) as TransitionState;
/** Every task of the transition as the API pages them (the state lists the open ones). */
const tasksOf = async (id: string) =>
  ((await (await stack.call('GET', `/v1/transitions/${id}/tasks?limit=1000`)).json()) as TaskPage).tasks;

describe.each(Object.keys(viewports) as ViewportName[])('the console in Chromium at %s size', (viewport) => {
  it('an operator signs in, sees the open task in the inbox and completes it with evidence', async () => {
    const { id, name } = await offboarding({ devices: [device] });
    await waitForState<TransitionState>(stack, id, (s) => s.tasks.some((task) => task.status === 'open'));

    const page = await signedIn(viewport);
    expect(await page.locator('h1').innerText()).toBe('Inbox');
    const tasks = page.getByRole('region', { name: /Open tasks/ });
    expect(await tasks.innerText()).toContain('Remove rmm, backup from srv-01.acme.local and verify removal');
    await expectFits(page);
    await tasks.getByRole('link', { name }).click();

    await page
      .getByLabel('Evidence', { exact: true })
      .fill('Agents removed; the RMM console no longer lists srv-01.');
    await expectFits(page);
    await page.getByRole('button', { name: 'Complete task' }).click();
    expect(await announced(page)).toContain('Task completed');
    await expectFits(page);
    expect((await tasksOf(id))[0]).toMatchObject({
      id: 'agent-removal.srv-01',
      status: 'completed',
      completedBy: 'ops',
      evidence: { text: 'Agents removed; the RMM console no longer lists srv-01.' },
    });
    expect(await page.getByRole('region', { name: 'Tasks' }).innerText()).toContain('by ops');
    expect(await page.locator('main').innerText()).toContain(`started on ${stack.config.buildId}`);

    await page.getByRole('link', { name: 'Inbox' }).click();
    expect(await page.locator('main').innerText()).not.toContain(`${name}: 1 open task`);
  });

  it('an operator starts an offboarding from the form, after its plan', async () => {
    const clientId = uniqueClientId('form');
    const page = await signedIn(viewport);
    await page.getByRole('link', { name: 'Start' }).click();
    await page.getByLabel('Client id').fill(clientId);
    await page.getByLabel('Client name').fill('Bright Smiles Dental');
    await page.getByLabel('Client time zone', { exact: true }).fill('Europe/Dublin');
    await page.getByLabel('Requested by (email)').fill('ops@msp.example');
    await page.getByLabel('Client approvers').fill('Riley Chen riley-at-bright.example');
    await page.getByLabel('MSP operators').fill('Morgan Ops <morgan@msp.example>');
    await page.getByLabel('Notice period').fill('P30D');
    await page
      .getByLabel('Devices')
      .fill('id,hostname,type,agents\nsrv-01,srv-01.bright.local,server,rmm;backup');
    await page.getByRole('button', { name: 'Show the plan' }).click();

    // A mistake is named next to its field; nothing starts.
    expect(await announced(page, 'alert')).toMatch(/Client approvers: entry 1, email: .*email/i);
    await expectFits(page);
    await page.getByLabel('Client approvers').fill('Riley Chen <riley@bright.example>');
    await page.getByRole('button', { name: 'Show the plan' }).click();

    const plan = page.getByRole('region', { name: 'The plan' });
    const shown = await plan.innerText();
    expect(shown).toContain('Agent removal: asks the client');
    expect(shown).toMatch(/Cutover\s+\w{3} \d{1,2} \w{3} \d{4}, \d{2}:\d{2} Dublin time/);
    expect(shown).toContain('Devices: 1');
    await expectFits(page);
    expect((await stack.call('GET', `/v1/transitions/offboarding-${clientId}`)).status).toBe(404);

    await plan.getByRole('button', { name: 'Start the offboarding' }).click();
    expect(await announced(page)).toContain('Started');
    await expectFits(page);
    const state = await waitForState<TransitionState>(stack, `offboarding-${clientId}`, () => true);
    expect(state).toMatchObject({
      kind: 'offboarding',
      clientName: 'Bright Smiles Dental',
      timezone: 'Europe/Dublin',
      startedBy: 'ops',
    });
  });

  it('a stalled step is retried at once from its stall box once the mail server is back', async () => {
    await stack.stopMail();
    let id: string;
    try {
      ({ id } = await offboarding({}));
      await waitForState<TransitionState>(stack, id, (s) => s.stalled !== undefined, 90_000);
    } finally {
      await stack.startMail();
    }
    const page = await signedIn(viewport, operatorKey, `/console/transitions/${id}`);
    expect(await page.locator('.warning').innerText()).toContain('Stalled: sendEmail keeps failing');
    await page.locator('summary', { hasText: /^Retry now$/ }).click();
    await page.locator('#retry').getByLabel('Reason').fill('The mail relay is back.');
    await page.getByRole('button', { name: 'Retry now', exact: true }).click();
    expect(await announced(page)).toContain('Retrying now');
    await expectFits(page);
    // Well before the stall's next round (30 s at the soonest): the press started it.
    const going = await waitForState<TransitionState>(stack, id, (s) => s.stalled === undefined, 20_000);
    expect(going.controls).toContainEqual(
      expect.objectContaining({ action: 'retried', actor: 'ops', reason: 'The mail relay is back.' }),
    );
  });

  it('an operator types a rotated secret, which is never shown, and pauses with a reason', async () => {
    const { id } = await offboarding({ credentials: [credential] });
    await waitForState<TransitionState>(stack, id, (s) => s.credentials.some((c) => c.status === 'awaiting'));
    const page = await signedIn(viewport, operatorKey, `/console/transitions/${id}`);
    const secret = `Rotated-${id}`;
    await page.getByLabel('New secret for Administrator on Active Directory').fill(secret);
    await page.getByRole('button', { name: 'Store in the vault' }).click();
    expect(await announced(page)).toContain('Stored in the vault');
    expect(await page.content()).not.toContain(secret);
    expect(page.url()).not.toContain(secret);
    expect((await stateOf(id)).credentials[0]).toMatchObject({
      status: 'vaulted',
      suppliedBy: 'ops',
      suppliedVia: 'operator-api',
    });

    // A value the extend route refuses is named on its field, as typed.
    await page.locator('summary', { hasText: 'Extend a period' }).click();
    await page.getByLabel('Extend by').fill('two weeks');
    await page.locator('#extend').getByLabel('Reason').fill('client asked');
    await page.getByRole('button', { name: 'Extend', exact: true }).click();
    expect(await announced(page, 'alert')).toContain('some fields need another look');
    expect(await page.getByLabel('Extend by').inputValue()).toBe('two weeks');
    expect(await page.locator('#extend').innerText()).toContain('expected an ISO 8601 duration');
    await expectFits(page);

    await page.locator('summary', { hasText: /^Pause$/ }).click();
    await page
      .locator('#pause')
      .getByLabel('Reason')
      .fill('The client asked us to wait for their new provider.');
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    expect(await announced(page)).toContain('Paused');
    expect(await stateOf(id)).toMatchObject({
      paused: true,
      controls: [expect.objectContaining({ action: 'paused', actor: 'ops' })],
    });
    expect(await page.locator('#controls').innerText()).toContain(
      'Reason: The client asked us to wait for their new provider.',
    );
  });

  it('a restore test is completed with its structured evidence, dates typed in the client zone', async () => {
    const clientId = uniqueClientId('restore');
    const body = {
      kind: 'onboarding',
      client: { id: clientId, name: `Bright ${clientId}`, timezone: 'Europe/Dublin' },
      requestedBy: 'ops@msp.example',
      contacts: {
        approvers: [{ name: 'Riley Chen', email: 'riley@bright.example' }],
        operators: [{ name: 'Morgan Ops', email: 'morgan@msp.example' }],
      },
      approvalSteps: [],
      scope: {
        devices: [{ id: 'srv-01', hostname: 'srv-01.bright.local', type: 'server', agents: [] }],
        backupJobs: [{ id: 'srv-01-nightly', device: 'srv-01', rto: 'PT4H' }],
      },
    };
    expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
    const id = `onboarding-${clientId}`;
    await waitForState<TransitionState>(stack, id, (s) => s.tasks.some((task) => task.status === 'open'));
    const page = await signedIn(viewport, operatorKey, `/console/transitions/${id}`);
    await page.getByLabel('Evidence', { exact: true }).fill('VM restored to the scratch host and booted.');
    await page.getByLabel('Restore started at (Dublin time)').fill('2026-07-01T01:00:00');
    await page.getByLabel('Restore ended at (Dublin time)').fill('2026-07-01T03:10:00');
    await page.getByLabel('Integrity check', { exact: true }).selectOption('passed');
    await page.getByLabel('Verified by', { exact: true }).fill('Jordan');
    await expectFits(page);
    await page.getByRole('button', { name: 'Complete task' }).click();
    expect(await announced(page)).toContain('Task completed');
    const task = (await tasksOf(id)).find((candidate) => candidate.step === 'restore-validation')!;
    expect(task).toMatchObject({ status: 'completed', completedBy: 'ops' });
    // Summer time in Dublin: an hour ahead of UTC.
    expect(task.evidence!.restore).toEqual({
      startedAt: '2026-07-01T01:00:00.000+01:00',
      endedAt: '2026-07-01T03:10:00.000+01:00',
      integrityCheck: 'passed',
      verifiedBy: 'Jordan',
    });
  });

  it('a deletion is recorded with its NIST SP 800-88 fields, then validated by another person only', async () => {
    const { id } = await offboarding({
      dataSets: [{ id: 'ehr-backups', description: 'EHR database backups' }],
      retentionPeriod: 'PT1S',
    });
    const openTask = (taskId: string) =>
      waitForState<TransitionState>(stack, id, (s) =>
        s.tasks.some((task) => task.id === taskId && task.status === 'open'),
      );
    await openTask('data-export.ehr-backups');
    const exported = await stack.call(
      'POST',
      `/v1/transitions/${id}/tasks/data-export.ehr-backups/complete`,
      {
        evidence: { text: 'exported to the client bucket' },
      },
    );
    expect(exported.status).toBe(200);
    await openTask('retention-deletion.ehr-backups');

    const page = await signedIn(viewport, operatorKey, `/console/transitions/${id}`);
    await page.getByLabel('Evidence', { exact: true }).fill('Bucket and its versions deleted.');
    await page.getByLabel('Media type').fill('S3 bucket');
    await page.getByLabel('Media identifier').fill('acme-ehr-backups');
    await page.getByLabel('Category').selectOption('Purge');
    await page.getByLabel('Technique').fill('cryptographic erase');
    await page.getByLabel('Tool', { exact: true }).fill('restic');
    await page.getByLabel('Tool version').fill('0.17.3');
    await page.getByLabel('Verification method').fill('bucket listing');
    await page.getByLabel('Verification result').selectOption('passed');
    await expectFits(page);
    await page.getByRole('button', { name: 'Complete task' }).click();
    expect(await announced(page)).toContain('Task completed');
    const deleted = (await tasksOf(id)).find((task) => task.id === 'retention-deletion.ehr-backups')!;
    expect(deleted.evidence!.sanitization).toEqual({
      mediaType: 'S3 bucket',
      mediaId: 'acme-ehr-backups',
      category: 'Purge',
      technique: 'cryptographic erase',
      tool: 'restic',
      toolVersion: '0.17.3',
      verificationMethod: 'bucket listing',
      verificationResult: 'passed',
    });

    // The performer may not validate their own deletion: the form says so, and the press is refused.
    await openTask('retention-deletion.ehr-backups.validation');
    await page.reload();
    const tasks = page.getByRole('region', { name: 'Tasks' });
    expect(await tasks.innerText()).toContain(
      'Someone other than Alex Kim (ops), who performed the deletion, completes this task.',
    );
    const validate = async (on: Page) => {
      await on
        .getByLabel('Evidence', { exact: true })
        .fill('Listed the bucket and its versions again: empty.');
      await on.getByLabel('What you checked again').fill('listing of the bucket and its versions');
      await on.getByLabel('Result', { exact: true }).selectOption('passed');
      await expectFits(on);
      await on.getByRole('button', { name: 'Complete task' }).click();
    };
    await validate(page);
    expect(await announced(page, 'alert')).toContain('another person must complete it');
    const refused = (await tasksOf(id)).find((task) => task.id.endsWith('.validation'))!;
    expect(refused.status).toBe('open');

    const second = await signedIn(viewport, validatorKey, `/console/transitions/${id}`);
    await validate(second);
    expect(await announced(second)).toContain('Task completed');
    const validated = (await tasksOf(id)).find((task) => task.id.endsWith('.validation'))!;
    expect(validated).toMatchObject({
      status: 'completed',
      completedBy: 'validator',
      completedByHolder: { name: 'Morgan Lee', title: 'Compliance officer' },
      evidence: {
        validation: {
          verificationMethod: 'listing of the bucket and its versions',
          verificationResult: 'passed',
        },
      },
    });
  });

  it('a rejected transition shows as held, and the operator asks again', async () => {
    const { id, name } = await offboarding({ devices: [device], approvalSteps: ['agent-removal'] });
    const mail = await stack.waitForMail(
      (m) => m.subject?.startsWith('Approval needed') === true && m.subject.includes(name),
    );
    const link = linkIn(mail, 'approvals');
    const csrf = csrfIn(await (await fetch(link)).text());
    expect((await postForm(link, { decision: 'reject', comment: 'Not before May.', csrf })).status).toBe(200);
    await waitForState<TransitionState>(stack, id, (s) => s.steps.some((step) => step.status === 'rejected'));

    const listed = (await (await stack.call('GET', `/v1/transitions?clientId=${id.slice(12)}`)).json()) as {
      transitions: { status: string; waiting: { on: string; for: string } }[];
    };
    expect(listed.transitions[0]).toMatchObject({
      status: 'running',
      waiting: { on: 'msp', for: 'rejection' },
    });

    const page = await signedIn(viewport, operatorKey, `/console/transitions?status=held`);
    const row = page.getByRole('row', { name: new RegExp(name) });
    expect(await row.innerText()).toContain('held');
    expect(await row.innerText()).toContain('Agent removal rejected by dana@acme.example');
    await expectFits(page);
    await row.getByRole('link', { name }).click();
    expect(await page.locator('#approvals').innerText()).toContain('“Not before May.”');
    await page.locator('#approvals').getByLabel('Reason').fill('They confirmed May has come.');
    await page.getByRole('button', { name: 'Ask again' }).click();
    expect(await announced(page)).toContain('asked again');
    const state = await waitForState<TransitionState>(stack, id, (s) => s.approvals.length === 2);
    expect(state.controls.at(-1)).toMatchObject({ action: 'approval-requested', actor: 'ops' });
  });

  it('an auditor sees the transition read-only: no form, no control, and a POST answers 403', async () => {
    const { id } = await offboarding({ devices: [device] });
    await waitForState<TransitionState>(stack, id, (s) => s.tasks.some((task) => task.status === 'open'));
    const page = await signedIn(viewport, auditorKey, `/console/transitions/${id}`);
    const main = page.locator('main');
    expect(await main.innerText()).toContain('Remove rmm, backup from srv-01.acme.local');
    expect(await main.locator('form, button, input, textarea, select').count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Start' }).count()).toBe(0);
    expect(await main.innerText()).toContain('Read-only');
    await expectFits(page);

    const csrf = await page.locator('header input[name=csrf]').getAttribute('value');
    const pause = await page.request.post(`${stack.api.url}/console/transitions/${id}/pause`, {
      form: { csrf: csrf!, reason: 'an auditor tries' },
    });
    expect(pause.status()).toBe(403);
    expect(await pause.text()).toContain('reads everything and changes nothing');
    expect((await stateOf(id)).paused).toBe(false);
  });
});

/** Presses Tab until the focused element is the one named; every stop on the way shows its focus. */
async function tabTo(page: Page, name: string): Promise<void> {
  for (let presses = 0; presses < 80; presses++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const element = document.activeElement as HTMLElement;
      const style = getComputedStyle(element);
      const label = element.id ? document.querySelector(`label[for="${CSS.escape(element.id)}"]`) : null;
      return {
        name: (label?.textContent ?? element.textContent ?? '').trim(),
        outline: style.outlineStyle === 'none' ? 0 : parseFloat(style.outlineWidth),
      };
    });
    expect(focused.outline, `focus on "${focused.name}" is visible`).toBeGreaterThanOrEqual(2);
    if (focused.name === name) return;
  }
  throw new Error(`Tab never reached "${name}"`);
}

describe('the console at desktop size', () => {
  it('works from the keyboard alone, with the focus always visible', async () => {
    const { id } = await offboarding({ devices: [device] });
    await waitForState<TransitionState>(stack, id, (s) => s.tasks.some((task) => task.status === 'open'));
    const page = await (await session.context('desktop')).newPage();
    await page.goto(`${stack.api.url}/console/transitions/${id}`);
    await tabTo(page, 'API key');
    await page.keyboard.type(operatorKey);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await tabTo(page, 'Evidence');
    await page.keyboard.type('Removed from the keyboard.');
    await tabTo(page, 'Complete task');
    await page.keyboard.press('Enter');
    expect(await announced(page)).toContain('Task completed');
    expect((await tasksOf(id))[0]).toMatchObject({ status: 'completed', completedBy: 'ops' });
  });

  it('tells what changed since the page was loaded, by the one script its CSP allows', async () => {
    const { id } = await offboarding({});
    const page = await signedIn('desktop', operatorKey, `/console/transitions/${id}`);
    const refused: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
    });
    const response = await page.reload();
    const csp = response!.headers()['content-security-policy']!;
    // Exactly one script, by its hash, and a connection to us for its stream.
    expect(/script-src ([^;]+)/.exec(csp)![1]).toMatch(/^'sha256-[A-Za-z0-9+/]+=*'$/);
    expect(csp).toContain("connect-src 'self'");

    expect(
      (await stack.call('POST', `/v1/transitions/${id}/legal-hold`, { reason: 'litigation' })).status,
    ).toBe(200);
    await page.getByRole('button', { name: 'Show the changes' }).click({ timeout: 20_000 });
    expect(await page.locator('#controls').innerText()).toContain('Legal hold placed by ops');
    expect(refused).toEqual([]);
  });

  it('the cookie is HttpOnly and SameSite=Strict; a form without its CSRF value or from another site changes nothing', async () => {
    const { id } = await offboarding({});
    const page = await signedIn('desktop', operatorKey, `/console/transitions/${id}`);
    const [cookie] = await page.context().cookies(`${stack.api.url}/console`);
    expect(cookie).toMatchObject({
      name: 'console_session',
      httpOnly: true,
      sameSite: 'Strict',
      path: '/console',
    });
    const csrf = (await page.locator('header input[name=csrf]').getAttribute('value'))!;
    const pause = (form: Record<string, string>, headers: Record<string, string> = {}) =>
      page.request.post(`${stack.api.url}/console/transitions/${id}/pause`, { form, headers });
    expect((await pause({ reason: 'no csrf' })).status()).toBe(403);
    expect((await pause({ reason: 'cross-site', csrf }, { 'sec-fetch-site': 'cross-site' })).status()).toBe(
      403,
    );
    expect((await stateOf(id)).paused).toBe(false);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    expect((await pause({ reason: 'signed out', csrf })).status()).toBe(401);
    const wrong = await page.request.post(`${stack.api.url}/console/sign-in`, { form: { key: 'not-a-key' } });
    expect(wrong.status()).toBe(401);
  });
});
