import { access, rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { decodeOptionalFailureToOptionalError } from '@temporalio/common/lib/internal-non-workflow/index.js';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransitionState } from '../../domain/definitions.js';
import { offboardingBody, uniqueClientId } from '../factories.js';
import { csrfIn, linkIn, postForm } from '../support/links.js';
import { auditorKey, startStack, waitForState, type Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

/** An offboarding of a client of its own, waiting an hour at cutover; `approvalSteps` as given. */
function offboarding(approvalSteps: string[]) {
  const clientId = uniqueClientId('rerun');
  const name = `Client ${clientId}`;
  const body = offboardingBody({
    clientId,
    client: { id: clientId, name, timezone: 'UTC' },
    contacts: {
      approvers: [{ name: 'Dana Reyes', email: 'dana@acme.example' }],
      operators: [{ name: 'Ops', email: 'ops@msp.example' }],
    },
    terms: {
      noticePeriod: 'PT1H',
      transitionPeriod: 'PT1H',
      retentionPeriod: 'PT1H',
      approvalTimeout: 'PT10M',
      reminderInterval: 'PT5M',
    },
    approvalSteps,
  });
  return { id: `offboarding-${clientId}`, name, body };
}

const currentRunId = async (id: string) => (await stack.client.workflow.getHandle(id).describe()).runId;

describe('a transition started again after a cancellation', () => {
  type Report = {
    runId: string;
    header: { outcome: string };
    verification: { valid: boolean; documents: number };
    entries: Record<string, string>[];
  };
  const get = (route: string) => stack.call('GET', route, undefined, auditorKey);

  it('is a run of its own: its own mail, links, documents, trail and archive; the old run stays readable', async () => {
    const { id, name, body } = offboarding(['data-export']);
    const isApprovalMail = (m: { subject?: string }) =>
      m.subject === `Approval needed: Data export manifest for ${name}`;
    expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
    const oldLink = linkIn(await stack.waitForMail(isApprovalMail), 'approvals');
    const oldRun = await currentRunId(id);
    const oldCsrf = csrfIn(await (await fetch(oldLink)).text());
    expect(
      (await stack.call('POST', `/v1/transitions/${id}/cancel`, { reason: 'notice withdrawn' })).status,
    ).toBe(200);
    await waitForState<TransitionState>(stack, id, (state) => state.status === 'cancelled');

    expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
    const newRun = await currentRunId(id);
    expect(newRun).not.toBe(oldRun);
    const newLink = linkIn(
      await stack.waitForMail((m) => isApprovalMail(m) && linkIn(m, 'approvals') !== oldLink),
      'approvals',
    );
    expect(stack.mail.filter((m) => m.subject === `Termination timeline for ${name}`)).toHaveLength(2);

    // The cancelled run's link decides nothing, least of all on the new run.
    const stale = await postForm(
      oldLink,
      { decision: 'approve', comment: 'from the cancelled run', csrf: oldCsrf },
      { origin: new URL(oldLink).origin },
    );
    expect([404, 409, 410]).toContain(stale.status);
    expect(stale.headers.get('content-type')).toMatch(/text\/html/);
    expect(await stale.text()).not.toContain('Thank you');
    // Opening it says how that run ended, and whom to ask.
    const closed = await fetch(oldLink);
    expect(closed.status).toBe(410);
    const closedPage = await closed.text();
    expect(closedPage).toContain('This request is closed: the offboarding it belongs to was cancelled.');
    expect(closedPage).not.toContain('name="csrf"');
    const untouched = await waitForState<TransitionState>(stack, id, () => true);
    expect(untouched.approvals).toEqual([expect.objectContaining({ status: 'pending', decisions: [] })]);

    const decided = await postForm(
      newLink,
      {
        decision: 'approve',
        comment: 'Approved in the second run.',
        csrf: csrfIn(await (await fetch(newLink)).text()),
      },
      { origin: new URL(newLink).origin },
    );
    expect(decided.status).toBe(200);
    await waitForState<TransitionState>(
      stack,
      id,
      (state) => state.steps.find((step) => step.key === 'data-export')?.documentId !== undefined,
    );

    const latest = (await (await get(`/v1/transitions/${id}/documents`)).json()) as {
      runId: string;
      documents: { id: string }[];
    };
    expect(latest.runId).toBe(newRun);
    expect(latest.documents.map((doc) => doc.id)).toEqual(['01-termination-notice', '02-data-export']);
    const newExport = await (await get(`/v1/transitions/${id}/documents/02-data-export`)).text();
    expect(newExport).toContain('| Outcome | completed |');
    expect(newExport).toContain(`| Run | \`${newRun}\` |`);
    expect(newExport).toContain('Approved in the second run.');

    const earlier = (await (await get(`/v1/transitions/${id}/documents?runId=${oldRun}`)).json()) as {
      runId: string;
      documents: { id: string }[];
    };
    expect(earlier.runId).toBe(oldRun);
    expect(earlier.documents.map((doc) => doc.id)).toEqual(['01-termination-notice', '02-data-export']);
    const oldExport = await (
      await get(`/v1/transitions/${id}/documents/02-data-export?runId=${oldRun}`)
    ).text();
    expect(oldExport).toContain('| Outcome | cancelled |');
    expect(oldExport).toContain('notice withdrawn');

    const trail = (await (await get(`/v1/transitions/${id}/audit`)).json()) as Report;
    expect(trail.runId).toBe(newRun);
    expect(trail.header.outcome).toBe('running');
    expect(trail.verification).toMatchObject({ valid: true, documents: 2 });
    expect(trail.entries.filter((entry) => entry.action === 'approval decided')).toEqual([
      expect.objectContaining({ actor: 'dana@acme.example', details: expect.stringContaining('second run') }),
    ]);
    const oldTrail = (await (await get(`/v1/transitions/${id}/audit?runId=${oldRun}`)).json()) as Report;
    expect(oldTrail.runId).toBe(oldRun);
    expect(oldTrail.header.outcome).toBe('cancelled');
    expect(oldTrail.verification).toMatchObject({ valid: true, documents: 2 });
    expect(oldTrail.entries.some((entry) => entry.action === 'approval decided')).toBe(false);

    const pack = unzipSync(new Uint8Array(await (await get(`/v1/transitions/${id}/pack`)).arrayBuffer()));
    expect(JSON.parse(strFromU8(pack['manifest.json']!))).toMatchObject({ runId: newRun, chainValid: true });
    for (const run of [oldRun, newRun])
      await access(path.join(stack.dataDir, 'documents', id, run, 'archive', 'history.binpb'));
    const unknownRun = '00000000-0000-4000-8000-000000000000';
    expect((await get(`/v1/transitions/${id}/documents?runId=${unknownRun}`)).status).toBe(404);
    expect((await get(`/v1/transitions/${id}/audit?runId=${unknownRun}`)).status).toBe(404);
  }, 90_000);
});

describe('an email while the side-effect ledger cannot be written', () => {
  it('is not sent, the activity fails visibly on each attempt, and once the ledger is back it goes out once', async () => {
    const ledgerDir = path.join(stack.dataDir, 'ledger');
    const aside = `${ledgerDir}.aside`;
    const putBack = await rename(ledgerDir, aside).then(
      () => true,
      () => false,
    );
    // The ledger on a volume that is gone: reads find nothing recorded, every write fails (as root,
    // permissions would stop no write).
    await symlink(path.join(stack.dataDir, 'unmounted-volume', 'ledger'), ledgerDir);
    const { id, name, body } = offboarding([]);
    const isTimeline = (m: { subject?: string }) => m.subject === `Termination timeline for ${name}`;
    try {
      expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
      const handle = stack.client.workflow.getHandle(id);
      let pending;
      for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
        pending = (await handle.describe()).raw.pendingActivities?.[0];
        if ((pending?.attempt ?? 0) >= 3 && pending?.lastFailure) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(pending?.attempt).toBeGreaterThanOrEqual(3);
      // Long enough for any mail the failed attempts sent to have arrived.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(stack.mail.filter(isTimeline)).toHaveLength(0);
      const failure = await decodeOptionalFailureToOptionalError(
        stack.client.options.loadedDataConverter,
        pending?.lastFailure,
      );
      expect(failure?.message).toContain('side-effect ledger could not');
    } finally {
      await rm(ledgerDir, { force: true });
      if (putBack) await rename(aside, ledgerDir);
    }
    await waitForState<TransitionState>(stack, id, (state) => state.steps[0]?.status === 'completed', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(stack.mail.filter(isTimeline)).toHaveLength(1);
  }, 90_000);
});
