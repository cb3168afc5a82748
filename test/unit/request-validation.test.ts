import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type RunningApi } from '../../api/server.js';
import { parseConfig } from '../../config/config.js';
import { createLogger } from '../../config/logger.js';
import { bucketSanitization, offboardingBody } from '../factories.js';
import { freePort } from '../support/ports.js';

// The real API, its Temporal client pointed at a port where nothing listens: a request that got
// past validation would fail there, so a 400 shows that nothing was started.
const operatorKey = 'validation-operator-0123456789';
let api: RunningApi;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'msp-validation-'));
  const config = parseConfig({
    PORT: '0',
    DATA_DIR: dataDir,
    API_KEYS: `ops:operator:${operatorKey}`,
    TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
  });
  api = await startApi(config, createLogger('silent'));
});

afterAll(async () => {
  await api?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

type ErrorBody = { error: { code: string; message: string; details: { path: string[] }[] } };

const post = (route: string, body: unknown) =>
  fetch(`${api.url}${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${operatorKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

async function expectRefused(response: Response, field: string[], message: RegExp) {
  expect(response.status).toBe(400);
  const { error } = (await response.json()) as ErrorBody;
  expect(error.code).toBe('invalid_request');
  expect(error.message).toContain(`at ${field.join('.')}`);
  expect(error.message).toMatch(message);
  expect(error.details.map((issue) => issue.path)).toEqual([field]);
}

const unworkable: [string, Record<string, unknown>, string[], RegExp][] = [
  [
    'a notice period of a billion years',
    { terms: { noticePeriod: 'P999999999Y' } },
    ['terms', 'noticePeriod'],
    /at most P100Y/,
  ],
  [
    'a reminder every millisecond',
    { terms: { reminderInterval: 'PT0.001S' } },
    ['terms', 'reminderInterval'],
    /at least PT1S/,
  ],
  [
    'a reminder more often than MIN_REMINDER_INTERVAL (PT1M by default)',
    { terms: { approvalTimeout: 'PT10M', reminderInterval: 'PT30S' } },
    ['terms', 'reminderInterval'],
    /at least PT1M \(MIN_REMINDER_INTERVAL\)/,
  ],
  [
    'more reminders before the deadline than one request may send',
    { terms: { approvalTimeout: 'P5D', reminderInterval: 'PT1H' } },
    ['terms', 'reminderInterval'],
    /sends 120 reminders before approvalTimeout \(P5D\); at most 100/,
  ],
  [
    'a client name with a newline',
    { client: { id: 'acme', name: 'Acme\n\nApprove here: <javascript:alert(1)>', timezone: 'UTC' } },
    ['client', 'name'],
    /one line of text/,
  ],
];

describe.each(['', '?dryRun=true'])('POST /v1/transitions%s', (query) => {
  it.each(unworkable)('answers 400 naming the field for %s', async (_name, overrides, field, message) => {
    await expectRefused(await post(`/v1/transitions${query}`, offboardingBody(overrides)), field, message);
  });
});

it('lets reminders exactly MIN_REMINDER_INTERVAL apart through, and not a millisecond closer', async () => {
  const plan = (reminderInterval: string) =>
    post(
      '/v1/transitions?dryRun=true',
      offboardingBody({ terms: { approvalTimeout: 'PT1H', reminderInterval } }),
    );
  expect((await plan('PT1M')).status).toBe(200);
  await expectRefused(await plan('PT59.999S'), ['terms', 'reminderInterval'], /MIN_REMINDER_INTERVAL/);
});

describe('free text', () => {
  it('refuses control characters other than line breaks in a reason', async () => {
    await expectRefused(
      await post('/v1/transitions/offboarding-acme/pause', { reason: 'counsel asked\u0000' }),
      ['reason'],
      /other than line breaks \(found U\+0000\)/,
    );
  });

  it('refuses control characters other than line breaks in evidence', async () => {
    await expectRefused(
      await post('/v1/transitions/offboarding-acme/tasks/data-export.ehr/complete', {
        evidence: { text: 'exported\r\nchecked\u001b[2J' },
      }),
      ['evidence', 'text'],
      /found U\+001B/,
    );
  });
});

describe('the NIST SP 800-88 record of a deletion task', () => {
  const sanitization = bucketSanitization;
  const complete = (record: Record<string, unknown>) =>
    post('/v1/transitions/offboarding-acme/tasks/retention-deletion.ehr/complete', {
      evidence: { text: 'purged', sanitization: record },
    });

  it('refuses a category NIST does not name', async () => {
    await expectRefused(
      await complete({ ...sanitization, category: 'Wipe' }),
      ['evidence', 'sanitization', 'category'],
      /Clear|Purge|Destroy/,
    );
  });

  it('refuses a record without the tool version', async () => {
    const { toolVersion: _left, ...withoutVersion } = sanitization;
    await expectRefused(await complete(withoutVersion), ['evidence', 'sanitization', 'toolVersion'], /./);
  });

  it('is described in /openapi.json', async () => {
    const spec = (await (await fetch(`${api.url}/openapi.json`)).json()) as {
      paths: Record<string, { post?: { requestBody: { content: Record<string, { schema: unknown }> } } }>;
    };
    const body = spec.paths['/v1/transitions/{id}/tasks/{taskId}/complete']!.post!.requestBody.content[
      'application/json'
    ]!.schema as {
      properties: {
        evidence: { properties: { sanitization: { properties: Record<string, { enum?: string[] }> } } };
      };
    };
    const fields = body.properties.evidence.properties.sanitization.properties;
    expect(Object.keys(fields)).toEqual(Object.keys(sanitization));
    expect(fields.category!.enum).toEqual(['Clear', 'Purge', 'Destroy']);
  });
});

describe('the validation of a deletion by a second person', () => {
  const route = '/v1/transitions/offboarding-acme/tasks/retention-deletion.ehr.validation/complete';

  it('refuses a result other than passed or failed, and names the field', async () => {
    await expectRefused(
      await post(route, {
        evidence: { text: 'listed', validation: { verificationMethod: 'listing', verificationResult: 'ok' } },
      }),
      ['evidence', 'validation', 'verificationResult'],
      /passed|failed/,
    );
  });

  it('refuses a record that does not say what was checked', async () => {
    await expectRefused(
      await post(route, { evidence: { text: 'listed', validation: { verificationResult: 'passed' } } }),
      ['evidence', 'validation', 'verificationMethod'],
      /./,
    );
  });

  it('is described in /openapi.json', async () => {
    const spec = (await (await fetch(`${api.url}/openapi.json`)).json()) as {
      paths: Record<string, { post?: { requestBody: { content: Record<string, { schema: unknown }> } } }>;
    };
    const body = spec.paths['/v1/transitions/{id}/tasks/{taskId}/complete']!.post!.requestBody.content[
      'application/json'
    ]!.schema as {
      properties: {
        evidence: {
          properties: {
            validation: { description: string; properties: Record<string, { enum?: string[] }> };
          };
        };
      };
    };
    const validation = body.properties.evidence.properties.validation;
    expect(validation.description).toContain('someone other than the performer');
    expect(Object.keys(validation.properties)).toEqual(['verificationMethod', 'verificationResult']);
    expect(validation.properties.verificationResult!.enum).toEqual(['passed', 'failed']);
  });
});
