// The client's pages pressed in Debian's Chromium at phone and desktop size: approve, reject,
// hand over a credential, reveal one, and sign in for the Web UI's codec. Each press is checked in
// the workflow's state afterwards, and every page is checked for sideways scrolling and tap targets.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransitionState } from '../../domain/definitions.js';
import { offboardingBody, uniqueClientId } from '../factories.js';
import {
  expectFits,
  launchBrowser,
  viewports,
  type BrowserSession,
  type ViewportName,
} from '../support/browser.js';
import { linkIn } from '../support/links.js';
import { auditorKey, operatorKey, startStack, waitForState, type Stack } from '../support/stack.js';

let stack: Stack;
let session: BrowserSession;

beforeAll(async () => {
  [stack, session] = await Promise.all([startStack({ MSP_NAME: 'Northwind IT' }), launchBrowser()]);
}, 120_000);

afterAll(async () => {
  await session?.close();
  await stack?.stop();
});

const devices = [
  { id: 'srv-01', hostname: 'srv-01.acme.local', type: 'server', agents: ['rmm', 'backup'] },
  { id: 'ws-02', hostname: 'ws-02.acme.local', type: 'workstation', agents: ['rmm'] },
  { id: 'ws-03', hostname: 'ws-03.acme.local', type: 'workstation', agents: ['monitoring'] },
];

/** An offboarding whose agent removal asks Dana at once (the notice period is a second). */
async function awaitingAgentRemoval() {
  const clientId = uniqueClientId('ui');
  const name = `Acme ${clientId}`;
  const body = offboardingBody({
    clientId,
    client: { id: clientId, name, timezone: 'Europe/Dublin' },
    contacts: {
      approvers: [{ name: 'Dana Reyes', email: 'dana@acme.example' }],
      operators: [{ name: 'Morgan Ops', email: 'morgan@msp.example' }],
    },
    terms: { noticePeriod: 'PT1S', transitionPeriod: 'PT1S', retentionPeriod: 'PT1H' },
    scope: { devices, credentials: [], dataSets: [], backupJobs: [] },
    approvalSteps: ['agent-removal'],
  });
  expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
  const mail = await stack.waitForMail(
    (m) => m.subject?.startsWith('Approval needed') === true && m.subject.includes(name),
  );
  return { id: `offboarding-${clientId}`, name, link: linkIn(mail, 'approvals') };
}

async function open(viewport: ViewportName, url: string): Promise<Page> {
  const page = await (await session.context(viewport)).newPage();
  const response = await page.goto(url);
  expect(response?.status(), `GET ${url}`).toBeLessThan(500);
  return page;
}

/** The result message a form's answer page announces (waits for the page after the press). */
async function statusText(page: Page): Promise<string> {
  const status = page.getByRole('status');
  await status.waitFor();
  return status.innerText();
}

const agentRemoval = (state: TransitionState) => state.approvals.find((a) => a.step === 'agent-removal');

describe.each(Object.keys(viewports) as ViewportName[])('link pages in Chromium at %s size', (viewport) => {
  it('the approval page explains itself, fits, and Approve records the decision', async () => {
    const { id, name, link } = await awaitingAgentRemoval();
    const page = await open(viewport, link);
    expect(await page.locator('h1').innerText()).toBe('Approve the removal of MSP agents from 3 devices');
    const text = await page.locator('main').innerText();
    expect(text).toContain(name);
    expect(text).toContain('Northwind IT');
    expect(text).toContain('srv-01.acme.local');
    expect(text).toContain('ws-03.acme.local');
    expect(text).toMatch(/\w+day \d{1,2} \w+ \d{4}, \d{2}:\d{2} \(Dublin time\)/);
    await expectFits(page);

    await page.getByRole('button', { name: 'Approve' }).click();
    expect(await statusText(page)).toContain('recorded');
    await expectFits(page);
    const state = await waitForState<TransitionState>(
      stack,
      id,
      (s) => agentRemoval(s)?.status === 'approved',
    );
    expect(agentRemoval(state)!.decisions).toEqual([
      expect.objectContaining({ approver: 'dana@acme.example', decision: 'approve' }),
    ]);
    expect(agentRemoval(state)!.decisions[0]!.userAgent).toContain('Chrome');

    // The link is spent: opening it again says so and names whom to contact.
    await page.goto(link);
    const after = await page.locator('main').innerText();
    expect(after).toContain('already decided');
    expect(after).toContain('morgan@msp.example');
    await expectFits(page);
  });

  it('Reject with a comment holds the step', async () => {
    const { id, link } = await awaitingAgentRemoval();
    const page = await open(viewport, link);
    await page.getByLabel(/comment/i).fill('Not before our new provider has its agents in place.');
    await page.getByRole('button', { name: 'Reject' }).click();
    expect(await statusText(page)).toContain('recorded');
    const state = await waitForState<TransitionState>(stack, id, (s) =>
      s.steps.some((step) => step.key === 'agent-removal' && step.status === 'rejected'),
    );
    expect(agentRemoval(state)!.decisions[0]).toMatchObject({
      decision: 'reject',
      comment: 'Not before our new provider has its agents in place.',
    });
  });

  it('the client hands over a credential through the intake form', async () => {
    const clientId = uniqueClientId('intake');
    const name = `Bright ${clientId}`;
    const body = {
      kind: 'onboarding',
      client: { id: clientId, name, timezone: 'UTC' },
      requestedBy: 'ops@msp.example',
      contacts: {
        approvers: [{ name: 'Riley Chen', email: 'riley@bright.example' }],
        operators: [{ name: 'Morgan Ops', email: 'morgan@msp.example' }],
      },
      terms: { approvalTimeout: 'PT10M', reminderInterval: 'PT5M' },
      scope: { credentials: [{ id: 'domain-admin', system: 'Active Directory', account: 'msp-admin' }] },
    };
    expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
    const mail = await stack.waitForMail(
      (m) => m.subject?.startsWith('Credential needed') === true && m.subject.includes(name),
    );
    const page = await open(viewport, linkIn(mail, 'intake'));
    expect(await page.locator('main').innerText()).toContain('Northwind IT');
    await expectFits(page);
    await page.getByLabel(/credential/i).fill('correct horse battery staple');
    await page.getByRole('button', { name: /store/i }).click();
    expect(await statusText(page)).toContain('stored');
    const state = await waitForState<TransitionState>(stack, `onboarding-${clientId}`, (s) =>
      s.credentials.some((c) => c.id === 'domain-admin' && c.status === 'vaulted'),
    );
    expect(state.credentials[0]).toMatchObject({
      suppliedVia: 'intake-link',
      suppliedBy: 'riley@bright.example',
    });
  });

  it('the client reveals a handed-over credential once, and a reload says how to get it again', async () => {
    const clientId = uniqueClientId('reveal');
    const name = `Acme ${clientId}`;
    const body = offboardingBody({
      clientId,
      client: { id: clientId, name, timezone: 'UTC' },
      contacts: {
        approvers: [{ name: 'Dana Reyes', email: 'dana@acme.example' }],
        operators: [{ name: 'Morgan Ops', email: 'morgan@msp.example' }],
      },
      terms: { noticePeriod: 'PT1S', transitionPeriod: 'PT1H', retentionPeriod: 'PT1H' },
      scope: {
        devices: [],
        credentials: [{ id: 'domain-admin', system: 'Active Directory', account: 'Administrator' }],
        dataSets: [],
        backupJobs: [],
      },
      approvalSteps: [],
    });
    const id = `offboarding-${clientId}`;
    expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
    await waitForState<TransitionState>(stack, id, (s) => s.credentials.some((c) => c.status === 'awaiting'));
    const rotated = `Rotated-${clientId}`;
    expect(
      (await stack.call('POST', `/v1/transitions/${id}/credentials/domain-admin`, { secret: rotated }))
        .status,
    ).toBe(201);
    const mail = await stack.waitForMail(
      (m) => m.subject?.startsWith('New credential ready') === true && m.subject.includes(name),
    );
    const page = await open(viewport, linkIn(mail, 'reveal'));
    expect(await page.locator('main').innerText()).toMatch(/shown once/i);
    await expectFits(page);
    await page.getByRole('button', { name: /reveal/i }).click();
    expect(await statusText(page)).toContain(rotated);
    await expectFits(page);
    await waitForState<TransitionState>(stack, id, (s) => s.credentials.some((c) => c.status === 'revealed'));

    await page.reload();
    const again = await page.locator('main').innerText();
    expect(again).not.toContain(rotated);
    expect(again).toContain('already revealed');
    expect(again).toContain('morgan@msp.example');
    await expectFits(page);

    // Lost before it was saved: an operator mails a fresh one-time link; the old one stays spent.
    const reissue = `/v1/transitions/${id}/credentials/domain-admin/reissue`;
    expect((await stack.call('POST', reissue, {})).status).toBe(400);
    expect((await stack.call('POST', reissue, { reason: 'x' }, auditorKey)).status).toBe(403);
    const reissued = await stack.call('POST', reissue, { reason: 'Dana closed the page before saving it' });
    expect(reissued.status).toBe(200);
    expect(((await reissued.json()) as TransitionState).controls.at(-1)).toMatchObject({
      action: 'reveal-reissued',
      actor: 'ops',
      details: { credential: 'domain-admin' },
    });
    const fresh = linkIn(
      await stack.waitForMail(
        (m) =>
          m.subject?.includes(name) === true &&
          m.subject.startsWith('New credential ready') &&
          !mail.text?.includes(linkIn(m, 'reveal')),
      ),
      'reveal',
    );
    await page.reload();
    expect(await page.locator('main').innerText()).toMatch(/a newer link was sent/i);
    const second = await (await session.context(viewport)).newPage();
    await second.goto(fresh);
    await second.getByRole('button', { name: /reveal/i }).click();
    expect(await statusText(second)).toContain(rotated);
    const trail = (await (
      await stack.call('GET', `/v1/transitions/${id}/audit`, undefined, auditorKey)
    ).json()) as {
      entries: { action: string; actor: string; details: string }[];
    };
    expect(trail.entries).toContainEqual(
      expect.objectContaining({
        action: 'reveal link reissued',
        actor: 'ops',
        details: 'credential domain-admin; reason: Dana closed the page before saving it',
      }),
    );
  });

  it('an operator signs in at /codec/session', async () => {
    const page = await open(viewport, `${stack.api.url}/codec/session`);
    await expectFits(page);
    await page.getByLabel(/API key/i).fill(operatorKey);
    await page.getByRole('button', { name: /sign in/i }).click();
    expect(await statusText(page)).toContain('signed in as ops');
    const cookies = await page.context().cookies(`${stack.api.url}/codec/decode`);
    expect(cookies.map((cookie) => cookie.name)).toContain('codec_session');
    await expectFits(page);
  });
});
