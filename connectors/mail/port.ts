export interface OutgoingMail {
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** Stable per (transition, step, asset, recipient): the Message-ID, so duplicates are recognisable. */
  idempotencyKey: string;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
}
