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
  it('accepts the DESIGN §9 example and fills defaults', () => {
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
      'terms.approvalTimeout: expected a duration greater than zero',
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
          devices: Array.from({ length: 501 }, (_, i) => ({ id: `d-${i}`, hostname: 'h', type: 'server' })),
        },
      },
      'scope.devices: Too big',
    ],
  ])('rejects %s', (_name, overrides, expected) => {
    expect(issuesOf(offboardingBody(overrides as Record<string, unknown>)).join('\n')).toContain(expected);
  });
});
