// What each step's document shows, as typed contracts: a step's `run` returns its facts, and its
// template (`templates/<kind>/<step>.md.hbs`) renders exactly these. Renaming a key here fails the
// type check of the step and the template test (test/unit/step-templates.test.ts).
import type { ExportedObject, Verification } from './automation.js';
import type {
  ApprovalState,
  ControlRecord,
  CredentialState,
  KeyHolder,
  LinkPurpose,
  SanitizationEvidence,
  StepState,
  TaskState,
  ValidationEvidence,
} from './definitions.js';
import type { DiscoveryGap, DiscoveryReport } from './discovery.js';
import type { RestoreResult } from './restore.js';
import type { OffboardingRequest, OnboardingRequest, Scope, StepKey } from './schemas.js';
import type { OffboardingDates } from './timeline.js';

/** NIST SP 800-88 certificate fields of the retention deletion. */
export interface DeletionCertificate {
  what: string;
  method?: string;
  tool?: string;
  verification?: string;
  performedBy?: string;
  validatedBy?: string;
  date: string;
  /** One entry per data set in scope, with the evidence of its deletion task (absent on older runs). */
  dataSets?: SanitizedDataSet[];
  /** The client's approvals of the deletion, given before anything was deleted (absent on older runs). */
  consent?: ConsentRecord[];
  /** Who completed the deletion tasks, by key and, when the key names them, as a person: they sign. */
  performers?: Performer[];
  /** Who validated the deletions, each someone other than its performer: they sign too (absent on older runs). */
  validators?: Performer[];
}

export interface Performer {
  key: string;
  holder?: KeyHolder;
}

export interface SanitizedDataSet {
  id: string;
  description: string;
  status: TaskState['status'] | 'no task';
  performedBy?: string;
  performer?: KeyHolder;
  completedAt?: string;
  /** The structured record; tasks completed with free-text fields only have `method`, `tool`, `verification`. */
  sanitization?: SanitizationEvidence;
  /** Whose record it is: the connector's, from its own verification, or a manual entry by a person. */
  recordedBy?: 'connector' | 'person';
  /** The connector's checks after the deletion, each with its time and what it found. */
  verifications?: Verification[];
  method?: string;
  tool?: string;
  verification?: string;
  /** The second person's check of this deletion (absent on older runs). */
  validation?: DeletionValidation;
}

/** What the validation task of one data set recorded: who checked the deletion again, how, and when. */
export interface DeletionValidation {
  status: TaskState['status'];
  validatedBy?: string;
  validator?: KeyHolder;
  completedAt?: string;
  /** What they did, in their words. */
  text?: string;
  verificationMethod?: string;
  verificationResult?: ValidationEvidence['verificationResult'];
}

export interface ConsentRecord {
  approver: string;
  decidedAt: string;
  comment: string;
}

export interface OffboardingFacts {
  'termination-notice': {
    terms: OffboardingRequest['terms'];
    dates: OffboardingDates;
    approvalSteps: OffboardingRequest['approvalSteps'];
  };
  'data-export': {
    dataSets: Scope['dataSets'];
    /** Every object the connectors exported, verified after upload (absent on older runs). */
    manifest?: (ExportedObject & { dataSet: string })[];
  };
  cutover: { cutoverAt: string };
  'agent-removal': { devices: Scope['devices'] };
  'credential-rotation': { rotated: Scope['credentials'] };
  'transition-assistance': { assistanceEndsAt: string };
  'retention-deletion': {
    deletionDueAt: string;
    deletionStartedAt: string;
    certificate: DeletionCertificate;
  };
  closure: { steps: StepState[]; handedOver: CredentialState[] };
}

export interface OnboardingFacts {
  discovery: { report: DiscoveryReport };
  'credential-vaulting': { rotationPeriod: OnboardingRequest['terms']['rotationPeriod'] };
  'agent-deployment': { devices: Scope['devices']; undeployed: Scope['devices'] };
  'restore-validation': { results: RestoreResult[]; flagged: RestoreResult[] };
  'service-acceptance': {
    gaps: DiscoveryGap[];
    restores: RestoreResult[];
    credentials: CredentialState[];
    steps: StepState[];
  };
}

type AllStepFacts = OffboardingFacts & OnboardingFacts;

/** The facts a step's `run` returns and its template renders. */
export type StepFactsOf<K extends StepKey> = AllStepFacts[K];

/** An opening of a link page (a GET): recorded, never a decision. */
export interface LinkOpeningRecord {
  purpose: LinkPurpose;
  requestId: string;
  approver: string;
  generation?: number;
  at: string;
  ip: string;
  userAgent: string;
}

/** What every step document shows besides its step's own facts: the record of the step. */
export interface RecordFacts {
  tasks: TaskState[];
  credentials: CredentialState[];
  approvals: ApprovalState[];
  linkOpenings: LinkOpeningRecord[];
  linkOpeningsNotListed: number;
  controls: ControlRecord[];
}

/** A step that did not complete (cancelled, failed, rejected) has no facts of its own, only its outcome. */
export interface OutcomeFacts {
  outcome?: 'cancelled' | 'failed' | 'rejected';
}

/** What a document's template receives as `facts`: the record, and the step's own facts or its outcome. */
export type DocumentFacts = RecordFacts & OutcomeFacts & Partial<StepFactsOf<StepKey>>;
