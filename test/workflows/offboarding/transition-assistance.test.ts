// The offboarding's transition-assistance step alone: a durable timer until the assistance ends,
// with no reminder; an extension of the transition period moves it.
import { describe, expect, it } from 'vitest';
import { extendUpdate } from '../../../domain/definitions.js';
import { dateInWordsAndUtc } from '../../../domain/timeline.js';
import { uniqueClientId } from '../../factories.js';
import { useStepHarness, withStep } from '../../support/step-harness.js';

const workflows = useStepHarness('transition-assistance');
const day = 24 * 3600 * 1000;

describe('offboarding step transition-assistance', () => {
  it('waits until the end of the transition assistance, silently', async () => {
    const zone = 'Australia/Sydney';
    const request = await workflows.requestNow({
      client: { id: uniqueClientId('assist'), name: 'Assistance Dental', timezone: zone },
    });
    const notice = Date.parse(request.terms.noticeReceivedAt);
    const { state, sent, handle } = await withStep(
      workflows,
      { kind: 'offboarding', step: 'transition-assistance', request },
      async (handle, sent) => ({ state: await handle.result(), sent, handle }),
    );

    const endsAt = state.dates.assistanceEndsAt!;
    expect(Date.parse(endsAt) - notice).toBe(60 * day);
    expect(state.status).toBe('completed');
    const step = state.steps[0]!;
    expect(step).toMatchObject({
      key: 'transition-assistance',
      status: 'completed',
      documentId: '01-transition-assistance',
    });
    expect(Date.parse(step.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(endsAt));
    expect(Date.parse(step.finishedAt!) - Date.parse(endsAt)).toBeLessThan(60_000);
    expect(await workflows.env.currentTimeMs()).toBeGreaterThanOrEqual(Date.parse(endsAt));
    expect(sent).toEqual([]);

    const text = await workflows.documentText(handle, '01-transition-assistance');
    expect(text).toContain(`Transition assistance ended on ${dateInWordsAndUtc(endsAt, zone)}.`);
  });

  it('an extension of the transition period moves the end, and the wait with it', async () => {
    const request = await workflows.requestNow();
    const notice = Date.parse(request.terms.noticeReceivedAt);
    const { state, handle } = await withStep(
      workflows,
      { kind: 'offboarding', step: 'transition-assistance', request },
      async (handle) => {
        await handle.executeUpdate(extendUpdate, {
          args: [
            {
              actor: 'ops',
              reason: 'migration of the PACS runs late',
              period: 'transitionPeriod',
              by: 'P2W',
            },
          ],
        });
        return { state: await handle.result(), handle };
      },
    );
    const endsAt = state.dates.assistanceEndsAt!;
    expect(Date.parse(endsAt) - notice).toBe(74 * day);
    expect(Date.parse(state.steps[0]!.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(endsAt));
    const text = await workflows.documentText(handle, '01-transition-assistance');
    expect(text).toContain(dateInWordsAndUtc(endsAt, request.client.timezone));
    expect(text).toMatch(/\| .+ \| extended \| ops \| migration of the PACS runs late \|/);
  });
});
