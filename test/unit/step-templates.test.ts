// Every step's template renders every fact its step's `run` returns: the facts are typed per step
// (domain/facts.ts), so a renamed key fails the type check of the sample below, and a template that
// no longer shows a fact (a key renamed on one side only) fails here instead of printing an empty
// table. Facts a document deliberately does not show are listed, with the reason.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { createFileLedger } from '../../activities/ledger.js';
import { projectRoot } from '../../config/config.js';
import { createFilesystemDocumentStore } from '../../connectors/documents/filesystem.js';
import type { DocumentMeta } from '../../connectors/documents/port.js';
import type { CredentialState, StepState } from '../../domain/definitions.js';
import type { RecordFacts, StepFactsOf } from '../../domain/facts.js';
import { stepsOf, type StepKey, type TransitionKind } from '../../domain/schemas.js';
import { dateInWordsAndUtc } from '../../domain/timeline.js';
import { createTemplateRenderer } from '../../templates/render.js';

const zone = 'America/Chicago';
const at = '2026-11-23T15:04:05.000Z';
const later = '2026-12-24T16:05:06.000Z';
const device = {
  id: 'dev-alpha',
  hostname: 'alpha.example.local',
  type: 'server' as const,
  agents: ['rmm' as const],
  connector: 'manual' as const,
};
const bare = {
  id: 'dev-bravo',
  hostname: 'bravo.example.local',
  type: 'laptop' as const,
  agents: [],
  connector: 'manual' as const,
};
const dataSet = {
  id: 'set-charlie',
  description: 'Charlie archive',
  destination: 'client bucket delta',
  format: 'tar-echo',
  connector: 'manual' as const,
};
const account = {
  id: 'cred-foxtrot',
  system: 'Golf Directory',
  account: 'hotel-admin',
  connector: 'manual' as const,
};
const job = { id: 'job-india', device: 'dev-alpha', rto: 'PT4H', connector: 'manual' as const };
const steps: StepState[] = [
  { key: 'discovery', status: 'completed', startedAt: at, finishedAt: later, documentId: '01-discovery' },
];
const custody: CredentialState[] = [
  {
    id: 'cred-foxtrot',
    step: 'credential-rotation',
    system: 'Golf Directory',
    account: 'hotel-admin',
    status: 'revealed',
    requestedAt: at,
    remindersSent: 0,
    reference: { vaultId: 'vault-juliet', version: 3, fingerprint: 'fp-kilo' },
    suppliedBy: 'lima@msp.example',
    suppliedVia: 'operator-api',
    suppliedAt: at,
    revealedBy: 'mike@client.example',
    revealedAt: later,
  },
];
const restore = {
  job: 'job-india',
  device: 'dev-alpha',
  rto: 'PT4H',
  startedAt: at,
  endedAt: later,
  durationSeconds: 4321,
  withinRto: false,
  integrityCheck: 'passed' as const,
  verifiedBy: 'november verifier',
  flagged: true,
};

/** A sample of each step's facts, typed by the step's contract. */
const samples: { [K in StepKey]: StepFactsOf<K> } = {
  'termination-notice': {
    terms: {
      noticeReceivedAt: at,
      noticePeriod: 'P31D',
      transitionPeriod: 'P61D',
      retentionPeriod: 'P91D',
      approvalTimeout: 'P6D',
      reminderInterval: 'P2D',
      onTimeout: 'reject',
      approvalPolicy: 'all',
      regulated: ['HIPAA-oscar'],
    },
    dates: { noticeReceivedAt: at, cutoverAt: later, assistanceEndsAt: later, deletionDueAt: later },
    approvalSteps: ['agent-removal'],
  },
  'data-export': { dataSets: [dataSet] },
  cutover: { cutoverAt: later },
  'agent-removal': { devices: [device] },
  'credential-rotation': { rotated: [account] },
  'transition-assistance': { assistanceEndsAt: later },
  'retention-deletion': {
    deletionDueAt: later,
    deletionStartedAt: at,
    certificate: {
      what: 'Charlie archive (set-charlie)',
      method: 'Purge papa',
      tool: 'quebec-shred 2.1',
      verification: 'romeo readback',
      performedBy: 'sierra-ops',
      validatedBy: 'tango@client.example',
      date: later,
      dataSets: [
        {
          id: 'set-charlie',
          description: 'Charlie archive',
          status: 'completed',
          performedBy: 'uniform-ops',
          performer: { name: 'Foxtrot Person', title: 'Golf engineer' },
          completedAt: later,
          sanitization: {
            mediaType: 'victor bucket',
            mediaId: 'whiskey-01',
            category: 'Purge',
            technique: 'xray erase',
            tool: 'yankee-wipe',
            toolVersion: '4.2.0',
            verificationMethod: 'zulu listing',
            verificationResult: 'passed',
          },
          validation: {
            status: 'completed',
            validatedBy: 'kilo-ops',
            validator: { name: 'Lima Person', title: 'Mike auditor' },
            completedAt: later,
            text: 'november listed again',
            verificationMethod: 'oscar relisting',
            verificationResult: 'failed',
          },
        },
        {
          id: 'set-legacy',
          description: 'Legacy archive',
          status: 'cancelled',
          method: 'Clear alpha',
          tool: 'bravo-tool 1',
          verification: 'charlie check',
        },
      ],
      consent: [{ approver: 'delta@client.example', decidedAt: at, comment: 'echo consent' }],
      performers: [{ key: 'hotel-key', holder: { name: 'India Person', title: 'Juliet lead' } }],
      validators: [{ key: 'papa-key', holder: { name: 'Quebec Person', title: 'Romeo checker' } }],
    },
  },
  closure: { steps, handedOver: custody },
  discovery: {
    report: {
      devices: [device],
      accounts: [account],
      backupJobs: [job],
      gaps: [{ kind: 'device-without-agent', assetId: 'dev-bravo', message: 'bravo has no agent planned' }],
    },
  },
  'credential-vaulting': { rotationPeriod: 'P97D' },
  'agent-deployment': { devices: [device, bare], undeployed: [bare] },
  'restore-validation': { results: [restore], flagged: [restore] },
  'service-acceptance': {
    gaps: [{ kind: 'server-without-backup', assetId: 'dev-alpha', message: 'alpha has no backup job' }],
    restores: [restore],
    credentials: custody,
    steps,
  },
};

/**
 * Facts a document does not show, by path (`*` for any index), and why. Everything else must appear.
 */
const notShown: Partial<Record<StepKey, string[]>> = {
  // The record's custody table shows the step's credentials; the scope entries duplicate them.
  'credential-rotation': ['rotated.*.connector'],
  // Documents show the devices an agent is removed from or deployed to, not how they are reached.
  'agent-removal': ['devices.*.connector'],
  'agent-deployment': [
    'devices.*.connector',
    'undeployed.*.hostname',
    'undeployed.*.type',
    'undeployed.*.connector',
  ],
  // The approval policy is the client's concern in the approval record, not in the timeline.
  'termination-notice': ['terms.approvalPolicy', 'terms.noticeReceivedAt'],
  // A data set's connector is how the MSP exports it, not part of the manifest.
  'data-export': ['dataSets.*.connector'],
  // The deletion started when the tasks opened; the certificate dates the deletion itself. The
  // performers and validators, named as people, stand for the lists of their keys.
  'retention-deletion': ['deletionStartedAt', 'certificate.performedBy', 'certificate.validatedBy'],
  discovery: ['report.accounts.*.connector', 'report.backupJobs.*.connector'],
  // The restore tables show the outcome (yes/no, FLAGGED), not the raw booleans.
  'restore-validation': [
    'flagged.*.device',
    'flagged.*.rto',
    'flagged.*.startedAt',
    'flagged.*.endedAt',
    'flagged.*.durationSeconds',
    'flagged.*.integrityCheck',
    'flagged.*.verifiedBy',
  ],
  // The custody table lists a step's credentials; the step is the table's own.
  closure: ['handedOver.*.step'],
  'service-acceptance': [
    'credentials.*.step',
    'restores.*.device',
    'restores.*.startedAt',
    'restores.*.endedAt',
    'restores.*.verifiedBy',
  ],
};

/** Every string and number leaf of the facts, with its path. */
function leaves(value: unknown, at = ''): [string, string][] {
  if (typeof value === 'string' || typeof value === 'number') return [[at, String(value)]];
  if (Array.isArray(value)) return value.flatMap((item, index) => leaves(item, `${at}.${index}`));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([key, item]) => leaves(item, at ? `${at}.${key}` : key));
  return [];
}

const matches = (pattern: string, leafPath: string) =>
  new RegExp(`^${pattern.replace(/\./g, '\\.').replace(/\*/g, '\\d+')}$`).test(leafPath);

const emptyRecord: RecordFacts = {
  tasks: [],
  credentials: custody,
  approvals: [],
  linkOpenings: [],
  linkOpeningsNotListed: 0,
  controls: [],
};

let dataDir: string;
let activities: ReturnType<typeof createActivities>;
const runId = '00000000-0000-4000-8000-0000000000aa';

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'msp-step-templates-'));
  activities = createActivities({
    documents: createFilesystemDocumentStore(path.join(dataDir, 'documents')),
    mailer: { send: () => Promise.reject(new Error('no mail here')) },
    templates: createTemplateRenderer(path.join(projectRoot, 'templates')),
    ledger: createFileLedger(path.join(dataDir, 'ledger')),
    publicUrl: 'http://runbooks.test',
    msp: { name: 'Test MSP' },
    linkSecrets: [{ id: 'l1', key: Buffer.alloc(32) }],
    listRuns: async () => [],
    historyBytes: () => Promise.reject(new Error('no history here')),
    documentFactsSlice: () => Promise.reject(new Error('no run here')),
  });
});

afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const cases = (['offboarding', 'onboarding'] as const).flatMap((kind: TransitionKind) =>
  stepsOf[kind].map((step) => [`${kind}/${step}`, kind, step] as const),
);

describe('step templates', () => {
  it.each(cases)('%s shows every fact of its step', async (_name, kind, step) => {
    const transitionId = `${kind}-templates`;
    const documentId = `01-${step}`;
    const environment = new MockActivityEnvironment({
      workflowExecution: { workflowId: transitionId, runId },
    });
    const written: DocumentMeta = await environment.run(activities.writeDocument, {
      transitionId,
      kind,
      step,
      documentId,
      title: `Title of ${step}`,
      previousSha256: null,
      client: { id: 'templates', name: 'Templates Client', timezone: zone },
      stepState: { key: step, status: 'completed' as const, startedAt: at, finishedAt: later },
      createdAt: later,
      facts: { ...emptyRecord, ...samples[step] },
    });
    expect(written.id).toBe(documentId);
    const markdown = (await createFilesystemDocumentStore(path.join(dataDir, 'documents')).read(
      { transitionId, runId },
      documentId,
      'md',
    ))!.toString('utf8');
    const missing = leaves(samples[step])
      .filter(([leafPath]) => !(notShown[step] ?? []).some((pattern) => matches(pattern, leafPath)))
      .filter(
        ([, value]) =>
          !markdown.includes(value) &&
          !(Date.parse(value) && markdown.includes(dateInWordsAndUtc(value, zone))),
      )
      .map(([leafPath, value]) => `${leafPath} = ${value}`);
    expect(missing).toEqual([]);
  });
});

describe('the certificate of deletion', () => {
  const certificateWith = (
    dataSets: NonNullable<StepFactsOf<'retention-deletion'>['certificate']['dataSets']>,
  ) =>
    createTemplateRenderer(path.join(projectRoot, 'templates')).render(
      'offboarding/retention-deletion.md.hbs',
      {
        client: { id: 'templates', name: 'Templates Client', timezone: zone },
        msp: { name: 'Test MSP' },
        facts: {
          ...samples['retention-deletion'],
          certificate: { ...samples['retention-deletion'].certificate, dataSets },
        },
      },
    );
  const [recorded] = samples['retention-deletion'].certificate.dataSets!;
  const attention =
    '| Attention | **A verification failed: data of this set may remain, and this certificate does not certify its deletion.** |';

  it('says plainly when the verification or the validation of a data set failed', async () => {
    const passed = {
      ...recorded!,
      validation: { ...recorded!.validation!, verificationResult: 'passed' as const },
    };
    expect(await certificateWith([passed])).not.toContain(attention);
    expect(
      await certificateWith([
        { ...passed, validation: { ...passed.validation, verificationResult: 'failed' } },
      ]),
    ).toContain(attention);
    expect(
      await certificateWith([
        { ...passed, sanitization: { ...passed.sanitization!, verificationResult: 'failed' } },
      ]),
    ).toContain(attention);
  });
});
