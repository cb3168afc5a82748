// One approval step asked of many approvers at once, and every approver deciding at the same time
// through real HTTP, as a browser would: shared by the scale test and the approvals bench.
import type { ParsedMail } from 'mailparser';
import type { TransitionState } from '../../domain/definitions.js';
import { offboardingBody, uniqueClientId } from '../factories.js';
import { csrfIn, linkIn, postForm } from './links.js';
import { waitForState, type Stack } from './stack.js';

export interface ManyApprovers {
  id: string;
  /** Each approver's link, in the order of the request's approvers. */
  links: string[];
  /** From the start request until the last approver's link arrived in the mailbox. */
  mailedInMs: number;
}

export interface DecisionResult {
  status: number;
  /** The POST alone, from sending it to the whole answer. */
  ms: number;
}

const byRecipient = (mail: ParsedMail) => JSON.stringify(mail.to);

/**
 * Starts an offboarding whose data-export approval needs every one of `count` approvers (policy
 * "all"), and waits until each one's link is in the mailbox.
 */
export async function askManyApprovers(
  stack: Stack,
  count: number,
  timeoutMs = 60_000,
): Promise<ManyApprovers> {
  const clientId = uniqueClientId('many');
  const approvers = Array.from({ length: count }, (_, i) => ({
    name: `Approver ${i + 1}`,
    email: `approver-${i + 1}@${clientId}.example`,
  }));
  const body = offboardingBody({
    clientId,
    client: { id: clientId, name: `Client ${clientId}`, timezone: 'UTC' },
    contacts: { approvers, operators: [{ name: 'Ops', email: 'ops@msp.example' }] },
    terms: { approvalTimeout: 'PT30M', reminderInterval: 'PT10M', approvalPolicy: 'all' },
    approvalSteps: ['data-export'],
  });
  const startedAt = performance.now();
  const response = await stack.call('POST', '/v1/transitions', body);
  if (response.status !== 201) throw new Error(`start answered ${response.status}: ${await response.text()}`);
  const deadline = Date.now() + timeoutMs;
  const links: (string | undefined)[] = new Array(count);
  let mailedInMs = 0;
  while (links.includes(undefined)) {
    if (Date.now() > deadline) {
      const missing = links.filter((link) => !link).length;
      throw new Error(`${missing} of ${count} approval links not mailed within ${timeoutMs} ms`);
    }
    for (const mail of stack.mail) {
      if (!mail.subject?.startsWith('Approval needed')) continue;
      const index = approvers.findIndex((approver) => byRecipient(mail).includes(`"${approver.email}"`));
      if (index >= 0 && !links[index]) links[index] = linkIn(mail, 'approvals');
    }
    mailedInMs = performance.now() - startedAt;
    if (links.includes(undefined)) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { id: `offboarding-${clientId}`, links: links as string[], mailedInMs };
}

/** A press of an approval page's button: the link, and what the form sends besides its CSRF value. */
export interface Press {
  link: string;
  decision: string;
  comment: string;
}

/** Each link's page opened, as its approver does before pressing: its CSRF value, by link. */
export async function openPages(links: string[]): Promise<Map<string, string>> {
  return new Map(
    await Promise.all(links.map(async (link) => [link, csrfIn(await (await fetch(link)).text())] as const)),
  );
}

/**
 * Every press sent at once, from pages opened before (`csrfs`, or each link's page opened now);
 * answers in the order of `presses`.
 */
export async function pressAtOnce(
  presses: Press[],
  csrfs?: Map<string, string>,
): Promise<(DecisionResult & { page: string })[]> {
  const opened = csrfs ?? (await openPages([...new Set(presses.map((press) => press.link))]));
  return Promise.all(
    presses.map(async ({ link, decision, comment }) => {
      const startedAt = performance.now();
      const response = await postForm(
        link,
        { decision, comment, csrf: opened.get(link)! },
        { 'sec-fetch-site': 'same-origin' },
      );
      const page = await response.text();
      return { status: response.status, ms: performance.now() - startedAt, page };
    }),
  );
}

/** Every approver opens their page, then all press Approve at once (approver i comments "approver i"). */
export async function approveAllAtOnce(links: string[]): Promise<DecisionResult[]> {
  const results = await pressAtOnce(
    links.map((link, i) => ({ link, decision: 'approve', comment: `approver ${i + 1}` })),
  );
  return results.map(({ status, ms }) => ({ status, ms }));
}

/** The data-export approval of the transition once it holds `count` decisions, or an error naming what is missing. */
export async function approvalWithDecisions(stack: Stack, id: string, count: number, timeoutMs = 15_000) {
  const state = await waitForState<TransitionState>(
    stack,
    id,
    (found) => (found.approvals.at(-1)?.decisions.length ?? 0) >= count,
    timeoutMs,
  );
  return state.approvals.at(-1)!;
}

/** The p-th percentile (0–100) of `values`, nearest rank. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}
