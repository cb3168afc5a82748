// The onboarding's discovery step alone: the inventory from the scope, with the gaps an onboarding
// must not miss flagged; the client confirms it when the request lists discovery among approvalSteps.
import { describe, expect, it } from 'vitest';
import { onboardingRequest, uniqueClientId } from '../../factories.js';
import { useStepHarness, withStep } from '../../support/step-harness.js';
import { decideByMail } from '../../support/workflow-env.js';

const workflows = useStepHarness('discovery');

const scope = {
  devices: [
    { id: 'srv-01', hostname: 'srv-01.bright.local', type: 'server', agents: ['rmm', 'backup'] },
    { id: 'srv-02', hostname: 'srv-02.bright.local', type: 'server', agents: ['rmm'] },
    { id: 'ws-01', hostname: 'reception.bright.local', type: 'workstation', agents: [] },
  ],
  credentials: [{ id: 'domain-admin', system: 'Active Directory', account: 'msp-admin' }],
  backupJobs: [
    { id: 'srv-01-nightly', device: 'srv-01', rto: 'PT4H' },
    { id: 'nas-weekly', device: 'nas-01' },
  ],
};

describe('onboarding step discovery', () => {
  it('flags a server without backup, a backup of an unknown device and a device without agent; the client confirms', async () => {
    const name = 'Discovery Dental';
    const request = onboardingRequest({
      client: { id: uniqueClientId('discovery'), name, timezone: 'UTC' },
      scope,
      approvalSteps: ['discovery'],
    });
    const { state, handle } = await withStep(
      workflows,
      { kind: 'onboarding', step: 'discovery', request },
      async (handle) => {
        const asked = await workflows.mailWithSubject(
          `Approval needed: Environment discovery report for ${name}`,
          'riley@bright.example',
        );
        expect(asked.text).toContain(
          'Confirm the inventory: 3 device(s), 1 account(s), 2 backup job(s), 3 gap(s) flagged.',
        );
        await decideByMail(handle, asked, 'approve');
        return { state: await handle.result(), handle };
      },
    );

    expect(state.status).toBe('completed');
    expect(state.steps).toEqual([
      expect.objectContaining({ key: 'discovery', status: 'completed', documentId: '01-discovery' }),
    ]);
    expect(state.approvals).toEqual([
      expect.objectContaining({
        requestId: 'discovery-1',
        status: 'approved',
        decisions: [expect.objectContaining({ approver: 'riley@bright.example', decision: 'approve' })],
      }),
    ]);

    const text = await workflows.documentText(handle, '01-discovery');
    expect(text).toContain('| `srv-01` | srv-01.bright.local | server | rmm, backup | manual |');
    expect(text).toContain('| `ws-01` | reception.bright.local | workstation | none | manual |');
    expect(text).toContain('| `domain-admin` | Active Directory | msp-admin |');
    expect(text).toContain('| `srv-01-nightly` | `srv-01` | PT4H |');
    expect(text).toContain('| `nas-weekly` | `nas-01` | — |');
    const gaps = text.slice(text.indexOf('## Gaps'));
    expect(gaps.match(/^- .+$/gm)).toEqual([
      '- **server-without-backup** (`srv-02`): server srv-02.bright.local has no backup job',
      '- **backup-for-unknown-device** (`nas-weekly`): backup job nas-weekly protects nas-01, which is not in the device inventory',
      '- **device-without-agent** (`ws-01`): reception.bright.local has no agent planned',
    ]);
    expect(text).toContain('Request `discovery-1`: **approved**');
  });

  it('without approval and without gaps: written at once, saying no gap was found', async () => {
    const request = onboardingRequest({
      scope: {
        devices: [scope.devices[0]],
        backupJobs: [scope.backupJobs[0]],
      },
    });
    const { state, handle, sent } = await withStep(
      workflows,
      { kind: 'onboarding', step: 'discovery', request },
      async (handle, sent) => ({ state: await handle.result(), handle, sent }),
    );
    expect(state.steps[0]).toMatchObject({ status: 'completed', documentId: '01-discovery' });
    expect(state.approvals).toEqual([]);
    expect(sent).toEqual([]);
    const text = await workflows.documentText(handle, '01-discovery');
    expect(text).toContain('No gap found: every server has a backup job, every backup job a known device');
    expect(text).toContain('| — | no account in scope | |');
  });
});
