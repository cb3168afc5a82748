import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { simpleParser, type ParsedMail } from 'mailparser';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { createFileLedger } from '../../activities/ledger.js';
import { handoverPack, type AuditReport } from '../../audit/report.js';
import { projectRoot } from '../../config/config.js';
import { createFilesystemDocumentStore } from '../../connectors/documents/filesystem.js';
import { createSmtpMailer } from '../../connectors/mail/smtp.js';
import type { CredentialState, TaskState, TransitionState } from '../../domain/definitions.js';
import type { RecordFacts } from '../../domain/facts.js';
import { discoveryReport } from '../../domain/discovery.js';
import { escapeMarkdown } from '../../domain/markdown.js';
import { restoreResults } from '../../domain/restore.js';
import { stepsOf, type Scope, type TransitionKind } from '../../domain/schemas.js';
import { startMailbox, type Mailbox } from '../../embedded/mailbox.js';
import { createTemplateRenderer } from '../../templates/render.js';
import { addressesIn, expectInert, hostile, textOf } from '../support/hostile-text.js';

const at = '2026-11-22T15:00:00.000Z';
const device = {
  id: 'srv-01',
  hostname: hostile('hostname'),
  type: 'server' as const,
  agents: ['rmm' as const],
  connector: 'manual' as const,
};
const account = { id: 'domain-admin', system: hostile('system'), account: hostile('account') };
const scope: Scope = {
  devices: [device],
  credentials: [{ ...account, connector: 'manual' }],
  dataSets: [
    {
      id: 'ehr',
      description: hostile('description'),
      destination: hostile('destination'),
      format: hostile('format'),
      connector: 'manual',
    },
  ],
  backupJobs: [{ id: 'nightly', device: 'srv-02', rto: 'PT4H', connector: 'manual' }],
};
const credential: CredentialState = {
  ...account,
  step: 'credential-rotation',
  status: 'revealed',
  requestedAt: at,
  remindersSent: 0,
  reference: { vaultId: 'acme/domain-admin', version: 1, fingerprint: 'f00d' },
  suppliedBy: hostile('supplied by'),
  suppliedVia: 'operator-api',
  suppliedAt: at,
  rotationDueAt: at,
  revealedBy: hostile('revealed by'),
  revealedAt: at,
};
const restoreTask: TaskState = {
  id: 'restore-validation.nightly',
  step: 'restore-validation',
  assetId: 'nightly',
  title: 'restore',
  status: 'completed',
  createdAt: at,
  completedAt: at,
  completedBy: hostile('completed by'),
  evidence: {
    text: hostile('evidence'),
    url: hostile('evidence url'),
    restore: { startedAt: at, endedAt: at, integrityCheck: 'passed', verifiedBy: hostile('verified by') },
  },
};
const restores = restoreResults(scope.backupJobs, [restoreTask]);
const { gaps } = discoveryReport(scope);

/** What every document records: tasks with evidence, approvals with comments, link openings, operator actions. */
const record = {
  tasks: [restoreTask],
  approvals: [
    {
      requestId: 'data-export-1',
      title: 'Data export manifest',
      step: 'data-export',
      status: 'rejected',
      policy: 'any',
      requestedAt: at,
      deadline: at,
      remindersSent: 1,
      approvers: [hostile('approvers')],
      decisions: [
        {
          approver: hostile('approver'),
          decision: 'reject',
          comment: hostile('comment'),
          decidedAt: at,
          ip: hostile('ip'),
          userAgent: hostile('user agent'),
        },
      ],
    },
  ],
  linkOpenings: [
    {
      purpose: 'approval',
      requestId: 'data-export-1',
      approver: hostile('opened by'),
      at,
      ip: '::1',
      userAgent: 'x',
    },
  ],
  controls: [{ action: 'paused', actor: hostile('actor'), reason: hostile('reason'), at }],
  credentials: [],
  linkOpeningsNotListed: 0,
} satisfies RecordFacts;
/** The user text every document shows: the client's name and what its record holds. */
const recordedFields = [
  'client name',
  'completed by',
  'evidence',
  'evidence url',
  'approvers',
  'approver',
  'comment',
  'ip',
  'user agent',
  'opened by',
  'actor',
  'reason',
];

/** Each step's facts, and the fields of user text its document must show. */
const documents: Record<string, { facts: Record<string, unknown>; fields: string[] }> = {
  'offboarding/termination-notice': {
    facts: {
      terms: {
        noticePeriod: 'P30D',
        transitionPeriod: 'P60D',
        retentionPeriod: 'P90D',
        regulated: [hostile('regulated')],
        approvalTimeout: 'P5D',
        reminderInterval: 'P1D',
        onTimeout: 'escalate',
      },
      dates: { noticeReceivedAt: at, cutoverAt: at, assistanceEndsAt: at, deletionDueAt: at },
      approvalSteps: ['data-export'],
    },
    fields: ['regulated'],
  },
  'offboarding/data-export': {
    facts: { dataSets: scope.dataSets },
    fields: ['description', 'destination', 'format'],
  },
  'offboarding/cutover': { facts: { cutoverAt: at }, fields: [] },
  'offboarding/agent-removal': { facts: { devices: [device] }, fields: ['hostname'] },
  'offboarding/credential-rotation': {
    facts: { credentials: [credential] },
    fields: ['system', 'account', 'supplied by', 'revealed by'],
  },
  'offboarding/transition-assistance': { facts: { assistanceEndsAt: at }, fields: [] },
  'offboarding/retention-deletion': {
    facts: {
      deletionDueAt: at,
      certificate: {
        what: hostile('what'),
        method: hostile('method'),
        tool: hostile('tool'),
        verification: hostile('verification'),
        performedBy: hostile('performed by'),
        validatedBy: hostile('validated by'),
        date: at,
      },
    },
    fields: ['what', 'method', 'tool', 'verification', 'performed by', 'validated by'],
  },
  'offboarding/closure': { facts: { steps: [], handedOver: [credential] }, fields: ['system', 'account'] },
  'onboarding/discovery': {
    facts: { report: discoveryReport(scope) },
    fields: ['hostname', 'system', 'account'],
  },
  'onboarding/credential-vaulting': {
    facts: { rotationPeriod: 'P90D', credentials: [credential] },
    fields: ['system', 'account', 'supplied by'],
  },
  'onboarding/agent-deployment': { facts: { devices: [device], undeployed: [] }, fields: ['hostname'] },
  'onboarding/restore-validation': { facts: { results: restores, flagged: [] }, fields: ['verified by'] },
  'onboarding/service-acceptance': {
    facts: { steps: [], gaps, restores, credentials: [credential] },
    fields: ['hostname', 'system', 'account'],
  },
};

function stateOf(kind: TransitionKind): TransitionState {
  return {
    id: `${kind}-acme`,
    kind,
    clientId: 'acme',
    clientName: hostile('client name'),
    timezone: 'America/Chicago',
    status: 'running',
    startedBy: 'ops',
    currentStep: null,
    dates: { startedAt: at },
    paused: false,
    legalHold: false,
    steps: stepsOf[kind].map((key) => ({ key, status: 'completed', startedAt: at, finishedAt: at })),
    tasks: [restoreTask],
    approvals: [],
    credentials: [credential],
    nextTimer: null,
    controls: [],
  };
}

let dataDir: string;
let mailbox: Mailbox;
const received: ParsedMail[] = [];
let activities: ReturnType<typeof createActivities>;
const templates = createTemplateRenderer(path.join(projectRoot, 'templates'));
const store = () => createFilesystemDocumentStore(path.join(dataDir, 'documents'));
const runId = '00000000-0000-4000-8000-000000000001';
/** Activities run for one workflow run, as the worker runs them. */
const inRun = (transitionId: string) =>
  new MockActivityEnvironment({ workflowExecution: { workflowId: transitionId, runId } });

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'msp-user-text-'));
  mailbox = await startMailbox(path.join(dataDir, 'mailbox'), {
    onMessage: (raw) => void simpleParser(raw).then((mail) => received.push(mail)),
  });
  activities = createActivities({
    documents: store(),
    mailer: createSmtpMailer(mailbox.url, 'runbooks@msp.example'),
    templates,
    ledger: createFileLedger(path.join(dataDir, 'ledger')),
    publicUrl: 'http://runbooks.test',
    msp: { name: 'Test MSP' },
    linkSecrets: [{ id: 'l1', key: randomBytes(32) }],
    listRuns: async () => [],
    historyBytes: async () => new Uint8Array(),
    documentFactsSlice: () => Promise.reject(new Error('no run here')),
  });
});

afterAll(async () => {
  await mailbox?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('escaped text at the start of a line', () => {
  it.each([
    '# Forged heading',
    '## ',
    '> quote',
    '- item',
    '+ item',
    '1. item',
    '2) item',
    '---',
    '= =',
    '***',
  ])('%s stays in its paragraph', async (text) => {
    const html = await templates.page('t', `${escapeMarkdown(text)}\n\nbefore\n${escapeMarkdown(text)}\n`);
    expect(html).not.toMatch(/<(h\d|blockquote|ul|ol|hr|pre)\b/);
    expect(textOf(html)).toContain(`before\n${text}`);
  });

  it('leaves what makes no Markdown as it is, so the Markdown documents stay readable', () => {
    for (const text of [
      '12.4 GiB exported',
      '10.0.0.5',
      '#tag',
      '-5 °C',
      '--prune',
      'AT&T',
      'ops@msp.example',
    ])
      expect(escapeMarkdown(text)).toBe(text);
  });
});

describe('user text in step documents', () => {
  it('covers every step of both runbooks', () => {
    expect(Object.keys(documents).sort()).toEqual(
      (['offboarding', 'onboarding'] as const)
        .flatMap((kind) => stepsOf[kind].map((s) => `${kind}/${s}`))
        .sort(),
    );
  });

  it.each(Object.entries(documents))(
    '%s reads as text, with no live link',
    async (name, { facts, fields }) => {
      const [kind, step] = name.split('/') as [TransitionKind, string];
      const state = stateOf(kind);
      const documentId = `${String(stepsOf[kind].indexOf(step as never) + 1).padStart(2, '0')}-${step}`;
      await inRun(state.id).run(activities.writeDocument, {
        transitionId: state.id,
        kind,
        step,
        documentId,
        title: 'Step title',
        previousSha256: null,
        client: { id: state.clientId, name: state.clientName, timezone: state.timezone },
        stepState: state.steps.find((candidate) => candidate.key === step)!,
        createdAt: at,
        facts: { ...record, ...facts },
      });
      const html = (await store().read({ transitionId: state.id, runId }, documentId, 'html'))!.toString(
        'utf8',
      );
      expectInert(html, [...recordedFields, ...fields].map(hostile));
      expect(html.match(/<h1>/g)).toHaveLength(1);
    },
  );
});

// The pack holds the offboarding documents the tests above wrote.
describe('user text in the audit trail and the handover pack', () => {
  const report: AuditReport = {
    transitionId: 'offboarding-acme',
    runId,
    source: 'temporal-history',
    header: {
      transitionId: 'offboarding-acme',
      kind: 'offboarding',
      clientId: 'acme',
      clientName: hostile('client name'),
      timezone: 'America/Chicago',
      startedAt: at,
      startedBy: 'ops',
      finishedAt: null,
      outcome: 'running',
    },
    verification: { valid: true, documents: 0, firstBroken: null },
    entries: [
      {
        seq: 1,
        at,
        atLocal: at,
        actor: hostile('trail actor'),
        action: 'task-completed',
        step: 'data-export',
        details: hostile('trail details'),
        documentId: '',
        sha256: '',
      },
    ],
  };

  it('every HTML file of the pack, the printable trail among them', async () => {
    const files = unzipSync(await handoverPack(report, store(), templates));
    const htmlFiles = Object.keys(files).filter((file) => file.endsWith('.html'));
    expect(htmlFiles.length).toBeGreaterThan(stepsOf.offboarding.length);
    for (const file of htmlFiles) expectInert(strFromU8(files[file]!), [hostile('client name')]);
    expectInert(strFromU8(files['trail.html']!), ['trail actor', 'trail details'].map(hostile));
  });
});

describe('user text in emails', () => {
  async function mailTo(address: string): Promise<ParsedMail> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const mail = received.find(
        (candidate) => candidate.to && JSON.stringify(candidate.to).includes(address),
      );
      if (mail) return mail;
      if (Date.now() > deadline) throw new Error(`no mail to ${address}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  /** The subject as a header can hold it: the text as typed, on one line. */
  const asHeader = (text: string) => text.replace(/\s+/g, ' ');

  it('a notice: subject and rows are text, paragraphs keep their own Markdown but no link the renderer does not allow', async () => {
    await inRun('offboarding-acme').run(activities.sendEmail, {
      idempotencyKey: 'notice',
      to: ['notice@msp.example'],
      template: 'notice',
      data: {
        subject: `Termination timeline for ${hostile('client name')}`,
        paragraphs: [
          `**Trusted** summary for ${escapeMarkdown(hostile('paragraph'))}.`,
          '[ok](https://ok.example) [mail](mailto:ops@msp.example) [relative](/v1/x) [upper](JaVaScRiPt:alert(4)) ' +
            '[entity](jav&#x61;script:alert(5)) [data](data:text/html,x) <javascript:alert(6)> ![pixel](https://t.example/p.gif)',
        ],
        rows: [{ label: hostile('row label'), value: hostile('row value') }],
        transitionId: 'offboarding-acme',
        forOperators: true,
      },
    });
    const mail = await mailTo('notice@msp.example');
    expect(mail.subject).toBe(asHeader(`Termination timeline for ${hostile('client name')}`));
    const html = mail.html as string;
    expectInert(html, ['paragraph', 'row label', 'row value'].map(hostile));
    expect(html).toContain('<strong>Trusted</strong>');
    expect(addressesIn(html)).toEqual([
      'https://ok.example',
      'mailto:ops@msp.example',
      'http://runbooks.test/console/transitions/offboarding-acme',
      'http://runbooks.test/v1/transitions/offboarding-acme',
    ]);
  });

  it('a task list', async () => {
    await inRun('offboarding-acme').run(activities.sendEmail, {
      idempotencyKey: 'tasks',
      to: ['tasks@msp.example'],
      template: 'tasks',
      data: {
        transitionId: 'offboarding-acme',
        clientName: hostile('client name'),
        step: 'data-export',
        title: 'Data export manifest',
        tasks: [{ id: 'data-export.ehr', title: `Export ${hostile('task')}` }],
      },
    });
    const mail = await mailTo('tasks@msp.example');
    expect(mail.subject).toBe(asHeader(`Tasks to do: Data export manifest for ${hostile('client name')}`));
    expectInert(mail.html as string, [hostile('task')]);
  });

  it.each([
    [
      'approval',
      'approval-request',
      { summary: `Approve the export for ${escapeMarkdown(hostile('summary'))}.` },
      ['requested by', 'summary'],
    ],
    ['intake', 'credential-intake', { credential: account }, ['requested by', 'system', 'account']],
    ['reveal', 'credential-reveal', { credential: account }, ['system', 'account']],
  ] as const)('a personal %s link', async (purpose, template, data, fields) => {
    const approver = { name: hostile('approver name'), email: `${purpose}@acme.example` };
    await inRun('offboarding-acme').run(activities.sendLinks, {
      transitionId: 'offboarding-acme',
      purpose,
      requestId: 'data-export-1',
      round: 'request',
      approvers: [approver],
      expiresAt: at,
      template,
      data: {
        kind: 'offboarding',
        clientName: hostile('client name'),
        step: 'data-export',
        title: 'Data export manifest',
        requestedBy: hostile('requested by'),
        deadline: at,
        deadlineLocal: at,
        expiresLocal: at,
        ...data,
      },
    });
    const mail = await mailTo(approver.email);
    expect(mail.subject).toContain(asHeader(hostile('client name')));
    const html = mail.html as string;
    expectInert(html, ['approver name', 'client name', ...fields].map(hostile));
    const link = /<(http:\/\/runbooks\.test\/[a-z]+\/[^>]+)>/.exec(mail.text!)![1]!;
    expect(addressesIn(html)).toEqual([link]);
  });
});
