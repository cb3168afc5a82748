import { createHash } from 'node:crypto';
import type { LinkPurpose, TransitionState } from '../domain/definitions.js';
import type { StepFacts } from '../workflows/runbook.js';
import type { DocumentMeta, DocumentStore } from '../connectors/documents/port.js';
import type { Mailer } from '../connectors/mail/port.js';
import { unescapeMarkdown } from '../domain/markdown.js';
import type { Person } from '../domain/schemas.js';
import { createLinkToken, sha256Hex } from '../links.js';
import type { Ledger } from './ledger.js';
import type { TemplateRenderer } from '../templates/render.js';

export interface ActivityDeps {
  documents: DocumentStore;
  mailer: Mailer;
  templates: TemplateRenderer;
  ledger: Ledger;
  publicUrl: string;
  linkSecret: Buffer;
  /** The workflow's event history in protobuf bytes, payloads as stored (encrypted under the codec). */
  historyBytes: (workflowId: string) => Promise<Uint8Array>;
}

/** The archive file holding a transition's history (protobuf `temporal.api.history.v1.History`), next to its documents. */
export const historyArchiveName = 'history.binpb';

export interface WriteDocumentInput {
  transitionId: string;
  kind: TransitionState['kind'];
  step: string;
  documentId: string;
  title: string;
  previousSha256: string | null;
  state: TransitionState;
  facts: StepFacts;
}

export interface EmailInput {
  /** (transition, step, asset, purpose): the same key never sends twice. */
  idempotencyKey: string;
  to: string[];
  /** `templates/email/<template>.md.hbs`: its first line is the subject, the rest the text part, rendered to HTML for the HTML part. */
  template: string;
  data: Record<string, unknown>;
}

export interface LinksInput {
  transitionId: string;
  purpose: LinkPurpose;
  /** The approval request id, or the credential id of an intake or reveal link. */
  requestId: string;
  /** Why these links go out (`request`, `reminder-N`, `reassigned-N`): each round mails every listed person a fresh link. */
  round: string;
  approvers: Person[];
  expiresAt: string;
  /** `templates/email/<template>.md.hbs`, given `data`, the approver, `reminder` and the `link`. */
  template: string;
  data: Record<string, unknown>;
}

/** Where each kind of link lands (DESIGN §9). */
const linkPaths: Record<LinkPurpose, string> = { approval: 'approvals', intake: 'intake', reveal: 'reveal' };

export interface IssuedLink {
  approver: string;
  tokenHash: string;
}

/** Activities built from injected dependencies; the worker entry is the one place that builds real ones. */
export function createActivities(deps: ActivityDeps) {
  async function email(input: EmailInput): Promise<void> {
    const data = { ...input.data, publicUrl: deps.publicUrl };
    const [subjectLine = '', ...body] = (
      await deps.templates.render(`email/${input.template}.md.hbs`, data)
    ).split('\n');
    // A header, not Markdown: the escaped text read back as plain text, on one line.
    const subject = unescapeMarkdown(subjectLine).replace(/\s+/g, ' ').trim();
    const text = body.join('\n').trim();
    await deps.mailer.send({
      to: input.to,
      subject,
      text,
      html: await deps.templates.emailHtml(subject, text),
      idempotencyKey: input.idempotencyKey,
    });
  }

  return {
    /** Renders a step's document (Markdown and HTML) and stores it once; a retry returns the stored one. */
    async writeDocument(input: WriteDocumentInput): Promise<DocumentMeta> {
      const step = input.state.steps.find((candidate) => candidate.key === input.step);
      const createdAt = step?.finishedAt ?? input.state.dates.startedAt;
      const context = {
        ...input,
        createdAt,
        publicUrl: deps.publicUrl,
        client: { id: input.state.clientId, name: input.state.clientName, timezone: input.state.timezone },
        stepState: step,
      };
      const md = await deps.templates.render(`${input.kind}/${input.step}.md.hbs`, context);
      const html = await deps.templates.page(`${input.title}: ${input.state.clientName}`, md);
      const meta: DocumentMeta = {
        id: input.documentId,
        transitionId: input.transitionId,
        step: input.step,
        title: input.title,
        sha256: createHash('sha256').update(md).digest('hex'),
        previousSha256: input.previousSha256,
        createdAt,
      };
      return deps.documents.writeOnce(meta, { md, html });
    },

    /** Sends one templated email (text and HTML parts, absolute links) at most once per idempotency key. */
    async sendEmail(input: EmailInput): Promise<void> {
      await deps.ledger.once(`mail:${input.idempotencyKey}`, () => email(input));
    },

    /** Copies the workflow's history into the document store, replacing the previous copy. */
    async archiveHistory(input: { transitionId: string }): Promise<void> {
      await deps.documents.writeArchive(
        input.transitionId,
        historyArchiveName,
        Buffer.from(await deps.historyBytes(input.transitionId)),
      );
    },

    /**
     * Mails each person their own link (approval, intake or reveal) and returns only the SHA-256 of
     * each token: the token itself exists only in the email. A retry returns what was already sent.
     */
    async sendLinks(input: LinksInput): Promise<IssuedLink[]> {
      const issued: IssuedLink[] = [];
      for (const approver of input.approvers) {
        const key = `${input.purpose}:${input.transitionId}:${input.requestId}:${input.round}:${approver.email}`;
        issued.push(
          await deps.ledger.once(key, async () => {
            const token = createLinkToken(deps.linkSecret, {
              transitionId: input.transitionId,
              requestId: input.requestId,
              purpose: input.purpose,
              expiresAt: input.expiresAt,
            });
            await email({
              idempotencyKey: key,
              to: [approver.email],
              template: input.template,
              data: {
                ...input.data,
                approver,
                reminder: input.round.startsWith('reminder'),
                link: `${deps.publicUrl}/${linkPaths[input.purpose]}/${token}`,
              },
            });
            return { approver: approver.email, tokenHash: sha256Hex(token) };
          }),
        );
      }
      return issued;
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
