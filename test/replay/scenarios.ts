// The states a recorded history stops in: every step and every waiting state of both runbooks.
// A new state is one line: a name and the moves that reach it (see ./moves.ts).
import {
  approve,
  at,
  cancel,
  completeTasks,
  extend,
  holdLegally,
  pause,
  reject,
  requestAgain,
  skip,
  status,
  supplyCredential,
  type Move,
} from './moves.js';

export interface Scenario {
  name: string;
  kind: 'offboarding' | 'onboarding';
  moves: Move[];
  /** Devices in scope beyond the usual one: enough, and the scope goes by reference as the API sends it. */
  devices?: number;
  /** The mail server refuses every email of this run, from its start: the run stalls and keeps retrying. */
  mailRefused?: boolean;
  /** A second device is reached through an SSH connection that no longer exists: its connector fails. */
  goneConnection?: boolean;
  /**
   * The run continues as new at the first step boundary after this many events (its history budget):
   * each workflow run of the chain is recorded, the earlier ones as `<name>.run-<n>`.
   */
  continuesAfterEvents?: number;
}

const offboarding = (name: string, ...moves: Move[]): Scenario => ({ name, kind: 'offboarding', moves });
const onboarding = (name: string, ...moves: Move[]): Scenario => ({ name, kind: 'onboarding', moves });

/** Offboarding: the data set exported and its receipt confirmed; the cutover date passed. */
const exported = [completeTasks('data-export'), approve('data-export')];
const pastCutover = [...exported, at('cutover', 'running'), skip('31 days')];
const agentsRemoved = [...pastCutover, approve('agent-removal'), completeTasks('agent-removal')];
const rotated = [...agentsRemoved, approve('credential-rotation'), supplyCredential('domain-admin')];
const revoked = [...rotated, completeTasks('credential-rotation')];
const deletionDue = [...revoked, at('transition-assistance', 'running'), skip('181 days')];

/** Onboarding: credentials vaulted, agents deployed, restores proven. */
const vaulted = [approve('discovery'), supplyCredential('domain-admin')];
const deployed = [...vaulted, completeTasks('agent-deployment')];
const restored = [...deployed, completeTasks('restore-validation')];

/** A client of thousands of devices: its scope by reference, its tasks completed in batches. */
const thousands = (name: string, ...moves: Move[]): Scenario => ({
  ...offboarding(name, ...moves),
  devices: 1_500,
});

/** A run that continues as new at almost every step boundary: a budget of 100 events. */
const continuing = (scenario: Scenario): Scenario => ({ ...scenario, continuesAfterEvents: 100 });

export const scenarios: Scenario[] = [
  {
    // A day and a half of a mail server that refuses: every retry round is in the history.
    ...offboarding(
      'offboarding-termination-notice-stalled',
      at('termination-notice', 'stalled'),
      skip('36 hours'),
    ),
    mailRefused: true,
  },
  offboarding('offboarding-data-export-awaiting-tasks', at('data-export', 'awaiting-task')),
  offboarding(
    'offboarding-data-export-awaiting-approval',
    completeTasks('data-export'),
    at('data-export', 'awaiting-approval'),
  ),
  offboarding('offboarding-cutover-timer', ...exported, at('cutover', 'running')),
  offboarding('offboarding-cutover-paused', ...exported, at('cutover', 'running'), pause()),
  offboarding(
    'offboarding-cutover-extended',
    ...exported,
    at('cutover', 'running'),
    extend('noticePeriod', 'P10D'),
  ),
  offboarding(
    'offboarding-agent-removal-awaiting-approval',
    ...pastCutover,
    at('agent-removal', 'awaiting-approval'),
  ),
  {
    // The connector branch: the device's connector fails (its connection is gone), a person takes over.
    ...offboarding(
      'offboarding-agent-removal-connector-failed',
      ...pastCutover,
      approve('agent-removal'),
      at('agent-removal', 'awaiting-task'),
    ),
    goneConnection: true,
  },
  offboarding(
    'offboarding-agent-removal-rejected',
    ...pastCutover,
    reject('agent-removal'),
    at('agent-removal', 'rejected'),
  ),
  offboarding(
    'offboarding-agent-removal-re-requested',
    ...pastCutover,
    reject('agent-removal'),
    requestAgain('agent-removal'),
  ),
  offboarding(
    'offboarding-agent-removal-awaiting-tasks',
    ...pastCutover,
    approve('agent-removal'),
    at('agent-removal', 'awaiting-task'),
  ),
  offboarding(
    'offboarding-credential-rotation-awaiting-credentials',
    ...agentsRemoved,
    approve('credential-rotation'),
    at('credential-rotation', 'awaiting-credentials'),
  ),
  offboarding(
    'offboarding-credential-rotation-awaiting-tasks',
    ...rotated,
    at('credential-rotation', 'awaiting-task'),
  ),
  offboarding('offboarding-transition-assistance-timer', ...revoked, at('transition-assistance', 'running')),
  offboarding(
    'offboarding-retention-deletion-awaiting-approval',
    ...deletionDue,
    at('retention-deletion', 'awaiting-approval'),
  ),
  offboarding(
    'offboarding-retention-deletion-legal-hold',
    ...deletionDue,
    holdLegally(),
    approve('retention-deletion'),
    at('retention-deletion', 'running'),
  ),
  offboarding(
    'offboarding-retention-deletion-awaiting-tasks',
    ...deletionDue,
    approve('retention-deletion'),
    at('retention-deletion', 'awaiting-task'),
  ),
  offboarding(
    'offboarding-retention-deletion-awaiting-validation',
    ...deletionDue,
    approve('retention-deletion'),
    completeTasks('retention-deletion'),
    at('retention-deletion', 'awaiting-task'),
  ),
  offboarding(
    'offboarding-cancelled',
    ...pastCutover,
    at('agent-removal', 'awaiting-approval'),
    cancel(),
    status('cancelled'),
  ),
  offboarding(
    'offboarding-completed',
    ...deletionDue,
    approve('retention-deletion'),
    completeTasks('retention-deletion'),
    // The validation of each deletion, by a second person.
    completeTasks('retention-deletion'),
    status('completed'),
  ),
  thousands(
    'offboarding-thousands-agent-removal-awaiting-tasks',
    ...pastCutover,
    approve('agent-removal'),
    at('agent-removal', 'awaiting-task'),
  ),
  thousands(
    'offboarding-thousands-completed',
    ...deletionDue,
    approve('retention-deletion'),
    completeTasks('retention-deletion'),
    // The validation of each deletion, by a second person.
    completeTasks('retention-deletion'),
    status('completed'),
  ),
  onboarding('onboarding-start-timer', at('discovery', 'pending')),
  onboarding('onboarding-discovery-awaiting-approval', skip('2 days'), at('discovery', 'awaiting-approval')),
  onboarding(
    'onboarding-credential-vaulting-awaiting-credentials',
    skip('2 days'),
    approve('discovery'),
    at('credential-vaulting', 'awaiting-credentials'),
  ),
  onboarding(
    'onboarding-credential-vaulting-reminded',
    skip('2 days'),
    approve('discovery'),
    at('credential-vaulting', 'awaiting-credentials'),
    skip('3 days'),
  ),
  onboarding(
    'onboarding-agent-deployment-awaiting-tasks',
    skip('2 days'),
    ...vaulted,
    at('agent-deployment', 'awaiting-task'),
  ),
  onboarding(
    'onboarding-restore-validation-awaiting-tasks',
    skip('2 days'),
    ...deployed,
    at('restore-validation', 'awaiting-task'),
  ),
  onboarding(
    'onboarding-service-acceptance-awaiting-approval',
    skip('2 days'),
    ...restored,
    at('service-acceptance', 'awaiting-approval'),
  ),
  onboarding(
    'onboarding-cancelled',
    skip('2 days'),
    ...vaulted,
    at('agent-deployment', 'awaiting-task'),
    cancel(),
    status('cancelled'),
  ),
  onboarding(
    'onboarding-completed',
    skip('2 days'),
    ...restored,
    approve('service-acceptance'),
    status('completed'),
  ),
  continuing(
    offboarding(
      'offboarding-continued-credential-rotation-awaiting-credentials',
      ...agentsRemoved,
      extend('retentionPeriod', 'P10D'),
      approve('credential-rotation'),
      at('credential-rotation', 'awaiting-credentials'),
    ),
  ),
  continuing(
    offboarding(
      'offboarding-continued-completed',
      ...deletionDue,
      approve('retention-deletion'),
      completeTasks('retention-deletion'),
      completeTasks('retention-deletion'),
      status('completed'),
    ),
  ),
  continuing(
    onboarding(
      'onboarding-continued-completed',
      skip('2 days'),
      ...restored,
      approve('service-acceptance'),
      status('completed'),
    ),
  ),
];
