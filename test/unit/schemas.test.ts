import { describe, expect, it } from 'vitest';
import { startRequestSchema } from '../../domain/schemas.js';
import { offboardingBody } from '../factories.js';

const issuesOf = (body: unknown) => {
  const result = startRequestSchema.safeParse(body);
  return result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
};

describe('start request schema', () => {
  it("accepts the README's example and fills defaults", () => {
    const { approvalSteps: _omitted, ...body } = offboardingBody();
    const parsed = startRequestSchema.parse(body);
    expect(parsed.approvalSteps).toEqual([
      'data-export',
      'agent-removal',
      'credential-rotation',
      'retention-deletion',
    ]);
  });

  it.each([
    [
      'a duration in words',
      { terms: { noticePeriod: '30 days' } },
      'terms.noticePeriod: expected an ISO 8601 duration',
    ],
    [
      'a zero approval timeout',
      { terms: { approvalTimeout: 'P0D' } },
      'terms.approvalTimeout: expected at least PT1S',
    ],
    [
      'a notice period no date can follow',
      { terms: { noticePeriod: 'P999999999Y' } },
      'terms.noticePeriod: expected at most P100Y',
    ],
    [
      'a period of more digits than a number holds',
      { terms: { retentionPeriod: `P${'9'.repeat(400)}D` } },
      'terms.retentionPeriod: expected at most P100Y',
    ],
    [
      'a sub-second reminder interval',
      { terms: { reminderInterval: 'PT0.001S' } },
      'terms.reminderInterval: expected at least PT1S',
    ],
    [
      'a sub-second approval timeout',
      { terms: { approvalTimeout: 'PT0.5S' } },
      'terms.approvalTimeout: expected at least PT1S',
    ],
    [
      'a deletion due after year 9999',
      { terms: { noticeReceivedAt: '9950-01-01T00:00:00Z', noticePeriod: 'P1Y', retentionPeriod: 'P99Y' } },
      'terms.retentionPeriod: puts a date the runbook computes past 9999-12-31T23:59:59.999Z',
    ],
    [
      'an approval deadline after year 9999',
      {
        terms: {
          noticeReceivedAt: '9999-12-01T00:00:00Z',
          noticePeriod: 'P1D',
          transitionPeriod: 'P1D',
          retentionPeriod: 'P1D',
          approvalTimeout: 'P20D',
        },
      },
      'terms.approvalTimeout: puts a date the runbook computes past',
    ],
    [
      'an onboarding whose credentials are due for rotation after year 9999',
      { kind: 'onboarding', terms: { startAt: '9999-11-01T00:00:00Z', rotationPeriod: 'P90D' } },
      'terms.rotationPeriod: puts a date the runbook computes past',
    ],
    [
      'a client name that starts a new line',
      { client: { id: 'acme', name: 'Acme\n[Approve here](https://evil.example)' } },
      'client.name: expected one line of text without control characters (found U+000A)',
    ],
    [
      'an approver name with a carriage return',
      {
        contacts: {
          approvers: [{ name: 'Dana\rReyes', email: 'dana@acme.example' }],
          operators: [{ name: 'Ops', email: 'ops@msp.example' }],
        },
      },
      'contacts.approvers.0.name: expected one line',
    ],
    [
      'a hostname with a tab',
      { scope: { devices: [{ id: 'srv-01', hostname: 'srv-01\tlocal', type: 'server' }] } },
      'scope.devices.0.hostname: expected one line of text without control characters (found U+0009)',
    ],
    [
      'a credential account with a NUL',
      { scope: { credentials: [{ id: 'admin', system: 'AD', account: 'admin\u0000' }] } },
      'scope.credentials.0.account: expected one line',
    ],
    [
      'a data set description with a line separator',
      { scope: { dataSets: [{ id: 'ehr', description: 'EHR\u2028# backups' }] } },
      'scope.dataSets.0.description: expected one line',
    ],
    [
      'a regulated entry with a C1 next-line',
      { terms: { regulated: ['HIPAA\u0085'] } },
      'terms.regulated.0: expected one line',
    ],
    [
      'a client id that is not a slug',
      { client: { id: 'Acme Dental', name: 'x' } },
      'client.id: expected a slug',
    ],
    [
      'an unknown time zone',
      { client: { id: 'acme', name: 'x', timezone: 'Mars/Olympus' } },
      'client.timezone: expected an IANA time zone',
    ],
    ['a step of the other runbook', { approvalSteps: ['service-acceptance'] }, 'approvalSteps.0'],
    [
      'a bad approver email',
      {
        contacts: {
          approvers: [{ name: 'x', email: 'nope' }],
          operators: [{ name: 'y', email: 'y@x.example' }],
        },
      },
      'contacts.approvers.0.email',
    ],
    [
      'duplicate device ids',
      { scope: { devices: [1, 2].map(() => ({ id: 'srv-01', hostname: 'h', type: 'server' })) } },
      'scope.devices.1: duplicate device id "srv-01"',
    ],
    [
      'too many devices',
      {
        scope: {
          devices: Array.from({ length: 10_001 }, (_, i) => ({
            id: `d-${i}`,
            hostname: 'h',
            type: 'server',
          })),
        },
      },
      'scope.devices: Too big',
    ],
  ])('rejects %s', (_name, overrides, expected) => {
    expect(issuesOf(offboardingBody(overrides as Record<string, unknown>)).join('\n')).toContain(expected);
  });

  it('takes periods up to P100Y and intervals down to PT1S, and not a bit further', () => {
    const terms = {
      noticePeriod: 'P100Y',
      transitionPeriod: 'P1200M',
      retentionPeriod: 'PT0S',
      approvalTimeout: 'PT1S',
      reminderInterval: 'PT1S',
    };
    expect(issuesOf(offboardingBody({ terms }))).toEqual([]);
    const further = { noticePeriod: 'P100YT1S', approvalTimeout: 'PT0.999S', reminderInterval: 'PT0.999S' };
    expect(issuesOf(offboardingBody({ terms: { ...terms, ...further } }))).toEqual([
      'terms.noticePeriod: expected at most P100Y (100 years)',
      'terms.approvalTimeout: expected at least PT1S',
      'terms.reminderInterval: expected at least PT1S',
    ]);
  });

  it('takes Markdown-looking text and backslashes on one line, and no line break', () => {
    const name = '# Acme | [x](javascript:alert(1)) <b> \\\\srv-01\\imaging';
    expect(issuesOf(offboardingBody({ client: { id: 'acme', name } }))).toEqual([]);
    expect(issuesOf(offboardingBody({ client: { id: 'acme', name: `${name}\n` + name } }))).toEqual([
      'client.name: expected one line of text without control characters (found U+000A)',
    ]);
  });
});
