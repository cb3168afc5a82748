// The offboarding's closure step: the report indexing every step of the runbook with its document,
// and the credentials handed over. Alone, the runbook's one step is the closure itself; after other
// steps (the harness's `before`), it lists each of them.
import { describe, expect, it } from 'vitest';
import { revealCredentialUpdate, supplyCredentialUpdate } from '../../../domain/definitions.js';
import { uniqueClientId } from '../../factories.js';
import { useStepHarness, withStep } from '../../support/step-harness.js';
import { finishTask, knownTokenHash } from '../../support/workflow-env.js';

const workflows = useStepHarness('closure');

describe('offboarding step closure', () => {
  it('alone: completes at once and lists its one step, with no credential handed over', async () => {
    const request = await workflows.requestNow();
    const { state, handle, sent } = await withStep(
      workflows,
      { kind: 'offboarding', step: 'closure', request },
      async (handle, sent) => ({ state: await handle.result(), handle, sent }),
    );
    expect(state.status).toBe('completed');
    expect(state.steps).toEqual([
      expect.objectContaining({ key: 'closure', status: 'completed', documentId: '01-closure' }),
    ]);
    expect(sent).toEqual([]);
    const text = await workflows.documentText(handle, '01-closure');
    expect(text).toContain('# Closure report and index of all documents');
    expect(text).toMatch(/^\| `closure` \| completed \| .+ \| .+ \| .+ \|$/m);
    expect(text.match(/^\| `[a-z-]+` \|/gm)).toEqual(['| `closure` |']);
    expect(text).not.toContain('## Credentials handed over');
  });

  it('after other steps: lists every step with its document, and the credentials handed over', async () => {
    const name = 'Closure Dental';
    const request = await workflows.requestNow({
      client: { id: uniqueClientId('closure'), name, timezone: 'UTC' },
      scope: { credentials: [{ id: 'domain-admin', system: 'Active Directory', account: 'msp-admin' }] },
      approvalSteps: [],
    });
    const reference = { vaultId: 'vault/closure/domain-admin', version: 3, fingerprint: 'fp-closure-19ab' };
    const { state, handle } = await withStep(
      workflows,
      {
        kind: 'offboarding',
        step: 'closure',
        before: ['termination-notice', 'credential-rotation'],
        request,
      },
      async (handle) => {
        await workflows.mailWithSubject(`Rotate credentials of ${name}`);
        await handle.executeUpdate(supplyCredentialUpdate, {
          args: [{ actor: 'ops', credentialId: 'domain-admin', reference, via: 'operator-api' }],
        });
        const reveal = await workflows.mailWithSubject(
          `New credential ready: msp-admin on Active Directory for ${name}`,
        );
        await handle.executeUpdate(revealCredentialUpdate, {
          args: [
            {
              tokenHash: await knownTokenHash(handle, reveal, 'reveal'),
              ip: '203.0.113.9',
              userAgent: 'vitest',
            },
          ],
        });
        await finishTask(handle, 'credential-rotation.domain-admin', { text: 'MSP access revoked' });
        return { state: await handle.result(), handle };
      },
    );

    expect(state.status).toBe('completed');
    expect(state.steps.map((step) => [step.key, step.status, step.documentId])).toEqual([
      ['termination-notice', 'completed', '01-termination-notice'],
      ['credential-rotation', 'completed', '02-credential-rotation'],
      ['closure', 'completed', '03-closure'],
    ]);
    const documents = await workflows.documentsOf(handle);
    expect(documents.map((doc) => doc.id)).toEqual([
      '01-termination-notice',
      '02-credential-rotation',
      '03-closure',
    ]);
    expect(documents[2]!.previousSha256).toBe(documents[1]!.sha256);

    const text = await workflows.documentText(handle, '03-closure');
    expect(text).toMatch(/^\| `termination-notice` \| completed \| .+ \| .+ \| `01-termination-notice` \|$/m);
    expect(text).toMatch(
      /^\| `credential-rotation` \| completed \| .+ \| .+ \| `02-credential-rotation` \|$/m,
    );
    expect(text).toMatch(/^\| `closure` \| completed \| .+ \| .+ \| .+ \|$/m);
    expect(text).toContain('## Credentials handed over');
    expect(text).toMatch(
      /\| `domain-admin` \| Active Directory \| msp-admin \| revealed \| `vault\/closure\/domain-admin` v3 \| `fp-closure-19ab` \| ops \(operator-api\) \| .+ \| — \| dana@acme\.example \| .+ \|/,
    );
  });
});
