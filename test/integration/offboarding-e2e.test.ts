import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvColumns } from '../../audit/report.js';
import type { TransitionState } from '../../domain/definitions.js';
import { temporalCli } from '../../embedded/temporal.js';
import { bucketSanitization, offboardingBody, oneOfEach } from '../factories.js';
import { auditorKey, startStack, validatorKey, waitForState, type Stack } from '../support/stack.js';
import { csrfIn, linkIn, postForm } from '../support/links.js';

const execFileAsync = promisify(execFile);

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

/** Opens the approval link from the approver's email and presses a button, as a person would. */
async function decideFromMail(title: string, decision: 'approve' | 'reject', comment: string) {
  const mail = await stack.waitForMail((m) => m.subject === `Approval needed: ${title} for Acme Dental LLC`);
  const link = linkIn(mail, 'approvals');
  expect(mail.html).toContain(link);
  const page = await fetch(link);
  expect(page.status).toBe(200);
  const html = await page.text();
  const csrf = csrfIn(html);
  const posted = await postForm(link, { decision, comment, csrf }, { origin: new URL(link).origin });
  return { link, csrf, posted, text: await posted.text() };
}

async function completeTask(id: string, taskId: string, evidence: Record<string, unknown>) {
  await waitForState<TransitionState>(stack, id, (state) =>
    state.tasks.some((task) => task.id === taskId && task.status === 'open'),
  );
  const response = await stack.call('POST', `/v1/transitions/${id}/tasks/${taskId}/complete`, { evidence });
  expect(response.status).toBe(200);
}

/** The text of a PDF as `pdftotext` reads it. */
async function pdfText(pdf: Buffer, name: string): Promise<string> {
  const file = path.join(stack.dataDir, `${name}.pdf`);
  await writeFile(file, pdf);
  return (await execFileAsync('pdftotext', ['-enc', 'UTF-8', file, '-'])).stdout;
}

/** The transition the first test runs to completion; the audit tests read it afterwards. */
let completedId = '';

describe('a full offboarding over HTTP with approvals from real emails', () => {
  it('runs all 8 steps to completion and leaves a verifiable hash chain of documents', async () => {
    const body = offboardingBody({
      terms: {
        noticeReceivedAt: new Date().toISOString(),
        noticePeriod: 'PT6S',
        transitionPeriod: 'PT8S',
        retentionPeriod: 'PT2S',
        approvalTimeout: 'PT2M',
        reminderInterval: 'PT1M',
      },
      ...oneOfEach,
    });
    const id = `offboarding-${body.client.id}`;
    expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);

    const timeline = await stack.waitForMail((m) => m.subject === 'Termination timeline for Acme Dental LLC');
    expect(timeline.text).toContain('Cutover');

    await completeTask(id, 'data-export.ehr-backups', {
      text: String.raw`12.4 GiB exported, sha256 9f2c…, staged on \\srv-01\imaging`,
      url: 'https://files.example/ehr',
    });
    const exportDecision = await decideFromMail('Data export manifest', 'approve', 'All files received.');
    expect(exportDecision.posted.status).toBe(200);
    expect(exportDecision.text).toContain('Your decision (approve)');

    // A spent link decides nothing more; its page says so.
    const reused = await fetch(exportDecision.link, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        decision: 'reject',
        comment: 'again',
        csrf: exportDecision.csrf,
      }).toString(),
    });
    expect(reused.status).toBe(409);

    const removal = await decideFromMail('Agent removal record', 'approve', 'Go ahead.');
    expect(removal.posted.status).toBe(200);
    await completeTask(id, 'agent-removal.srv-01', {
      text: 'RMM and backup agents uninstalled; no check-in for 24h',
    });

    expect(
      (await decideFromMail('Credential rotation and access revocation record', 'approve', '')).posted.status,
    ).toBe(200);
    const rotated = 'N3w-Dom@in-Admin-Secret-7781';
    await waitForState<TransitionState>(stack, id, (state) =>
      state.credentials.some((c) => c.id === 'domain-admin' && c.status === 'awaiting'),
    );
    expect(
      (
        await stack.call(
          'POST',
          `/v1/transitions/${id}/credentials/domain-admin`,
          { secret: rotated },
          auditorKey,
        )
      ).status,
    ).toBe(403);
    const stored = await stack.call('POST', `/v1/transitions/${id}/credentials/domain-admin`, {
      secret: rotated,
    });
    expect(stored.status).toBe(201);
    const reference = (await stored.json()) as { vaultId: string; version: number; fingerprint: string };
    expect(reference).toEqual({
      vaultId: `${id}/credential-rotation/domain-admin`,
      version: 1,
      fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect(
      (await stack.call('POST', `/v1/transitions/${id}/credentials/domain-admin`, { secret: 'again' }))
        .status,
    ).toBe(409);

    // The reveal link works exactly once: GET shows a button, POST shows the credential, then never again.
    const revealMail = await stack.waitForMail(
      (m) => m.subject === 'New credential ready: msp-admin on Active Directory for Acme Dental LLC',
    );
    expect(revealMail.text).not.toContain(rotated);
    const revealLink = linkIn(revealMail, 'reveal');
    const button = await (await fetch(revealLink)).text();
    expect(button).not.toContain(rotated);
    const revealCsrf = csrfIn(button);
    const revealPost = () => postForm(revealLink, { csrf: revealCsrf });
    const revealed = await revealPost();
    expect(revealed.status).toBe(200);
    expect(await revealed.text()).toContain(rotated);
    const second = await revealPost();
    expect(second.status).toBe(409);
    expect(await second.text()).not.toContain(rotated);
    const afterwards = await (await fetch(revealLink)).text();
    expect(afterwards).toContain('already revealed');
    expect(afterwards).toContain('dana@acme.example');
    expect(afterwards).not.toContain(rotated);

    await completeTask(id, 'credential-rotation.domain-admin', {
      text: 'msp-admin disabled, sessions revoked, old vault entry destroyed',
    });

    expect(
      (await decideFromMail('Certificate of data deletion', 'approve', 'Delete it.')).posted.status,
    ).toBe(200);
    await completeTask(id, 'retention-deletion.ehr-backups', {
      text: 'All copies purged',
      method: 'Purge (cryptographic erase)',
      tool: 'restic forget --prune + bucket lifecycle',
      verification: 'restic snapshots shows none; bucket listing empty',
      sanitization: bucketSanitization,
    });
    // A second person validates the deletion: the performer's key is refused, another person's is not.
    const validationTask = 'retention-deletion.ehr-backups.validation';
    const validation = {
      text: String.raw`listed the bucket and its versions again; also checked \\srv-01\imaging holds no copy`,
      validation: {
        verificationMethod: 'listing of the bucket and its versions',
        verificationResult: 'passed',
      },
    };
    await waitForState<TransitionState>(stack, id, (state) =>
      state.tasks.some((task) => task.id === validationTask && task.status === 'open'),
    );
    const validationRoute = `/v1/transitions/${id}/tasks/${validationTask}/complete`;
    const byPerformer = await stack.call('POST', validationRoute, { evidence: validation });
    expect(byPerformer.status).toBe(409);
    expect(((await byPerformer.json()) as { error: { message: string } }).error.message).toContain(
      'this task checks the work of Alex Kim (key ops); another person must complete it',
    );
    const withoutCheck = await stack.call(
      'POST',
      validationRoute,
      { evidence: { text: 'ok' } },
      validatorKey,
    );
    expect(withoutCheck.status).toBe(400);
    expect((await stack.call('POST', validationRoute, { evidence: validation }, validatorKey)).status).toBe(
      200,
    );

    const final = await waitForState<TransitionState>(stack, id, (state) => state.status === 'completed');
    completedId = id;
    expect(final.steps.map((step) => step.status)).toEqual(Array(8).fill('completed'));
    expect(final.approvals.map((a) => [a.step, a.status, a.decisions[0]?.approver])).toEqual([
      ['data-export', 'approved', 'dana@acme.example'],
      ['agent-removal', 'approved', 'dana@acme.example'],
      ['credential-rotation', 'approved', 'dana@acme.example'],
      ['retention-deletion', 'approved', 'dana@acme.example'],
    ]);

    const listed = (await (
      await stack.call('GET', `/v1/transitions/${id}/documents`, undefined, auditorKey)
    ).json()) as {
      documents: { id: string; sha256: string; previousSha256: string | null }[];
    };
    expect(listed.documents).toHaveLength(8);
    let previous: string | null = null;
    for (const doc of listed.documents) {
      const md = Buffer.from(
        await (
          await stack.call('GET', `/v1/transitions/${id}/documents/${doc.id}`, undefined, auditorKey)
        ).arrayBuffer(),
      );
      expect(createHash('sha256').update(md).digest('hex')).toBe(doc.sha256);
      expect(doc.previousSha256).toBe(previous);
      expect(md.toString()).toContain(previous ?? 'none (first document)');
      previous = doc.sha256;
    }
    const certificate = await (
      await stack.call('GET', `/v1/transitions/${id}/documents/07-retention-deletion?format=html`)
    ).text();
    for (const field of [
      'Purge (cryptographic erase)',
      'restic forget',
      'bucket listing empty',
      'ops',
      'dana@acme.example',
    ]) {
      expect(certificate).toContain(field);
    }
    // Each data set's NIST SP 800-88 record and its validation, the issuer, the consent, the statement and the signatures.
    const dataSetSection = certificate.slice(
      certificate.indexOf('<h4>EHR database backups (<code>ehr-backups</code>)</h4>'),
      certificate.indexOf('<h2>Issued by</h2>'),
    );
    const record = Object.fromEntries(
      [...dataSetSection.matchAll(/<tr>\s*<td>(.*?)<\/td>\s*<td>(.*?)<\/td>\s*<\/tr>/g)].map((row) => [
        row[1],
        row[2],
      ]),
    );
    expect(record).toMatchObject({
      'Media type': 'S3 bucket',
      'Media identifier': '<code>acme-ehr-backups</code>',
      Category: 'Purge',
      Technique: 'cryptographic erase',
      'Tool and version': 'restic 0.17.3',
      'Verification method': 'bucket listing',
      'Verification result': 'passed',
      'Performed by': 'Alex Kim, Systems engineer (ops)',
      'Validated by': 'Morgan Lee, Compliance officer (validator)',
      'What the validator checked again': 'listing of the bucket and its versions',
      'Validation result': 'passed',
      'Validator&#39;s record': String.raw`listed the bucket and its versions again; also checked \\srv-01\imaging holds no copy`,
    });
    expect(record['Validated']).toMatch(
      /^[A-Z][a-z]+day \d+ [A-Z][a-z]+ \d{4}, \d\d:\d\d \(Chicago time\), /,
    );
    expect(certificate).toContain('Your MSP');
    expect(certificate).toMatch(
      /Client&#39;s prior consent[\s\S]*dana@acme\.example, [A-Z][a-z]+day [^<]*: &quot;Delete it\.&quot;/,
    );
    expect(certificate).toContain('following NIST SP 800-88 Rev. 1');
    expect(certificate).toMatch(/<td>Performed by<\/td>\s*<td>Alex Kim \(ops\)<\/td>/);
    expect(certificate).toMatch(/<td>Validated by<\/td>\s*<td>Morgan Lee \(validator\)<\/td>/);
    expect(certificate).toMatch(
      /<th>Role<\/th>\s*<th>Name<\/th>\s*<th>Title<\/th>\s*<th>Signature<\/th>\s*<th>Date<\/th>/,
    );
    expect(certificate).toMatch(
      /<td>Performed the deletion<\/td>\s*<td>Alex Kim \(ops\)<\/td>\s*<td>Systems engineer<\/td>/,
    );
    expect(certificate).toMatch(
      /<td>Validated the deletion<\/td>\s*<td>Morgan Lee \(validator\)<\/td>\s*<td>Compliance officer<\/td>/,
    );
    const rotationDoc = await (
      await stack.call('GET', `/v1/transitions/${id}/documents/05-credential-rotation`)
    ).text();
    expect(rotationDoc).toContain(reference.fingerprint);
    const closureDoc = await (await stack.call('GET', `/v1/transitions/${id}/documents/08-closure`)).text();
    expect(closureDoc).toMatch(/domain-admin.*revealed.*dana@acme\.example/);
    for (const doc of listed.documents) {
      const text = await (
        await stack.call('GET', `/v1/transitions/${id}/documents/${doc.id}?format=html`)
      ).text();
      expect(text).not.toContain(rotated);
    }
    expect(stack.logs.join('\n')).not.toContain(rotated);
    const exportDoc = await (
      await stack.call('GET', `/v1/transitions/${id}/documents/02-data-export`)
    ).text();
    expect(exportDoc).toContain('All files received.');
    expect(exportDoc).toContain('12.4 GiB exported');
    const share = String.raw`\\srv-01\imaging`;
    expect(
      await (await stack.call('GET', `/v1/transitions/${id}/documents/02-data-export?format=html`)).text(),
    ).toContain(share);
    let certificatePdf = '';
    for (const [position, doc] of listed.documents.entries()) {
      const response = await stack.call(
        'GET',
        `/v1/transitions/${id}/documents/${doc.id}?format=pdf`,
        undefined,
        auditorKey,
      );
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/pdf');
      const file = path.join(stack.dataDir, `${doc.id}.pdf`);
      await writeFile(file, Buffer.from(await response.arrayBuffer()));
      const text = (await execFileAsync('pdftotext', ['-enc', 'UTF-8', file, '-'])).stdout;
      expect(text).toContain(`SHA-256 ${doc.sha256}`);
      expect(text).toContain(`Document ${position + 1} of the chain`);
      if (doc.id === '02-data-export') expect(text).toContain(share);
      if (doc.id === '07-retention-deletion') certificatePdf = text;
    }
    // The certificate's PDF names the MSP, the performer and the validator, and every NIST SP 800-88 field.
    for (const field of [
      'Your MSP',
      'Alex Kim',
      'Systems engineer',
      'Morgan Lee',
      'Compliance officer',
      'S3 bucket',
      'acme-ehr-backups',
      'Purge',
      'cryptographic erase',
      'restic 0.17.3',
      'bucket listing',
      'passed',
      'listing of the bucket and its versions',
      share,
      'dana@acme.example',
      'following NIST SP 800-88 Rev. 1',
    ])
      expect(certificatePdf.replace(/\s+/g, ' ')).toContain(field);
  }, 120_000);

  describe('the auditor view of that offboarding', () => {
    type Report = {
      source: string;
      header: { clientName: string; outcome: string; startedBy: string };
      verification: { valid: boolean; documents: number; firstBroken: { documentId: string } | null };
      entries: Record<string, string | number>[];
    };
    const audit = async (format = 'json') => {
      const response = await stack.call(
        'GET',
        `/v1/transitions/${completedId}/audit?format=${format}`,
        undefined,
        auditorKey,
      );
      expect(response.status).toBe(200);
      return response;
    };

    it('holds every approval, task, timer and document in order; CSV and HTML agree; the pack manifest matches', async () => {
      expect(completedId).not.toBe('');
      const report = (await (await audit()).json()) as Report;
      expect(report.source).toBe('temporal-history');
      expect(report.header).toMatchObject({
        clientName: 'Acme Dental LLC',
        outcome: 'completed',
        startedBy: 'ops',
      });
      expect(report.verification).toEqual({ valid: true, documents: 8, firstBroken: null });
      const { entries } = report;
      const ofAction = (action: string) => entries.filter((entry) => entry.action === action);
      expect(entries[0]).toMatchObject({ action: 'started', actor: 'ops' });
      expect(entries.at(-1)).toMatchObject({ action: 'finished', details: 'completed' });
      expect(entries.map((entry) => entry.seq)).toEqual(entries.map((_, index) => index + 1));
      // History order is the order of record; buffered signals keep their (slightly earlier) arrival time.
      const position = (action: string, step: string) =>
        entries.findIndex((entry) => entry.action === action && entry.step === step);
      for (const step of ['data-export', 'agent-removal', 'credential-rotation', 'retention-deletion'])
        expect(position('approval requested', step)).toBeLessThan(position('approval decided', step));
      expect(
        ['termination-notice', 'data-export', 'cutover', 'closure'].map((step) =>
          position('step started', step),
        ),
      ).toEqual(
        ['termination-notice', 'data-export', 'cutover', 'closure']
          .map((step) => position('step started', step))
          .sort((a, b) => a - b),
      );

      expect(ofAction('approval requested').map((entry) => entry.step)).toEqual([
        'data-export',
        'agent-removal',
        'credential-rotation',
        'retention-deletion',
      ]);
      const decisions = ofAction('approval decided');
      expect(decisions.map((entry) => [entry.step, entry.actor])).toEqual([
        ['data-export', 'dana@acme.example'],
        ['agent-removal', 'dana@acme.example'],
        ['credential-rotation', 'dana@acme.example'],
        ['retention-deletion', 'dana@acme.example'],
      ]);
      expect(decisions[0]!.details).toContain('All files received.');
      expect(decisions[0]!.details).toMatch(/IP .+; user agent .+/);
      expect(ofAction('task created').map((entry) => String(entry.details).split(':')[0])).toEqual([
        'data-export.ehr-backups',
        'agent-removal.srv-01',
        'credential-rotation.domain-admin',
        'retention-deletion.ehr-backups',
        'retention-deletion.ehr-backups.validation',
      ]);
      const completedTasks = ofAction('task completed');
      expect(completedTasks.map((entry) => entry.actor)).toEqual(['ops', 'ops', 'ops', 'ops', 'validator']);
      expect(completedTasks[0]!.details).toContain('12.4 GiB exported');
      expect(completedTasks[3]!.details).toContain('method Purge (cryptographic erase)');
      // Which timers fire depends on how fast the test clicks; every one that fired was started first.
      const started = ofAction('timer started');
      const fired = ofAction('timer fired');
      expect(fired.length).toBeGreaterThan(0);
      for (const timer of fired) {
        const start = started.find((entry) => String(entry.details).startsWith(`${String(timer.details)}:`));
        expect(start && Number(start.seq) < Number(timer.seq)).toBe(true);
      }
      expect(started.map((entry) => String(entry.details).split(':')[0])).toEqual(
        expect.arrayContaining(['approval reminder']),
      );
      expect(String(started.find((entry) => entry.step === 'cutover')?.details)).toMatch(
        /cutover: fires at /,
      );
      expect(ofAction('link opened')[0]).toMatchObject({ actor: 'dana@acme.example' });
      expect(ofAction('credential vaulted')).toEqual([expect.objectContaining({ actor: 'ops' })]);
      expect(ofAction('credential revealed')).toEqual([
        expect.objectContaining({ actor: 'dana@acme.example' }),
      ]);
      const listed = (await (await stack.call('GET', `/v1/transitions/${completedId}/documents`)).json()) as {
        documents: { id: string; sha256: string }[];
      };
      expect(ofAction('document written').map((entry) => [entry.documentId, entry.sha256])).toEqual(
        listed.documents.map((doc) => [doc.id, doc.sha256]),
      );
      expect(ofAction('step completed')).toHaveLength(8);

      const csv = await (await audit('csv')).text();
      const rows = parse(csv, { columns: true }) as Record<string, string>[];
      expect(rows).toEqual(
        entries.map((entry) => Object.fromEntries(csvColumns.map((c) => [c, String(entry[c])]))),
      );

      const html = await (await audit('html')).text();
      expect(html).toContain('Acme Dental LLC');
      expect(html).toContain('verified: 8 document(s)');
      expect(html).not.toMatch(/<script|<link|src=|url\(/i);

      // The trail as PDF: the same header and entries, with the run and the chain's state in every footer.
      const trailResponse = await audit('pdf');
      expect(trailResponse.headers.get('content-type')).toBe('application/pdf');
      const trailText = (await pdfText(Buffer.from(await trailResponse.arrayBuffer()), 'trail')).replace(
        /\s+/g,
        ' ',
      );
      expect(trailText).toContain('Audit trail');
      expect(trailText).toContain('verified: 8 document(s), every hash and link holds');
      expect(trailText).toContain(`Audit trail of ${completedId}`);
      expect(trailText).toContain('document chain verified (8 documents)');
      expect(trailText).toContain('approval decided');
      expect(trailText).toContain('dana@acme.example');

      const pack = await stack.call('GET', `/v1/transitions/${completedId}/pack`, undefined, auditorKey);
      expect(pack.status).toBe(200);
      expect(pack.headers.get('content-type')).toBe('application/zip');
      const files = unzipSync(new Uint8Array(await pack.arrayBuffer()));
      const manifest = JSON.parse(strFromU8(files['manifest.json']!)) as {
        files: { path: string; sha256: string }[];
      };
      expect(Object.keys(files).sort()).toEqual(
        [...manifest.files.map((f) => f.path), 'manifest.json'].sort(),
      );
      for (const file of manifest.files)
        expect(createHash('sha256').update(files[file.path]!).digest('hex')).toBe(file.sha256);
      // Markdown, HTML and PDF of each of the 8 documents.
      expect(manifest.files.filter((f) => f.path.startsWith('documents/'))).toHaveLength(24);
      const pdfs = Object.keys(files).filter(
        (name) => name.startsWith('documents/') && name.endsWith('.pdf'),
      );
      expect(pdfs).toEqual(listed.documents.map((doc) => `documents/${doc.id}.pdf`));
      for (const name of pdfs) expect(strFromU8(files[name]!.subarray(0, 5))).toBe('%PDF-');
      // One PDF holds the whole handover: every document with its own footer, then the trail.
      const handover = (await pdfText(Buffer.from(files['handover.pdf']!), 'handover')).replace(/\s+/g, ' ');
      for (const [position, doc] of listed.documents.entries())
        expect(handover).toContain(`SHA-256 ${doc.sha256} Document ${position + 1} of the chain`);
      expect(handover).toContain('Certificate of data deletion');
      expect(handover).toContain(`Audit trail of ${completedId}`);
      expect(strFromU8(files['trail.pdf']!.subarray(0, 5))).toBe('%PDF-');
      expect(manifest.files.map((f) => f.path)).toEqual(expect.arrayContaining(['trail.json', 'trail.html']));
    });

    it('names the document whose stored bytes were changed', async () => {
      const { runId } = await stack.client.workflow.getHandle(completedId).describe();
      const file = path.join(stack.dataDir, 'documents', completedId, runId, '03-cutover.md');
      const original = await readFile(file);
      const changed = Buffer.from(original);
      changed[changed.length - 5] = changed[changed.length - 5]! ^ 1;
      await writeFile(file, changed);
      try {
        const report = (await (await audit()).json()) as Report;
        expect(report.verification.valid).toBe(false);
        expect(report.verification.firstBroken?.documentId).toBe('03-cutover');
        expect(await (await audit('html')).text()).toContain('BROKEN');
      } finally {
        await writeFile(file, original);
      }
      expect(((await (await audit()).json()) as Report).verification.valid).toBe(true);
    });

    it('refuses every change to an auditor key', async () => {
      const base = `/v1/transitions/${completedId}`;
      const attempts: [string, unknown][] = [
        ['/v1/transitions', offboardingBody()],
        ...['pause', 'resume', 'cancel', 'legal-hold', 'legal-hold/release'].map(
          (control) => [`${base}/${control}`, { reason: 'auditor tries' }] as [string, unknown],
        ),
        [`${base}/extend`, { reason: 'x', period: 'noticePeriod', by: 'P1D' }],
        [`${base}/tasks/data-export.ehr-backups/complete`, { evidence: { text: 'x' } }],
        [`${base}/steps/data-export/request-approval`, { reason: 'x' }],
        [
          `${base}/approvers`,
          { reason: 'x', from: 'dana@acme.example', to: { name: 'Sam', email: 'sam@acme.example' } },
        ],
        [`${base}/credentials/domain-admin`, { secret: 'auditor-secret' }],
      ];
      for (const [route, body] of attempts) {
        const response = await stack.call('POST', route, body, auditorKey);
        expect([route, response.status]).toEqual([route, 403]);
      }
    });

    it('serves the same trail and pack from the archive once Temporal has deleted the workflow', async () => {
      const live = (await (await audit()).json()) as Report;
      const livePack = unzipSync(
        new Uint8Array(
          await (
            await stack.call('GET', `/v1/transitions/${completedId}/pack`, undefined, auditorKey)
          ).arrayBuffer(),
        ),
      );
      await execFileAsync(temporalCli(), [
        'workflow',
        'delete',
        '--workflow-id',
        completedId,
        '--address',
        stack.config.temporal.address!,
        '--namespace',
        'default',
        '--yes',
      ]);
      const deadline = Date.now() + 30_000;
      for (;;) {
        const gone = await stack.client.workflow
          .getHandle(completedId)
          .describe()
          .then(
            () => false,
            () => true,
          );
        if (gone) break;
        if (Date.now() > deadline) throw new Error('the workflow was not deleted');
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const response = await audit();
      expect(response.headers.get('x-audit-source')).toBe('archive');
      const archived = (await response.json()) as Report;
      expect(archived.source).toBe('archive');
      expect(archived.entries).toEqual(live.entries);
      expect(archived.header).toEqual(live.header);
      expect(archived.verification).toEqual(live.verification);
      const archivedPack = unzipSync(
        new Uint8Array(
          await (
            await stack.call('GET', `/v1/transitions/${completedId}/pack`, undefined, auditorKey)
          ).arrayBuffer(),
        ),
      );
      expect(Object.keys(archivedPack).sort()).toEqual(Object.keys(livePack).sort());
      for (const name of Object.keys(livePack).filter((n) => n.startsWith('documents/')))
        expect(Buffer.from(archivedPack[name]!).equals(Buffer.from(livePack[name]!))).toBe(true);
      const trailOf = (files: Record<string, Uint8Array>) =>
        (JSON.parse(strFromU8(files['trail.json']!)) as Report).entries;
      expect(trailOf(archivedPack)).toEqual(trailOf(livePack));
    });
  });
});
