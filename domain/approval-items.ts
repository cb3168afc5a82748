// What an approval is about, item by item, for the client's confirmation page. Bounded, so a scope
// of thousands of devices still answers a small query.
import { destinationText, type Scope, type StepKey } from './schemas.js';

/** The most items a page lists; the rest are counted ("and N more"). */
export const shownItemsLimit = 50;

export interface ApprovalItem {
  name: string;
  detail?: string;
}

export interface ApprovalItems {
  /** What the items are, singular: `device`, `data set`, `credential`, `backup job`. */
  noun: string;
  total: number;
  shown: ApprovalItem[];
}

const none: ApprovalItems = { noun: 'item', total: 0, shown: [] };

function listOf<T>(noun: string, assets: T[], item: (asset: T) => ApprovalItem): ApprovalItems {
  return { noun, total: assets.length, shown: assets.slice(0, shownItemsLimit).map(item) };
}

const devices = (scope: Scope) =>
  listOf('device', scope.devices, (device) => ({
    name: device.hostname,
    detail: [device.type, device.agents.length ? `agents: ${device.agents.join(', ')}` : 'no agent']
      .filter(Boolean)
      .join(' · '),
  }));
const dataSets = (scope: Scope) =>
  listOf('data set', scope.dataSets, (set) => ({
    name: set.description,
    detail: [set.id, set.destination && `to ${destinationText(set.destination)}`, set.format]
      .filter(Boolean)
      .join(' · '),
  }));
const credentials = (scope: Scope) =>
  listOf('credential', scope.credentials, (credential) => ({
    name: `${credential.account} on ${credential.system}`,
    detail: credential.id,
  }));
const backupJobs = (scope: Scope) =>
  listOf('backup job', scope.backupJobs, (job) => ({
    name: job.id,
    detail: [`device ${job.device}`, job.rto && `RTO ${job.rto}`].filter(Boolean).join(' · '),
  }));

const itemsOfStep: Partial<Record<StepKey, (scope: Scope) => ApprovalItems>> = {
  'data-export': dataSets,
  'agent-removal': devices,
  'credential-rotation': credentials,
  'retention-deletion': dataSets,
  discovery: devices,
  'credential-vaulting': credentials,
  'agent-deployment': devices,
  'restore-validation': backupJobs,
  'service-acceptance': devices,
};

/** The items a step's approval concerns, from the transition's scope. */
export function approvalItems(step: StepKey, scope: Scope): ApprovalItems {
  return itemsOfStep[step]?.(scope) ?? none;
}
