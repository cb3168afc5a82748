// The offboarding's credential-rotation step alone: the client approves, the operators put each
// rotated credential into the vault (only its reference reaches the workflow), each approver gets a
// one-time reveal link for it, and then the MSP's access is revoked task by task.
import { describe, expect, it } from 'vitest';
import { revealCredentialUpdate, stateQuery, supplyCredentialUpdate } from '../../../domain/definitions.js';
import { uniqueClientId } from '../../factories.js';
import { useStepHarness, withStep } from '../../support/step-harness.js';
import { allTasks, decideByMail, finishTask, knownTokenHash, waitFor } from '../../support/workflow-env.js';

const workflows = useStepHarness('credential-rotation');

const credentials = [
  { id: 'domain-admin', system: 'Active Directory', account: 'msp-admin' },
  { id: 'm365-global', system: 'Microsoft 365', account: 'admin@acme.example' },
];
/** What the vault answers for a put: a reference, never the secret (no vault needed to make one). */
const reference = (id: string) => ({ vaultId: `vault/acme/${id}`, version: 2, fingerprint: `fp-${id}-7c41` });

describe('offboarding step credential-rotation', () => {
  it('waits for each vault reference, then mails a one-time reveal link; revokes the MSP last', async () => {
    const name = 'Rotation Dental';
    const request = await workflows.requestNow({
      client: { id: uniqueClientId('rotation'), name, timezone: 'UTC' },
      scope: { credentials },
      approvalSteps: ['credential-rotation'],
    });
    const revealDomainAdmin = `New credential ready: msp-admin on Active Directory for ${name}`;
    const revealM365 = `New credential ready: admin@acme.example on Microsoft 365 for ${name}`;
    const { state, tasks, handle, revealed } = await withStep(
      workflows,
      { kind: 'offboarding', step: 'credential-rotation', request },
      async (handle, sent) => {
        const asked = await workflows.mailWithSubject(
          `Approval needed: Credential rotation and access revocation record for ${name}`,
        );
        expect(asked.text).toContain('Approve the rotation of 2 shared credential(s)');
        await decideByMail(handle, asked, 'approve');

        const rotate = await workflows.mailWithSubject(`Rotate credentials of ${name}`, 'ops@msp.example');
        expect(rotate.text).toContain('`domain-admin`: msp-admin on Active Directory');
        expect(rotate.text).toContain('`m365-global`: admin@acme.example on Microsoft 365');
        const rotating = await handle.query(stateQuery);
        expect(rotating.steps[0]!.status).toBe('awaiting-credentials');
        expect(rotating.credentials.map((c) => [c.id, c.status])).toEqual([
          ['domain-admin', 'awaiting'],
          ['m365-global', 'awaiting'],
        ]);
        expect(rotating.tasks).toEqual([]);

        // One reference in: its reveal link goes out; the other credential is still awaited.
        await handle.executeUpdate(supplyCredentialUpdate, {
          args: [
            {
              actor: 'ops',
              credentialId: 'domain-admin',
              reference: reference('domain-admin'),
              via: 'operator-api',
            },
          ],
        });
        const revealMail = await workflows.mailWithSubject(revealDomainAdmin, 'dana@acme.example');
        const revealHash = await knownTokenHash(handle, revealMail, 'reveal');
        const halfway = await handle.query(stateQuery);
        expect(halfway.steps[0]!.status).toBe('awaiting-credentials');
        expect(halfway.credentials.find((c) => c.id === 'domain-admin')!.revealLinksSentAt).toBeDefined();
        expect(sent.filter((mail) => mail.key.startsWith('m365-global:'))).toEqual([]);
        expect(await workflows.subjects()).not.toContain(revealM365);

        await handle.executeUpdate(supplyCredentialUpdate, {
          args: [
            {
              actor: 'ops',
              credentialId: 'm365-global',
              reference: reference('m365-global'),
              via: 'operator-api',
            },
          ],
        });
        await workflows.mailWithSubject(revealM365, 'dana@acme.example');

        // The client reveals one: the link answers the reference to show, once.
        const revealed = await handle.executeUpdate(revealCredentialUpdate, {
          args: [
            {
              tokenHash: revealHash,
              ip: '203.0.113.9',
              userAgent: 'vitest',
            },
          ],
        });

        // Then the MSP's own access is revoked, a task per credential.
        await waitFor(async () => ((await handle.query(stateQuery)).tasks.length === 2 ? true : undefined));
        await finishTask(
          handle,
          'credential-rotation.domain-admin',
          { text: 'old password and sessions revoked' },
          'jordan',
        );
        await finishTask(
          handle,
          'credential-rotation.m365-global',
          { text: 'MSP admin role removed' },
          'jordan',
        );
        return { state: await handle.result(), tasks: await allTasks(handle), handle, revealed };
      },
    );

    expect(revealed).toEqual(reference('domain-admin'));
    expect(state.status).toBe('completed');
    expect(state.steps[0]).toMatchObject({
      key: 'credential-rotation',
      status: 'completed',
      documentId: '01-credential-rotation',
    });
    expect(state.credentials).toEqual([
      expect.objectContaining({
        id: 'domain-admin',
        status: 'revealed',
        reference: reference('domain-admin'),
        suppliedBy: 'ops',
        suppliedVia: 'operator-api',
        revealedBy: 'dana@acme.example',
      }),
      expect.objectContaining({
        id: 'm365-global',
        status: 'vaulted',
        reference: reference('m365-global'),
        suppliedBy: 'ops',
        suppliedVia: 'operator-api',
      }),
    ]);
    const revoked = tasks.map((task) => Date.parse(task.createdAt));
    const linksSent = state.credentials.map((c) => Date.parse(c.revealLinksSentAt!));
    expect(Math.min(...revoked)).toBeGreaterThanOrEqual(Math.max(...linksSent));
    expect(tasks.map((task) => [task.id, task.status, task.completedBy])).toEqual([
      ['credential-rotation.domain-admin', 'completed', 'jordan'],
      ['credential-rotation.m365-global', 'completed', 'jordan'],
    ]);

    const text = await workflows.documentText(handle, '01-credential-rotation');
    expect(text).toMatch(
      /\| `domain-admin` \| Active Directory \| msp-admin \| revealed \| `vault\/acme\/domain-admin` v2 \| `fp-domain-admin-7c41` \| ops \(operator-api\) \| .+ \| — \| dana@acme\.example \| .+ \|/,
    );
    expect(text).toMatch(
      /\| `m365-global` \| Microsoft 365 \| admin@acme\.example \| vaulted \| `vault\/acme\/m365-global` v2 \| `fp-m365-global-7c41` \| ops \(operator-api\) \| .+ \| — \| — \| — \|/,
    );
    expect(text).toMatch(
      /\| `credential-rotation\.domain-admin` \| `domain-admin` \| completed \| .+ \| jordan \| old password and sessions revoked \|/,
    );
    expect(text).toContain('Request `credential-rotation-1`: **approved**');
  });
});
