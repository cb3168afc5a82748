// What the client's approval page says for each step: the action in plain words, what follows
// Approve and Reject, and a warning where the step cannot be undone.
import type { ApprovalItems } from '../domain/approval-items.js';
import type { StepKey } from '../domain/schemas.js';

export interface ApprovalCopy {
  heading: string;
  afterApprove: string;
  afterReject: string;
  /** Set for steps that cannot be undone. */
  irreversible?: string;
}

export function plural(count: number, noun: string): string {
  return `${noun}${count === 1 ? '' : 's'}`;
}

/** "3 devices", "1 data set". */
export function counted(count: number, noun: string): string {
  return `${count} ${plural(count, noun)}`;
}

const held =
  'The step is held and nothing is done. The MSP is told at once and will contact you to agree on what happens next.';

const copyOfStep: Partial<Record<StepKey, (n: string, clientName: string) => ApprovalCopy>> = {
  'data-export': (n) => ({
    heading: `Confirm that you received ${n}`,
    afterApprove:
      'The MSP records that you received every export complete and readable, and the offboarding moves on to the cutover.',
    afterReject: `${held} Say in the comment what is missing or unreadable.`,
  }),
  'agent-removal': (n) => ({
    heading: `Approve the removal of MSP agents from ${n}`,
    afterApprove:
      'The MSP removes its agents (remote management, monitoring, backup, remote access) from these devices and checks that they are gone. From then on the MSP no longer monitors or backs up these devices.',
    afterReject: `${held} The agents stay in place.`,
  }),
  'credential-rotation': (n) => ({
    heading: `Approve the rotation of ${n} and the end of the MSP's access`,
    afterApprove:
      'The MSP changes each shared credential and revokes its own accounts. You receive a one-time link for each new credential; the MSP keeps none.',
    afterReject: `${held} The credentials stay as they are.`,
    irreversible:
      'This cannot be undone: once rotated, the old passwords stop working everywhere they are used, and the MSP can no longer sign in to your systems.',
  }),
  'retention-deletion': (n) => ({
    heading: `Approve the permanent deletion of ${n}`,
    afterApprove:
      'The MSP deletes every retained copy following NIST SP 800-88, checks that nothing is left, and sends you a certificate of deletion.',
    afterReject: `${held} The retained copies are kept until you and the MSP agree.`,
    irreversible:
      'This cannot be undone: once deleted, the MSP cannot restore these copies for you or anyone else.',
  }),
  discovery: (n) => ({
    heading: `Confirm the inventory of ${n}`,
    afterApprove: 'The MSP takes this inventory as the scope of its service and goes on with the onboarding.',
    afterReject: `${held} Say in the comment what is missing or wrong.`,
  }),
  'credential-vaulting': (n) => ({
    heading: `Confirm that the MSP holds ${n} in its vault`,
    afterApprove: 'The custody record stands as listed, and the onboarding goes on.',
    afterReject: held,
  }),
  'agent-deployment': (n) => ({
    heading: `Confirm the MSP agents on ${n}`,
    afterApprove: 'The MSP starts monitoring and managing these devices.',
    afterReject: held,
  }),
  'restore-validation': (n) => ({
    heading: `Review the restore tests of ${n}`,
    afterApprove: 'You accept the restore tests as proof that your backups can be restored.',
    afterReject: `${held} Say in the comment which restore you want tested again.`,
  }),
  'service-acceptance': (_n, clientName) => ({
    heading: `Accept the onboarding of ${clientName}`,
    afterApprove: 'The onboarding is complete and the MSP provides its full service from now on.',
    afterReject: `${held} Say in the comment what is still open for you.`,
  }),
};

/** The page copy of a step's approval; a plain fallback for steps without their own. */
export function approvalCopy(
  step: StepKey,
  title: string,
  items: ApprovalItems,
  clientName: string,
): ApprovalCopy {
  const copy = copyOfStep[step];
  if (copy) return copy(counted(items.total, items.noun), clientName);
  return { heading: `Approve: ${title}`, afterApprove: 'The step goes ahead.', afterReject: held };
}
