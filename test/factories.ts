import { startRequestSchema, type OffboardingRequest, type OnboardingRequest } from '../domain/schemas.js';

let counter = 0;

/** A unique client id per call, so tests never collide on workflow ids. */
export function uniqueClientId(prefix = 'client'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** An offboarding request body as an operator would send it (before defaults), with overrides. */
export function offboardingBody(
  overrides: DeepPartial<Record<string, unknown>> & Record<string, unknown> = {},
) {
  const clientId = (overrides.clientId as string | undefined) ?? uniqueClientId('acme');
  const { clientId: _ignored, terms, ...rest } = overrides;
  return {
    kind: 'offboarding',
    client: { id: clientId, name: 'Acme Dental LLC', timezone: 'America/Chicago' },
    requestedBy: 'ops@msp.example',
    contacts: {
      approvers: [{ name: 'Dana Reyes', email: 'dana@acme.example' }],
      operators: [{ name: 'MSP Ops', email: 'ops@msp.example' }],
    },
    terms: {
      noticeReceivedAt: new Date().toISOString(),
      noticePeriod: 'P30D',
      transitionPeriod: 'P60D',
      retentionPeriod: 'P90D',
      approvalTimeout: 'P5D',
      reminderInterval: 'P1D',
      onTimeout: 'escalate',
      regulated: ['HIPAA'],
      ...(terms as object),
    },
    scope: { devices: [], credentials: [], dataSets: [], backupJobs: [] },
    approvalSteps: [],
    ...rest,
  };
}

/** The NIST SP 800-88 record of a bucket's deletion, as a deletion task's evidence carries it. */
export const bucketSanitization = {
  mediaType: 'S3 bucket',
  mediaId: 'acme-ehr-backups',
  category: 'Purge',
  technique: 'cryptographic erase',
  tool: 'restic',
  toolVersion: '0.17.3',
  verificationMethod: 'bucket listing',
  verificationResult: 'passed',
};

/** A scope with one asset of each kind an offboarding works on, every step asking the client. */
export const oneOfEach = {
  scope: {
    devices: [{ id: 'srv-01', hostname: 'srv-01.acme.local', type: 'server', agents: ['rmm', 'backup'] }],
    credentials: [{ id: 'domain-admin', system: 'Active Directory', account: 'msp-admin' }],
    dataSets: [
      {
        id: 'ehr-backups',
        description: 'EHR database backups',
        destination: 'client S3 bucket',
        format: 'pg_dump',
      },
    ],
    backupJobs: [],
  },
  approvalSteps: ['data-export', 'agent-removal', 'credential-rotation', 'retention-deletion'],
};

/** The parsed request as the workflow receives it. */
export function offboardingRequest(
  overrides: Parameters<typeof offboardingBody>[0] = {},
): OffboardingRequest & {
  startedBy: string;
} {
  return {
    ...(startRequestSchema.parse(offboardingBody(overrides)) as OffboardingRequest),
    startedBy: 'test-operator',
  };
}

/** A parsed onboarding request as the workflow receives it; `client`, `terms`, `scope` and `approvalSteps` replace the defaults. */
export function onboardingRequest(
  overrides: {
    client?: Record<string, unknown>;
    terms?: Record<string, unknown>;
    scope?: Record<string, unknown>;
    approvalSteps?: string[];
  } = {},
): OnboardingRequest & { startedBy: string } {
  const body = {
    kind: 'onboarding',
    client: { id: uniqueClientId('bright'), name: 'Bright Smiles Dental', timezone: 'UTC' },
    requestedBy: 'ops@msp.example',
    contacts: {
      approvers: [{ name: 'Riley Chen', email: 'riley@bright.example' }],
      operators: [{ name: 'MSP Ops', email: 'ops@msp.example' }],
    },
    terms: {},
    scope: {},
    ...overrides,
  };
  return { ...(startRequestSchema.parse(body) as OnboardingRequest), startedBy: 'test-operator' };
}
