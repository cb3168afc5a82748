import { createHash } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { searchAttributes, type LinkPurpose } from '../domain/definitions.js';
import {
  checkpointSliceCharacters,
  historyArchiveNameOf,
  type ArchiveHistoryInput,
  type CheckpointSliceInput,
  type StoreCheckpointInput,
  type Delivery,
  type EmailInput,
  type IssuedLink,
  type LinksInput,
  type ScopePageInput,
  scopePageCharacters,
  type WriteDocumentInput,
} from '../domain/activity-contracts.js';
import type { DocumentMeta, DocumentStore, RunRef } from '../connectors/documents/port.js';
import { MailNotSentError, type Mailer } from '../connectors/mail/port.js';
import { smtpConnections } from '../connectors/mail/smtp.js';
import { unescapeMarkdown } from '../domain/markdown.js';
import type { KeyList } from '../security/key-list.js';
import { createLinkToken, linkNonce, sha256Hex } from '../security/links.js';
import type { AutomationActivities } from './automation.js';
import { mapBounded } from './bounded.js';
import { currentExecution, currentRun } from './run.js';
import { rendering, sending } from './failures.js';
import type { Ledger } from './ledger.js';
import type { TemplateRenderer } from '../templates/render.js';

export interface ActivityDeps {
  documents: DocumentStore;
  mailer: Mailer;
  templates: TemplateRenderer;
  ledger: Ledger;
  publicUrl: string;
  linkSecrets: KeyList;
  /** The MSP as clients see it in emails. */
  msp: { name: string; address?: string; contact?: string };
  /** A run's event history in protobuf bytes, payloads as stored (encrypted under the codec). */
  historyBytes: (run: RunRef) => Promise<Uint8Array>;
  /** The workflow runs a visibility query finds, each with the transition run (chain) it is part of. */
  listRuns: (query: string) => Promise<ArchivableRun[]>;
  /** One slice of the facts of a document its run is writing (the run answers a query). */
  documentFactsSlice: (run: RunRef, documentId: string, slice: number) => Promise<string>;
}

/** A workflow run to archive: its chain's first run names the folder, its position the archive file. */
export interface ArchivableRun {
  execution: RunRef;
  chain: RunRef;
  part: number;
}

/**
 * How many of one request's links are sent at once: the SMTP pool's connections, so 50 approvers
 * take ten rounds of a pooled send instead of 50 sends in turn.
 */
const linksInParallel = smtpConnections;

/** Where each kind of link lands: the public pages of the API. */
const linkPaths: Record<LinkPurpose, string> = { approval: 'approvals', intake: 'intake', reveal: 'reveal' };

/** Transitions a terminate or a timeout ended: their workflow code never ran its close. */
export function endedFromOutsideSince(closedAfter: string): string {
  return `${searchAttributes.transitionKind.name} IS NOT NULL AND ExecutionStatus IN ('Terminated', 'TimedOut') AND CloseTime > '${closedAfter}'`;
}

/** Activities built from injected dependencies; the worker entry is the one place that builds real ones. */
export function createActivities(deps: ActivityDeps) {
  /** Renders and sends one email under `key`, at most once (see the ledger). */
  async function email(key: string, input: Omit<EmailInput, 'idempotencyKey'>): Promise<Delivery> {
    const data = { ...input.data, publicUrl: deps.publicUrl, msp: deps.msp };
    const { subject, text, html } = await rendering(`the email ${input.template}`, async () => {
      const [subjectLine = '', ...body] = (
        await deps.templates.render(`email/${input.template}.md.hbs`, data)
      ).split('\n');
      // A header, not Markdown: the escaped text read back as plain text, on one line.
      const plainSubject = unescapeMarkdown(subjectLine).replace(/\s+/g, ' ').trim();
      const markdown = body.join('\n').trim();
      return {
        subject: plainSubject,
        text: markdown,
        html: await deps.templates.emailHtml(plainSubject, markdown, deps.msp),
      };
    });
    const outcome = await sending(() =>
      deps.ledger.atMostOnce(
        key,
        () => deps.mailer.send({ to: input.to, subject, text, html, idempotencyKey: key }),
        (error) => error instanceof MailNotSentError,
      ),
    );
    if (outcome !== 'in-doubt') return 'sent';
    Context.current().log.warn('email in doubt: an earlier attempt may have sent it; not sending it again', {
      idempotencyKey: key,
    });
    return 'in-doubt';
  }

  /** JSON too large for the activity's input, read back from the running workflow a slice at a time. */
  async function jsonInSlices(stagedAs: string, slices: number): Promise<string> {
    const execution = currentExecution();
    let json = '';
    for (let slice = 0; slice < slices; slice++) {
      json += await deps.documentFactsSlice(execution, stagedAs, slice);
      Context.current().heartbeat(slice);
    }
    return json;
  }

  return {
    /** Renders a step's document (Markdown and HTML) and stores it once; a retry returns the stored one. */
    async writeDocument(input: WriteDocumentInput): Promise<DocumentMeta> {
      // The MSP issues the documents: the certificate of deletion names it.
      const run = currentRun();
      const facts =
        input.facts ??
        (JSON.parse(
          await jsonInSlices(input.documentId, input.factsSlices ?? 0),
        ) as WriteDocumentInput['facts']);
      const context = { ...input, facts, runId: run.runId, publicUrl: deps.publicUrl, msp: deps.msp };
      const { md, html } = await rendering(`the document ${input.documentId}`, async () => {
        const markdown = await deps.templates.render(`${input.kind}/${input.step}.md.hbs`, context);
        return {
          md: markdown,
          html: await deps.templates.page(`${input.title}: ${input.client.name}`, markdown),
        };
      });
      const meta: DocumentMeta = {
        id: input.documentId,
        transitionId: input.transitionId,
        step: input.step,
        title: input.title,
        sha256: createHash('sha256').update(md).digest('hex'),
        previousSha256: input.previousSha256,
        createdAt: input.createdAt,
      };
      return deps.documents.writeOnce(run, meta, { md, html });
    },

    /** Sends one templated email (text and HTML parts, absolute links) at most once per run and idempotency key. */
    async sendEmail(input: EmailInput): Promise<Delivery> {
      return email(`mail:${currentRun().runId}:${input.idempotencyKey}`, input);
    },

    /**
     * Reads a page of a scope stored by reference (the API stored it before the run started): the
     * assets of one list from `offset`, as many as fit in a page (at least one).
     */
    async readScopePage(input: ScopePageInput): Promise<unknown[]> {
      const run = currentRun();
      const bytes = await deps.documents.readInput(run.transitionId, input.sha256);
      if (!bytes)
        throw ApplicationFailure.nonRetryable(
          `the scope ${input.sha256} of ${run.transitionId} is not in the document store`,
          'InvalidActivityInput',
        );
      const items = (JSON.parse(bytes.toString('utf8')) as Record<string, unknown[]>)[input.list] ?? [];
      const page: unknown[] = [];
      let characters = 0;
      for (let index = input.offset; index < items.length; index++) {
        const size = JSON.stringify(items[index]).length;
        if (page.length && characters + size > scopePageCharacters) break;
        page.push(items[index]);
        characters += size;
      }
      return page;
    },

    /**
     * Copies the run's history into the document store, replacing the run's previous copy. The run
     * comes from the activity's context; the input stays as the workflow (and its histories) call it.
     */
    async archiveHistory(input: ArchiveHistoryInput): Promise<void> {
      const history = await deps.historyBytes(currentExecution());
      await deps.documents.writeArchive(currentRun(), historyArchiveNameOf(input.part), Buffer.from(history));
    },

    /**
     * Stores the checkpoint of a run continuing as new (read from the run in slices) under its
     * SHA-256, beside the stored scopes; storing the same checkpoint again changes nothing.
     */
    async storeCheckpoint(input: StoreCheckpointInput): Promise<{ sha256: string; characters: number }> {
      const json = await jsonInSlices(input.stagedAs, input.slices);
      const sha256 = createHash('sha256').update(json).digest('hex');
      await deps.documents.writeInput(input.transitionId, sha256, Buffer.from(json));
      return { sha256, characters: json.length };
    },

    /** A slice of a stored checkpoint, for the run that continues from it. */
    async readCheckpointSlice(input: CheckpointSliceInput): Promise<string> {
      const { transitionId } = currentRun();
      const bytes = await deps.documents.readInput(transitionId, input.sha256);
      if (!bytes)
        throw ApplicationFailure.nonRetryable(
          `the checkpoint ${input.sha256} of ${transitionId} is not in the document store`,
          'InvalidActivityInput',
        );
      return bytes.toString('utf8').slice(input.offset, input.offset + checkpointSliceCharacters);
    },

    /**
     * Archives the histories of transitions that ended without their own close archive: terminated
     * or timed out from outside since `closedAfter`. Rewriting an archive is harmless, so windows
     * may overlap. Answers how many it archived.
     */
    async archiveClosedRuns(input: { closedAfter: string }): Promise<number> {
      const runs = await deps.listRuns(endedFromOutsideSince(input.closedAfter));
      for (const { execution, chain, part } of runs) {
        const history = Buffer.from(await deps.historyBytes(execution));
        await deps.documents.writeArchive(chain, historyArchiveNameOf(part), history);
        Context.current().heartbeat(execution.runId);
      }
      return runs.length;
    },

    /**
     * Mails each person their own link (approval, intake or reveal) and returns only the SHA-256 of
     * each token: the token itself exists only in the email. The token is derived from the run and the
     * idempotency key, so a retry returns (and, if the first send certainly failed, mails) the same one.
     * Each email is claimed in the ledger before it is sent, a few at a time (see `linksInParallel`);
     * the links come back in the approvers' order.
     */
    async sendLinks(input: LinksInput): Promise<IssuedLink[]> {
      const run = currentRun();
      return mapBounded(input.approvers, linksInParallel, async (approver): Promise<IssuedLink> => {
        const key = `${input.purpose}:${run.transitionId}:${run.runId}:${input.requestId}:${input.round}:${approver.email}`;
        const token = createLinkToken(
          deps.linkSecrets,
          {
            transitionId: run.transitionId,
            runId: run.runId,
            requestId: input.requestId,
            purpose: input.purpose,
            expiresAt: input.expiresAt,
          },
          linkNonce(deps.linkSecrets, key),
        );
        const delivery = await email(key, {
          to: [approver.email],
          template: input.template,
          data: {
            ...input.data,
            approver,
            reminder: input.round.startsWith('reminder'),
            link: `${deps.publicUrl}/${linkPaths[input.purpose]}/${token}`,
          },
        });
        return { approver: approver.email, tokenHash: sha256Hex(token), delivery };
      });
    },
  };
}

/** Every activity the runbook workflows call: these and the automated connectors' (activities/automation.ts). */
export type Activities = ReturnType<typeof createActivities> & AutomationActivities;
