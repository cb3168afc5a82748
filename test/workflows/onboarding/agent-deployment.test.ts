// The onboarding's agent-deployment step alone: a task per device with agents planned, finished with
// evidence of the check-in; then the client confirms, when asked. Devices with no agent planned get
// no task and are named in the record as not monitored.
import { describe, expect, it } from 'vitest';
import { stateQuery } from '../../../domain/definitions.js';
import { onboardingRequest, uniqueClientId } from '../../factories.js';
import { useStepHarness, withStep } from '../../support/step-harness.js';
import { allTasks, decideByMail, finishTask } from '../../support/workflow-env.js';

const workflows = useStepHarness('agent-deployment');

const devices = [
  { id: 'srv-01', hostname: 'srv-01.bright.local', type: 'server', agents: ['rmm', 'backup'] },
  { id: 'ws-01', hostname: 'reception.bright.local', type: 'workstation', agents: ['rmm', 'edr'] },
  { id: 'prn-01', hostname: 'printer.bright.local', type: 'other', agents: [] },
];

describe('onboarding step agent-deployment', () => {
  it('a task per device with agents planned, the evidence in the record, then the client confirms', async () => {
    const name = 'Deployment Dental';
    const request = onboardingRequest({
      client: { id: uniqueClientId('deploy'), name, timezone: 'UTC' },
      scope: { devices },
      approvalSteps: ['agent-deployment'],
    });
    const { state, tasks, handle } = await withStep(
      workflows,
      { kind: 'onboarding', step: 'agent-deployment', request },
      async (handle, sent) => {
        const tasksMail = await workflows.mailWithSubject(`Tasks to do: Agent deployment record for ${name}`);
        expect(tasksMail.text).toContain(
          '`agent-deployment.srv-01`: Deploy rmm, backup to srv-01.bright.local and verify that each agent checks in',
        );
        expect(tasksMail.text).toContain(
          '`agent-deployment.ws-01`: Deploy rmm, edr to reception.bright.local and verify that each agent checks in',
        );
        expect(tasksMail.text).not.toContain('prn-01');
        const deploying = await handle.query(stateQuery);
        expect(deploying.steps[0]!.status).toBe('awaiting-task');
        expect(deploying.tasks.map((task) => task.id)).toEqual([
          'agent-deployment.srv-01',
          'agent-deployment.ws-01',
        ]);
        // The client is asked only once the agents are deployed.
        expect(sent.some((mail) => mail.key.startsWith('agent-deployment-1:'))).toBe(false);

        await finishTask(
          handle,
          'agent-deployment.srv-01',
          { text: 'both agents checked in at 10:02' },
          'jordan',
        );
        await finishTask(
          handle,
          'agent-deployment.ws-01',
          { text: 'RMM and EDR checked in', url: 'https://rmm.example/devices/ws-01' },
          'sam',
        );
        const asked = await workflows.mailWithSubject(`Approval needed: Agent deployment record for ${name}`);
        await decideByMail(handle, asked, 'approve');
        return { state: await handle.result(), tasks: await allTasks(handle), handle };
      },
    );

    expect(state.status).toBe('completed');
    expect(state.steps[0]).toMatchObject({
      key: 'agent-deployment',
      status: 'completed',
      documentId: '01-agent-deployment',
    });
    expect(tasks.map((task) => [task.id, task.status, task.completedBy])).toEqual([
      ['agent-deployment.srv-01', 'completed', 'jordan'],
      ['agent-deployment.ws-01', 'completed', 'sam'],
    ]);
    expect(state.approvals).toEqual([
      expect.objectContaining({ requestId: 'agent-deployment-1', status: 'approved' }),
    ]);
    expect(Date.parse(state.approvals[0]!.requestedAt)).toBeGreaterThanOrEqual(
      Math.max(...tasks.map((task) => Date.parse(task.completedAt!))),
    );

    const text = await workflows.documentText(handle, '01-agent-deployment');
    expect(text).toContain('| `srv-01` | srv-01.bright.local | server | rmm, backup |');
    expect(text).toContain('| `ws-01` | reception.bright.local | workstation | rmm, edr |');
    expect(text).toContain('| `prn-01` | printer.bright.local | other | none planned |');
    expect(text).toContain('Devices without any agent planned (not monitored): `prn-01`.');
    expect(text).toMatch(
      /\| `agent-deployment\.srv-01` \| `srv-01` \| completed \| .+ \| jordan \| both agents checked in at 10:02 \|/,
    );
    expect(text).toMatch(
      /\| `agent-deployment\.ws-01` \| `ws-01` \| completed \| .+ \| sam \| RMM and EDR checked in \(https:\/\/rmm\.example\/devices\/ws-01\) \|/,
    );
    expect(text).toContain('Request `agent-deployment-1`: **approved**');
  });

  it('the client is asked to confirm agents only on the devices that got them', async () => {
    const name = 'Deployment Count Dental';
    const request = onboardingRequest({
      client: { id: uniqueClientId('deploy'), name, timezone: 'UTC' },
      scope: { devices },
      approvalSteps: ['agent-deployment'],
    });
    await withStep(workflows, { kind: 'onboarding', step: 'agent-deployment', request }, async (handle) => {
      await finishTask(handle, 'agent-deployment.srv-01', { text: 'checked in' });
      await finishTask(handle, 'agent-deployment.ws-01', { text: 'checked in' });
      const asked = await workflows.mailWithSubject(`Approval needed: Agent deployment record for ${name}`);
      await handle.terminate('test over');
      expect(asked.text).toContain('Confirm that the MSP agents run on 2 device(s).');
    });
  });
});
