export interface OutgoingMail {
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** Stable per (transition, run, step, asset, recipient): the Message-ID, so duplicates are recognisable. */
  idempotencyKey: string;
}

/**
 * The mail server certainly did not take the message: it refused it, or it was never handed over.
 * Sending it again cannot duplicate it. Any other error of `send` leaves that open.
 */
export class MailNotSentError extends Error {}

export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
}
