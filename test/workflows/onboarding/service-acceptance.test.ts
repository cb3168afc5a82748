// The onboarding's service-acceptance step alone: the client's approval completes the onboarding with
// the handover summary (steps, open gaps, restores, credentials); a rejection holds it until an
// operator asks again.
import { describe, expect, it } from 'vitest';
import { requestApprovalUpdate, stateQuery } from '../../../domain/definitions.js';
import { onboardingRequest, uniqueClientId } from '../../factories.js';
import { useStepHarness, withStep } from '../../support/step-harness.js';
import { decideByMail, waitFor } from '../../support/workflow-env.js';

const workflows = useStepHarness('service-acceptance');

const scope = {
  devices: [{ id: 'srv-01', hostname: 'srv-01.bright.local', type: 'server', agents: ['rmm'] }],
};

describe('onboarding step service-acceptance', () => {
  it('completes on the client approval, with the handover summary', async () => {
    const name = 'Acceptance Dental';
    const request = onboardingRequest({
      client: { id: uniqueClientId('accept'), name, timezone: 'UTC' },
      scope,
    });
    expect(request.approvalSteps).toEqual(['service-acceptance']);
    const { state, handle } = await withStep(
      workflows,
      { kind: 'onboarding', step: 'service-acceptance', request },
      async (handle) => {
        const asked = await workflows.mailWithSubject(
          `Approval needed: Onboarding handover summary for ${name}`,
          'riley@bright.example',
        );
        expect(asked.text).toContain(
          `Accept the onboarding of ${name}: 1 device(s) under management, 0 credential(s) vaulted, 0 restore(s) proven (0 flagged), 1 open gap(s). Approving completes the onboarding.`,
        );
        const asking = await handle.query(stateQuery);
        expect(asking.status).toBe('running');
        expect(asking.steps[0]!.status).toBe('awaiting-approval');
        const decided = await decideByMail(handle, asked, 'approve', 'accepted');
        expect(decided.approvalStatus).toBe('approved');
        return { state: await handle.result(), handle };
      },
    );

    expect(state.status).toBe('completed');
    expect(state.outcome).toBe('all steps completed');
    expect(state.steps).toEqual([
      expect.objectContaining({
        key: 'service-acceptance',
        status: 'completed',
        documentId: '01-service-acceptance',
      }),
    ]);
    expect(state.approvals).toEqual([
      expect.objectContaining({
        status: 'approved',
        decisions: [expect.objectContaining({ approver: 'riley@bright.example', comment: 'accepted' })],
      }),
    ]);

    const text = await workflows.documentText(handle, '01-service-acceptance');
    expect(text).toMatch(/^\| `service-acceptance` \| completed \| .+ \| .+ \| .+ \|$/m);
    expect(text).toContain(
      '## Open gaps\n\n- **server-without-backup** (`srv-01`): server srv-01.bright.local has no backup job\n',
    );
    expect(text).toContain('## Restores\n\nNo restore was tested.\n');
    expect(text).toContain('| — | no credential in scope |');
    expect(text).toMatch(
      /\| riley@bright\.example \| approve \| .+ \| accepted \| 203\.0\.113\.7 \| vitest \|/,
    );
  });

  it('a rejection holds it with its own document until an operator asks again; then the approval completes it', async () => {
    const name = 'Rejecting Dental';
    const request = onboardingRequest({
      client: { id: uniqueClientId('accept'), name, timezone: 'UTC' },
      scope,
    });
    const subject = `Approval needed: Onboarding handover summary for ${name}`;
    const { state, handle } = await withStep(
      workflows,
      { kind: 'onboarding', step: 'service-acceptance', request },
      async (handle, sent) => {
        const first = await workflows.mailWithSubject(subject);
        await decideByMail(handle, first, 'reject', 'srv-01 has no backup yet');
        const told = await workflows.mailWithSubject(`Rejected: Onboarding handover summary for ${name}`);
        expect(told.text).toContain('riley@bright.example decided reject: srv-01 has no backup yet');
        const held = await handle.query(stateQuery);
        expect(held.status).toBe('running');
        expect(held.steps[0]!.status).toBe('rejected');
        expect((await workflows.documentsOf(handle)).map((doc) => doc.id)).toEqual([
          '01-service-acceptance-rejected-1',
        ]);

        await handle.executeUpdate(requestApprovalUpdate, {
          args: [{ actor: 'ops', reason: 'backup job set up for srv-01', step: 'service-acceptance' }],
        });
        await waitFor(() => sent.find((mail) => mail.key === 'service-acceptance-2:request'));
        const second = await waitFor(async () => {
          const received = (await workflows.mails()).filter((mail) => mail.subject === subject);
          return received.length === 2 ? received[0] : undefined;
        });
        // The first link decided already: it cannot decide the new request.
        await expect(decideByMail(handle, first, 'approve')).rejects.toThrow();
        await decideByMail(handle, second, 'approve', 'accepted now');
        return { state: await handle.result(), handle };
      },
    );

    expect(state.status).toBe('completed');
    expect(state.steps[0]).toMatchObject({ status: 'completed', documentId: '01-service-acceptance' });
    expect(state.approvals.map((approval) => [approval.requestId, approval.status])).toEqual([
      ['service-acceptance-1', 'rejected'],
      ['service-acceptance-2', 'approved'],
    ]);
    expect(state.controls).toEqual([
      expect.objectContaining({
        action: 'approval-requested',
        actor: 'ops',
        reason: 'backup job set up for srv-01',
      }),
    ]);
    const documents = await workflows.documentsOf(handle);
    expect(documents.map((doc) => doc.id)).toEqual([
      '01-service-acceptance-rejected-1',
      '01-service-acceptance',
    ]);
    const rejected = await workflows.documentText(handle, '01-service-acceptance-rejected-1');
    expect(rejected).toContain('| Outcome | rejected |');
    expect(rejected).toMatch(/\| riley@bright\.example \| reject \| .+ \| srv-01 has no backup yet \|/);
    const text = await workflows.documentText(handle, '01-service-acceptance');
    expect(text).toContain('Request `service-acceptance-1`: **rejected**');
    expect(text).toContain('Request `service-acceptance-2`: **approved**');
    expect(text).toMatch(/\| .+ \| approval-requested \| ops \| backup job set up for srv-01 \|/);
  });
});
