// The offboarding's termination-notice step alone: it computes the dates once, mails everyone the
// timeline, and writes the acknowledgement with the terms, the dates and the steps the client approves.
import { describe, expect, it } from 'vitest';
import { dateInWordsAndUtc } from '../../../domain/timeline.js';
import { uniqueClientId } from '../../factories.js';
import { useStepHarness, withStep } from '../../support/step-harness.js';

const workflows = useStepHarness('termination-notice');
const day = 24 * 3600 * 1000;

describe('offboarding step termination-notice', () => {
  it('mails everyone the timeline with the three dates at once and writes 01-termination-notice', async () => {
    const zone = 'Europe/Berlin';
    const request = await workflows.requestNow({
      client: { id: uniqueClientId('notice'), name: 'Notice Dental', timezone: zone },
      approvalSteps: ['data-export', 'retention-deletion'],
    });
    const notice = Date.parse(request.terms.noticeReceivedAt);
    const { state, sent, handle } = await withStep(
      workflows,
      { kind: 'offboarding', step: 'termination-notice', request },
      async (handle, sent) => ({ state: await handle.result(), sent, handle }),
    );

    expect(state.status).toBe('completed');
    expect(state.steps).toEqual([
      expect.objectContaining({
        key: 'termination-notice',
        status: 'completed',
        documentId: '01-termination-notice',
      }),
    ]);
    const { cutoverAt, assistanceEndsAt, deletionDueAt } = state.dates;
    expect(Date.parse(cutoverAt!) - notice).toBe(30 * day);
    expect(Date.parse(assistanceEndsAt!) - notice).toBe(60 * day);
    expect(Date.parse(deletionDueAt!) - notice).toBe(150 * day);
    // Nothing to wait for: the step is done on the day the notice arrives.
    expect(Date.parse(state.steps[0]!.finishedAt!) - notice).toBeLessThan(60_000);

    // The timeline: one mail to the approvers and the operators, each date in the client's zone.
    expect(sent.map((mail) => mail.key)).toEqual([`${state.id}:timeline`]);
    expect(sent[0]!.to).toEqual(['dana@acme.example', 'ops@msp.example']);
    const mail = await workflows.mailWithSubject(
      'Termination timeline for Notice Dental',
      'dana@acme.example',
    );
    expect(mail.text).toContain(
      `termination notice received on ${dateInWordsAndUtc(request.terms.noticeReceivedAt, zone)}`,
    );
    expect(mail.text).toContain(`| Cutover | ${dateInWordsAndUtc(cutoverAt!, zone)} |`);
    expect(mail.text).toContain(
      `| End of transition assistance | ${dateInWordsAndUtc(assistanceEndsAt!, zone)} |`,
    );
    expect(mail.text).toContain(`| Deletion of retained data | ${dateInWordsAndUtc(deletionDueAt!, zone)} |`);

    // The acknowledgement: the terms, the dates in UTC and in the client's zone, the approvals asked.
    const documents = await workflows.documentsOf(handle);
    expect(documents).toEqual([
      expect.objectContaining({
        id: '01-termination-notice',
        step: 'termination-notice',
        previousSha256: null,
      }),
    ]);
    const text = await workflows.documentText(handle, '01-termination-notice');
    expect(text).toContain('# Termination notice acknowledgement and timeline');
    expect(text).toContain('notice period `P30D`');
    expect(text).toContain('transition period `P60D`, retention period `P90D`');
    expect(text).toContain(`| Cutover | ${dateInWordsAndUtc(cutoverAt!, zone)} |`);
    expect(text).toContain(
      `| End of transition assistance | ${dateInWordsAndUtc(assistanceEndsAt!, zone)} |`,
    );
    expect(text).toContain(`| Deletion of retained data due | ${dateInWordsAndUtc(deletionDueAt!, zone)} |`);
    expect(text).toContain('Regulatory regimes that apply: HIPAA.');
    expect(text).toContain('- `data-export`\n- `retention-deletion`\n');
    expect(text).toContain(
      'Approvals time out after `P5D`, with reminders every `P1D`; on timeout: escalate.',
    );
  });

  it('with no step to approve, says so', async () => {
    const request = await workflows.requestNow({ approvalSteps: [] });
    const handle = await withStep(
      workflows,
      { kind: 'offboarding', step: 'termination-notice', request },
      async (handle) => {
        await handle.result();
        return handle;
      },
    );
    const text = await workflows.documentText(handle, '01-termination-notice');
    expect(text).toContain("## Steps that need the client's approval\n\n- none\n");
  });
});
