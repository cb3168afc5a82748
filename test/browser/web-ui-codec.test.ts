// Temporal's own Web UI (served by the dev server, as in the embedded run) showing a transition's
// input in Debian's Chromium: encrypted until an operator has signed this browser in at
// /codec/session and set the UI's Codec Server settings as the README says. The settings are
// pressed by their visible labels, so a UI that renames them fails here before the README misleads.
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { offboardingBody, uniqueClientId } from '../factories.js';
import { launchBrowser, type BrowserSession } from '../support/browser.js';
import { operatorKey, startStack, type Stack } from '../support/stack.js';

let stack: Stack;
let session: BrowserSession;

beforeAll(async () => {
  [stack, session] = await Promise.all([startStack({}, { webUi: true }), launchBrowser()]);
}, 120_000);

afterAll(async () => {
  await session?.close();
  await stack?.stop();
});

/** The UI's first answers can be slow on a shared 2-core machine. */
const uiTimeout = 30_000;

async function signIn(context: BrowserContext): Promise<void> {
  const page = await context.newPage();
  await page.goto(`${stack.config.publicUrl}/codec/session`);
  await page.getByLabel(/API key/i).fill(operatorKey);
  await page.getByRole('button', { name: /sign in/i }).click();
  await expect.poll(() => page.getByRole('status').innerText()).toContain('signed in as ops');
  // The answer page names the same settings as useBrowserCodecSettings presses.
  const steps = await page.locator('main').innerText();
  expect(steps).toContain('Use my browser setting and ignore Cluster-level setting.');
  expect(steps).toContain(`paste ${stack.config.publicUrl}/codec as the “Codec Server browser endpoint”`);
  expect(steps).toContain('Include cross-origin credentials');
  await page.close();
}

/** The README's steps in the UI's Codec Server dialog, opened from the button in its top bar. */
async function useBrowserCodecSettings(context: BrowserContext): Promise<void> {
  const page = await context.newPage();
  await page.goto(`${stack.webUiUrl}/namespaces/default/workflows`);
  await page.locator('[data-testid^="data-encoder-status"]').click({ timeout: uiTimeout });
  const dialog = page.getByRole('dialog', { name: 'Codec Server' });
  await dialog.getByText('Use my browser setting and ignore Cluster-level setting.').click();
  await dialog.getByLabel('Codec Server browser endpoint').fill(`${stack.config.publicUrl}/codec`);
  await dialog.getByText('Include cross-origin credentials').click();
  await dialog.getByRole('button', { name: 'Apply' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await page.close();
}

/** The workflow's page once the UI has tried to decode its payloads. */
async function workflowPage(context: BrowserContext, id: string, decoded: boolean): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${stack.webUiUrl}/namespaces/default/workflows/${id}`);
  // The status button in the UI's top bar ("Codec Server could not connect" when it failed).
  const outcome = decoded ? 'data-encoder-status-success' : 'data-encoder-status-error';
  await page.getByTestId(outcome).waitFor({ timeout: uiTimeout });
  return page;
}

it('shows the decoded input only once the browser is signed in and sends its cookie', async () => {
  const clientId = uniqueClientId('webui');
  const name = `Acme Dental ${clientId}`;
  const body = offboardingBody({ clientId, client: { id: clientId, name, timezone: 'America/Chicago' } });
  expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
  const id = `offboarding-${clientId}`;

  // Signed in, but the dev server's own codec setting does not send cookies: still encrypted.
  const defaults = await session.context('desktop');
  await signIn(defaults);
  const withoutCredentials = await workflowPage(defaults, id, false);
  expect(await withoutCredentials.getByText(name).count()).toBe(0);

  // The README's settings without a session: the codec answers 401, still encrypted.
  const context = await session.context('desktop');
  await useBrowserCodecSettings(context);
  const beforeSignIn = await workflowPage(context, id, false);
  expect(await beforeSignIn.getByText(name).count()).toBe(0);

  // Signed in with those settings: the input shows decrypted.
  await signIn(context);
  const afterSignIn = await workflowPage(context, id, true);
  await afterSignIn.getByText(name).first().waitFor();
});
