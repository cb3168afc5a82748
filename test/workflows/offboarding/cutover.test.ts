// The offboarding's cutover step alone: a durable timer until the end of the notice period, with
// reminders to everyone 7 days and 1 day ahead; an extension of the notice period moves it.
import { describe, expect, it } from 'vitest';
import { extendUpdate } from '../../../domain/definitions.js';
import { dateInWords, dateInWordsAndUtc } from '../../../domain/timeline.js';
import { uniqueClientId } from '../../factories.js';
import { useStepHarness, withStep } from '../../support/step-harness.js';

const workflows = useStepHarness('cutover');
const day = 24 * 3600 * 1000;

describe('offboarding step cutover', () => {
  it('waits until the cutover date, reminding everyone 7 days and 1 day ahead', async () => {
    const zone = 'America/Chicago';
    const name = 'Cutover Dental One';
    const request = await workflows.requestNow({
      client: { id: uniqueClientId('cutover'), name, timezone: zone },
    });
    const notice = Date.parse(request.terms.noticeReceivedAt);
    const { state, sent, handle } = await withStep(
      workflows,
      { kind: 'offboarding', step: 'cutover', request },
      async (handle, sent) => ({ state: await handle.result(), sent, handle }),
    );

    const cutoverAt = state.dates.cutoverAt!;
    expect(Date.parse(cutoverAt) - notice).toBe(30 * day);
    expect(state.status).toBe('completed');
    const step = state.steps[0]!;
    expect(step).toMatchObject({ key: 'cutover', status: 'completed', documentId: '01-cutover' });
    // Not a moment early, and not long after: the server's clock was skipped to the cutover.
    expect(Date.parse(step.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(cutoverAt));
    expect(Date.parse(step.finishedAt!) - Date.parse(cutoverAt)).toBeLessThan(60_000);
    expect(await workflows.env.currentTimeMs()).toBeGreaterThanOrEqual(Date.parse(cutoverAt));

    const reminders = sent.filter((mail) => mail.key.includes(':reminder:cutover:'));
    expect(reminders.map((mail) => Math.round((Date.parse(cutoverAt) - mail.at) / day))).toEqual([7, 1]);
    for (const reminder of reminders) expect(reminder.to).toEqual(['dana@acme.example', 'ops@msp.example']);
    expect(await workflows.subjects()).toContain(
      `Reminder: Service cutover for ${name} on ${dateInWords(cutoverAt, zone)}`,
    );

    const text = await workflows.documentText(handle, '01-cutover');
    expect(text).toContain(`Service cutover was due on ${dateInWordsAndUtc(cutoverAt, zone)}, the end`);
    expect(text).toContain('| Outcome | completed |');
  });

  it('an extension of the notice period moves the cutover, and the wait with it', async () => {
    const request = await workflows.requestNow();
    const notice = Date.parse(request.terms.noticeReceivedAt);
    const { state, sent, handle } = await withStep(
      workflows,
      { kind: 'offboarding', step: 'cutover', request },
      async (handle, sent) => {
        const extended = await handle.executeUpdate(extendUpdate, {
          args: [
            { actor: 'ops', reason: 'client asked for ten more days', period: 'noticePeriod', by: 'P10D' },
          ],
        });
        expect(Date.parse(extended.dates.cutoverAt!) - notice).toBe(40 * day);
        expect(extended.nextTimer).toEqual({ name: 'cutover', firesAt: extended.dates.cutoverAt });
        return { state: await handle.result(), sent, handle };
      },
    );

    const cutoverAt = Date.parse(state.dates.cutoverAt!);
    expect(cutoverAt - notice).toBe(40 * day);
    expect(Date.parse(state.steps[0]!.finishedAt!)).toBeGreaterThanOrEqual(cutoverAt);
    const reminders = sent.filter((mail) => mail.key.includes(':reminder:cutover:'));
    expect(reminders.map((mail) => Math.round((cutoverAt - mail.at) / day))).toEqual([7, 1]);
    expect(state.controls).toEqual([
      expect.objectContaining({
        action: 'extended',
        actor: 'ops',
        details: { period: 'noticePeriod', by: 'P10D', from: 'P30D', to: 'P40D' },
      }),
    ]);

    const text = await workflows.documentText(handle, '01-cutover');
    expect(text).toContain(dateInWordsAndUtc(state.dates.cutoverAt!, request.client.timezone));
    expect(text).toMatch(/\| .+ \| extended \| ops \| client asked for ten more days \|/);
  });
});
