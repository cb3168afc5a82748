import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import { MailNotSentError, type Mailer } from './port.js';

/** What nodemailer attaches to its errors (see its `errors.d.ts`). */
interface SmtpError {
  code?: string;
  originalCode?: string;
  responseCode?: number;
  timeoutType?: string;
}

/** Failures that happen before the message is handed over: connecting, TLS, authentication, the envelope. */
const beforeHandover = new Set(['EDNS', 'ETLS', 'EAUTH', 'ENOAUTH', 'EENVELOPE', 'ECONFIG']);
const noConnection = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * True when the server certainly did not take the message: it answered with a refusal (4xx, 5xx), or
 * the session failed before the message was sent. A connection lost later, above all after the
 * message's final dot and before the server's reply, may have delivered it.
 */
function certainlyNotTaken(error: SmtpError): boolean {
  if (typeof error.responseCode === 'number' && error.responseCode >= 400) return true;
  if (error.code && beforeHandover.has(error.code)) return true;
  if (error.originalCode && noConnection.has(error.originalCode)) return true;
  return (
    error.code === 'ETIMEDOUT' &&
    (error.timeoutType === 'CONNECT_TIMEOUT' || error.timeoutType === 'GREETING_TIMEOUT')
  );
}

/**
 * How many SMTP connections a worker keeps open at most: a new connection per message costs ~115 ms
 * (TCP, greeting, EHLO), a pooled one ~1 ms, and 50 approvers' links go out at once.
 */
export const smtpConnections = 5;

/**
 * Pooled connections are closed after this long unused: a burst of links reuses them, a connection
 * is never reused just as the server drops it (servers wait minutes), and an idle worker holds none
 * open, so a mail server (or a test's mailbox) closes without waiting on us.
 */
const idleMillis = 1_000;

/** Mail through any SMTP server (nodemailer, pooled), from `SMTP_URL`. */
export function createSmtpMailer(smtpUrl: string, from: string): Mailer {
  const transport = nodemailer.createTransport({
    url: smtpUrl,
    pool: true,
    maxConnections: smtpConnections,
    idleTimeout: idleMillis,
    // The pool would send a message again when its connection closed mid-send, perhaps after the
    // server took it: whether to send again is the ledger's call (at most once), never the pool's.
    maxRequeues: 0,
  });
  const domain = from.match(/@([^>\s]+)/)?.[1] ?? 'msp-runbooks.local';
  return {
    async send(mail) {
      const id = createHash('sha256').update(mail.idempotencyKey).digest('hex').slice(0, 32);
      try {
        await transport.sendMail({
          from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: `<${id}@${domain}>`,
        });
      } catch (error) {
        if (certainlyNotTaken(error as SmtpError))
          throw new MailNotSentError(
            `the mail server did not take the message: ${(error as Error).message}`,
            {
              cause: error,
            },
          );
        throw error;
      }
    },
  };
}
