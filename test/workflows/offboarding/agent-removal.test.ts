// The offboarding's agent-removal step alone: the client approves first, then a removal task per
// device, and the record lists each device with the evidence of its removal.
import { describe, expect, it } from 'vitest';
import { stateQuery } from '../../../domain/definitions.js';
import { uniqueClientId } from '../../factories.js';
import { useStepHarness, withStep } from '../../support/step-harness.js';
import { allTasks, decideByMail, finishTask } from '../../support/workflow-env.js';

const workflows = useStepHarness('agent-removal');

const devices = [
  { id: 'srv-01', hostname: 'srv-01.acme.local', type: 'server', agents: ['rmm', 'backup'] },
  { id: 'ws-07', hostname: 'frontdesk.acme.local', type: 'workstation', agents: ['rmm', 'remote-access'] },
  { id: 'fw-01', hostname: 'fw.acme.local', type: 'firewall', agents: [] },
];

describe('offboarding step agent-removal', () => {
  it('asks the client first, then a task per device; the record lists each device and its evidence', async () => {
    const name = 'Removal Dental';
    const request = await workflows.requestNow({
      client: { id: uniqueClientId('removal'), name, timezone: 'UTC' },
      scope: { devices },
      approvalSteps: ['agent-removal'],
    });
    const { state, tasks, handle } = await withStep(
      workflows,
      { kind: 'offboarding', step: 'agent-removal', request },
      async (handle) => {
        const asked = await workflows.mailWithSubject(
          `Approval needed: Agent removal record for ${name}`,
          'dana@acme.example',
        );
        expect(asked.text).toContain(
          'Approve the removal of every MSP agent (RMM, monitoring, backup, remote access) from 3 device(s).',
        );
        // Nothing is removed before the client approves.
        const asking = await handle.query(stateQuery);
        expect(asking.steps[0]!.status).toBe('awaiting-approval');
        expect(asking.tasks).toEqual([]);
        await decideByMail(handle, asked, 'approve');

        const tasksMail = await workflows.mailWithSubject(`Tasks to do: Agent removal record for ${name}`);
        expect(tasksMail.text).toContain(
          '`agent-removal.srv-01`: Remove rmm, backup from srv-01.acme.local and verify removal',
        );
        expect(tasksMail.text).toContain(
          '`agent-removal.ws-07`: Remove rmm, remote-access from frontdesk.acme.local and verify removal',
        );
        expect(tasksMail.text).toContain(
          '`agent-removal.fw-01`: Remove all MSP agents from fw.acme.local and verify removal',
        );
        await finishTask(
          handle,
          'agent-removal.srv-01',
          { text: 'RMM and backup agents uninstalled, services gone' },
          'jordan',
        );
        await finishTask(
          handle,
          'agent-removal.ws-07',
          { text: 'uninstalled, no check-in for 24 hours', url: 'https://rmm.example/audit/ws-07' },
          'jordan',
        );
        await finishTask(
          handle,
          'agent-removal.fw-01',
          { text: 'SNMP community and MSP admin removed' },
          'sam',
        );
        return { state: await handle.result(), tasks: await allTasks(handle), handle };
      },
    );

    expect(state.status).toBe('completed');
    expect(state.steps[0]).toMatchObject({
      key: 'agent-removal',
      status: 'completed',
      documentId: '01-agent-removal',
    });
    expect(state.approvals).toEqual([
      expect.objectContaining({ requestId: 'agent-removal-1', status: 'approved' }),
    ]);
    expect(tasks.map((task) => [task.id, task.status, task.completedBy])).toEqual([
      ['agent-removal.srv-01', 'completed', 'jordan'],
      ['agent-removal.ws-07', 'completed', 'jordan'],
      ['agent-removal.fw-01', 'completed', 'sam'],
    ]);
    for (const task of tasks)
      expect(Date.parse(task.createdAt)).toBeGreaterThanOrEqual(Date.parse(state.approvals[0]!.settledAt!));

    const text = await workflows.documentText(handle, '01-agent-removal');
    expect(text).toContain('| `srv-01` | srv-01.acme.local | server | rmm, backup |');
    expect(text).toContain('| `ws-07` | frontdesk.acme.local | workstation | rmm, remote-access |');
    expect(text).toContain('| `fw-01` | fw.acme.local | firewall |  |');
    expect(text).toMatch(
      /\| `agent-removal\.srv-01` \| `srv-01` \| completed \| .+ \| jordan \| RMM and backup agents uninstalled, services gone \|/,
    );
    expect(text).toMatch(
      /\| `agent-removal\.ws-07` \| `ws-07` \| completed \| .+ \| jordan \| uninstalled, no check-in for 24 hours \(https:\/\/rmm\.example\/audit\/ws-07\) \|/,
    );
    expect(text).toMatch(
      /\| `agent-removal\.fw-01` \| `fw-01` \| completed \| .+ \| sam \| SNMP community and MSP admin removed \|/,
    );
    expect(text).toContain('Request `agent-removal-1`: **approved**');
    expect(text).toMatch(/\| dana@acme\.example \| approve \| .+ \| — \| 203\.0\.113\.7 \| vitest \|/);
  });
});
