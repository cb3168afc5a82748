// Plain emails of the runbook: timelines, reminders, rejections, escalations. Once per key.
import type { Effects } from './effects.js';
import type { RunbookState } from './state.js';

export interface NoticeRow {
  label: string;
  value: string;
}

export class Notices {
  constructor(
    private readonly runbook: RunbookState,
    private readonly effects: Effects,
  ) {}

  /** A notice to the operators (escalations, rejections), once per key. */
  async toOperators(
    key: string,
    subject: string,
    paragraphs: string[],
    event: 'notice' | 'escalation' = 'notice',
  ): Promise<void> {
    await this.send(key, this.runbook.operatorEmails(), subject, paragraphs, [], event);
  }

  /** An email notice: `subject` and `rows` are text; `paragraphs` are Markdown, user text in them escaped. */
  async send(
    key: string,
    to: string[],
    subject: string,
    paragraphs: string[],
    rows: NoticeRow[] = [],
    event: 'notice' | 'escalation' = 'notice',
  ) {
    const operators = new Set(this.runbook.operatorEmails());
    await this.effects.sendEmail({
      audit: { v: 1, event },
      idempotencyKey: `${this.runbook.id}:${key}`,
      to,
      template: 'notice',
      // Only operators hold an API key: a client's copy carries no link they cannot open.
      data: {
        subject,
        paragraphs,
        rows,
        transitionId: this.runbook.id,
        forOperators: to.every((email) => operators.has(email)),
      },
    });
  }
}
