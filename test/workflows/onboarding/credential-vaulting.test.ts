// The onboarding's credential-vaulting step alone: a one-time intake link per credential to the
// client, reminders until every credential is in the vault, one escalation to the operators at
// approvalTimeout; the custody record lists references, who supplied each, and its rotation date.
import { describe, expect, it } from 'vitest';
import { stateQuery, supplyCredentialUpdate } from '../../../domain/definitions.js';
import { maxRemindersPerRequest } from '../../../domain/schemas.js';
import { dateInWordsAndUtc } from '../../../domain/timeline.js';
import { onboardingRequest, uniqueClientId } from '../../factories.js';
import { useStepHarness, withStep } from '../../support/step-harness.js';
import { decideByMail, knownTokenHash, waitFor } from '../../support/workflow-env.js';

const workflows = useStepHarness('credential-vaulting');
const day = 24 * 3600 * 1000;
/** What the vault answers for a put: a reference, never the secret (no vault needed to make one). */
const reference = (id: string) => ({
  vaultId: `vault/bright/${id}`,
  version: 1,
  fingerprint: `fp-${id}-0d3e`,
});

describe('onboarding step credential-vaulting', () => {
  it('mails an intake link per credential, reminds, escalates once, and records each reference', async () => {
    const name = 'Vaulting Dental';
    const request = onboardingRequest({
      client: { id: uniqueClientId('vaulting'), name, timezone: 'UTC' },
      terms: { approvalTimeout: 'P2D', reminderInterval: 'P1D', rotationPeriod: 'P60D' },
      scope: {
        credentials: [
          { id: 'domain-admin', system: 'Active Directory', account: 'msp-admin' },
          { id: 'm365-global', system: 'Microsoft 365', account: 'admin@bright.example' },
        ],
      },
      approvalSteps: ['credential-vaulting'],
    });
    const { state, handle, sent } = await withStep(
      workflows,
      { kind: 'onboarding', step: 'credential-vaulting', request },
      async (handle, sent) => {
        await workflows.mailWithSubject(
          `Credential needed: msp-admin on Active Directory for ${name}`,
          'riley@bright.example',
        );
        await workflows.mailWithSubject(
          `Credential needed: admin@bright.example on Microsoft 365 for ${name}`,
        );
        const told = await workflows.mailWithSubject(`Credentials requested from ${name}`, 'ops@msp.example');
        expect(told.text).toContain('`domain-admin` (msp-admin on Active Directory)');
        const waiting = await handle.query(stateQuery);
        expect(waiting.steps[0]!.status).toBe('awaiting-credentials');
        expect(waiting.credentials.map((c) => [c.id, c.status])).toEqual([
          ['domain-admin', 'awaiting'],
          ['m365-global', 'awaiting'],
        ]);

        await workflows.env.sleep('2.5 days');
        await waitFor(() =>
          sent.find((mail) => mail.key.endsWith(':credentials-escalated:credential-vaulting')),
        );
        const escalation = await workflows.mailWithSubject(
          `Escalation: credentials still missing from ${name}`,
        );
        expect(escalation.text).toContain('The client has not handed over 2 credential(s) within P2D');

        // The client hands one over through the latest reminder's link (the first link expired at
        // approvalTimeout); an operator puts the other.
        const reminded = `Reminder: Credential needed: msp-admin on Active Directory for ${name}`;
        const intake = await waitFor(async () => {
          const received = (await workflows.mails()).filter((mail) => mail.subject === reminded);
          return received.length === 2 ? received[0] : undefined;
        });
        expect(intake.text).toContain('This is a reminder: the credential below is still needed.');
        await handle.executeUpdate(supplyCredentialUpdate, {
          args: [
            {
              actor: 'riley@bright.example',
              credentialId: 'domain-admin',
              reference: reference('domain-admin'),
              via: 'intake-link',
              tokenHash: await knownTokenHash(handle, intake, 'intake'),
            },
          ],
        });
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

        const asked = await workflows.mailWithSubject(
          `Approval needed: Credential custody record for ${name}`,
        );
        expect(asked.text).toContain('Confirm that the MSP now holds 2 credential(s) in its vault');
        await decideByMail(handle, asked, 'approve');
        return { state: await handle.result(), handle, sent };
      },
    );

    const requested = sent.find((mail) => mail.key === 'domain-admin:request')!;
    const reminders = sent.filter((mail) => mail.key.startsWith('domain-admin:reminder-'));
    expect(reminders.map((mail) => Math.round((mail.at - requested.at) / day))).toEqual([1, 2]);
    expect(reminders.every((mail) => mail.to.join() === 'riley@bright.example')).toBe(true);
    const escalations = sent.filter((mail) => mail.key.includes(':credentials-escalated:'));
    expect(escalations).toHaveLength(1);
    expect(escalations[0]!.to).toEqual(['ops@msp.example']);
    expect(Math.round((escalations[0]!.at - requested.at) / day)).toBe(2);

    expect(state.status).toBe('completed');
    expect(state.steps[0]).toMatchObject({
      key: 'credential-vaulting',
      status: 'completed',
      documentId: '01-credential-vaulting',
    });
    expect(state.credentials).toEqual([
      expect.objectContaining({
        id: 'domain-admin',
        status: 'vaulted',
        reference: reference('domain-admin'),
        suppliedBy: 'riley@bright.example',
        suppliedVia: 'intake-link',
        remindersSent: 2,
      }),
      expect.objectContaining({
        id: 'm365-global',
        status: 'vaulted',
        reference: reference('m365-global'),
        suppliedBy: 'ops',
        suppliedVia: 'operator-api',
      }),
    ]);
    for (const credential of state.credentials)
      expect(Date.parse(credential.rotationDueAt!) - Date.parse(credential.suppliedAt!)).toBe(60 * day);

    const text = await workflows.documentText(handle, '01-credential-vaulting');
    expect(text).toContain('Rotation period: P60D.');
    const [first, second] = state.credentials;
    expect(text).toContain(
      `| \`domain-admin\` | Active Directory | msp-admin | vaulted | \`vault/bright/domain-admin\` v1 | \`fp-domain-admin-0d3e\` | riley@bright.example (intake-link) | ${dateInWordsAndUtc(first!.suppliedAt!, 'UTC')} | ${dateInWordsAndUtc(first!.rotationDueAt!, 'UTC')} | — | — |`,
    );
    expect(text).toContain(
      `| \`m365-global\` | Microsoft 365 | admin@bright.example | vaulted | \`vault/bright/m365-global\` v1 | \`fp-m365-global-0d3e\` | ops (operator-api) | ${dateInWordsAndUtc(second!.suppliedAt!, 'UTC')} | ${dateInWordsAndUtc(second!.rotationDueAt!, 'UTC')} | — | — |`,
    );
    expect(text).toContain('Request `credential-vaulting-1`: **approved**');
  });

  it('stops reminding after the most reminders one request may send, and still takes the credential', async () => {
    const name = 'Silent Client Dental';
    const request = onboardingRequest({
      client: { id: uniqueClientId('silent'), name, timezone: 'UTC' },
      terms: { approvalTimeout: 'P5D', reminderInterval: 'P1D' },
      scope: { credentials: [{ id: 'domain-admin', system: 'Active Directory', account: 'msp-admin' }] },
      approvalSteps: [],
    });
    const { reminders, state } = await withStep(
      workflows,
      { kind: 'onboarding', step: 'credential-vaulting', request },
      async (handle, sent) => {
        await workflows.mailWithSubject(`Credential needed: msp-admin on Active Directory for ${name}`);
        await workflows.env.sleep(`${maxRemindersPerRequest + 30} days`);
        const reminded = () => sent.filter((mail) => mail.key.startsWith('domain-admin:reminder-')).length;
        await waitFor(() => (reminded() >= maxRemindersPerRequest ? true : undefined));
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
        return { reminders: reminded(), state: await handle.result() };
      },
    );
    expect(reminders).toBe(maxRemindersPerRequest);
    expect(state.status).toBe('completed');
    expect(state.credentials[0]).toMatchObject({ status: 'vaulted', remindersSent: maxRemindersPerRequest });
  }, 120_000);
});
