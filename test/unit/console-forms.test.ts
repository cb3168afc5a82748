// The console's forms read into the very bodies the JSON routes validate, and the start route's
// schema's issues found back on the fields they are about.
import { describe, expect, it } from 'vitest';
import { fieldErrors, nested } from '../../api/console/forms.js';
import { readStartForm, startFields } from '../../api/console/start-form.js';
import { startBody } from '../../api/routes/transitions.js';

const now = Date.parse('2026-11-26T15:30:00.250Z');
const schema = startBody('PT1M');

const offboardingForm = {
  kind: 'offboarding',
  'client.id': 'acme-dental',
  'client.name': 'Acme Dental LLC',
  'client.timezone': 'America/Chicago',
  requestedBy: 'ops@msp.example',
  'contacts.approvers': 'Dana Reyes <dana@acme.example>\n\n"Sam Ortiz", sam@acme.example\n',
  'contacts.operators': 'MSP Ops <ops@msp.example>',
  'terms.noticeReceivedAt': '',
  'terms.noticePeriod': 'P30D',
  'terms.transitionPeriod': 'P60D',
  'terms.retentionPeriod': 'P90D',
  'terms.regulated': 'HIPAA, PCI DSS',
  'terms.approvalTimeout': 'P5D',
  'terms.reminderInterval': 'P1D',
  'terms.onTimeout': 'escalate',
  'terms.approvalPolicy': 'any',
  approvalSteps: ['data-export', 'agent-removal'],
  'scope.devices':
    'id,hostname,type,agents\nsrv-01,srv-01.acme.local,server,rmm;backup\nws-02,ws-02.acme.local,workstation,',
  'scope.credentials': '[{"id":"domain-admin","system":"Active Directory","account":"Administrator"}]',
  'scope.dataSets': '',
};

describe('the start form', () => {
  it('reads into the request POST /v1/transitions takes, which its schema accepts', () => {
    const form = readStartForm(offboardingForm, 'offboarding', now);
    expect(form.unreadable).toEqual({});
    const request = schema.parse(form.request);
    expect(request).toMatchObject({
      kind: 'offboarding',
      client: { id: 'acme-dental', name: 'Acme Dental LLC', timezone: 'America/Chicago' },
      contacts: {
        approvers: [
          { name: 'Dana Reyes', email: 'dana@acme.example' },
          { name: 'Sam Ortiz', email: 'sam@acme.example' },
        ],
        operators: [{ name: 'MSP Ops', email: 'ops@msp.example' }],
      },
      // An empty notice date is now, to the second, in the client's zone; written back to the form.
      terms: { noticeReceivedAt: '2026-11-26T09:30:00.000-06:00', regulated: ['HIPAA', 'PCI DSS'] },
      approvalSteps: ['data-export', 'agent-removal'],
      scope: {
        devices: [
          { id: 'srv-01', hostname: 'srv-01.acme.local', type: 'server', agents: ['rmm', 'backup'] },
          { id: 'ws-02', hostname: 'ws-02.acme.local', type: 'workstation', agents: [] },
        ],
        credentials: [{ id: 'domain-admin', system: 'Active Directory', account: 'Administrator' }],
        dataSets: [],
      },
    });
    expect(form.values['terms.noticeReceivedAt']).toBe('2026-11-26T09:30:00');
  });

  it('takes no approval step when none is ticked', () => {
    const { approvalSteps: _, ...unticked } = offboardingForm;
    expect(schema.parse(readStartForm(unticked, 'offboarding', now).request).approvalSteps).toEqual([]);
  });

  it('names what it cannot read, and finds each schema issue its field', () => {
    const form = readStartForm(
      {
        ...offboardingForm,
        'contacts.approvers': 'Dana Reyes <dana@acme.example>\nSam Ortiz (no address)',
        'scope.devices': 'hostname,type\nsrv-01,server',
        'scope.credentials': '[{"id": "domain-admin",',
        'terms.noticePeriod': 'thirty days',
      },
      'offboarding',
      now,
    );
    expect(form.unreadable).toEqual({
      'scope.devices': 'the first row names the columns, for example: id,hostname,type,agents',
      'scope.credentials': expect.stringMatching(/^not valid JSON/),
    });
    const issues = schema.safeParse(form.request).error!.issues;
    expect(fieldErrors(issues, startFields('offboarding')).byField).toEqual({
      'contacts.approvers': 'entry 2, email: Invalid email address',
      'terms.noticePeriod': 'expected an ISO 8601 duration such as P30D or PT2S',
    });
  });
});

describe('form fields to JSON', () => {
  it('nests dotted names and leaves empty fields out, as a JSON client leaves them out', () => {
    expect(
      nested({
        'evidence.text': 'done',
        'evidence.url': '',
        'evidence.restore.verifiedBy': 'Jordan',
        reason: 'x',
      }),
    ).toEqual({ evidence: { text: 'done', restore: { verifiedBy: 'Jordan' } }, reason: 'x' });
  });

  it('says a missing field is required, and names what lies past the field', () => {
    const result = startBody('PT1M').safeParse({ kind: 'offboarding', client: {} });
    const errors = fieldErrors(result.error!.issues, ['client.id', 'client.name', 'requestedBy']);
    expect(errors.byField).toMatchObject({
      'client.id': 'this is required',
      requestedBy: 'this is required',
    });
    expect(errors.all).toContainEqual({ field: null, message: 'terms: this is required' });
  });
});
