import { createHash } from 'node:crypto';
import type { TransitionState } from '../domain/definitions.js';
import type { StepFacts } from '../workflows/runbook.js';
import type { DocumentMeta, DocumentStore } from '../connectors/documents/port.js';
import type { Mailer } from '../connectors/mail/port.js';
import type { Ledger } from './ledger.js';
import type { TemplateRenderer } from '../templates/render.js';

export interface ActivityDeps {
  documents: DocumentStore;
  mailer: Mailer;
  templates: TemplateRenderer;
  ledger: Ledger;
  publicUrl: string;
}

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
  /** `templates/email/<template>.{txt,html}.hbs`; the first line of the text part is the subject. */
  template: string;
  data: Record<string, unknown>;
}

/** Activities built from injected dependencies; the worker entry is the one place that builds real ones. */
export function createActivities(deps: ActivityDeps) {
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
      await deps.ledger.once(`mail:${input.idempotencyKey}`, async () => {
        const data = { ...input.data, publicUrl: deps.publicUrl };
        const [subject = '', ...body] = (
          await deps.templates.render(`email/${input.template}.txt.hbs`, data)
        ).split('\n');
        const html = await deps.templates.render(`email/${input.template}.html.hbs`, { ...data, subject });
        await deps.mailer.send({
          to: input.to,
          subject: subject.replace(/^Subject:\s*/i, '').trim(),
          text: body.join('\n').trimStart(),
          html,
          idempotencyKey: input.idempotencyKey,
        });
      });
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
