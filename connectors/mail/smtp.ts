import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { Mailer } from './port.js';

/** Mail through any SMTP server (nodemailer), from `SMTP_URL`. */
export function createSmtpMailer(smtpUrl: string, from: string): Mailer {
  const transport = nodemailer.createTransport(smtpUrl);
  const domain = from.match(/@([^>\s]+)/)?.[1] ?? 'msp-runbooks.local';
  return {
    async send(mail) {
      const id = createHash('sha256').update(mail.idempotencyKey).digest('hex').slice(0, 32);
      await transport.sendMail({
        from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: `<${id}@${domain}>`,
      });
    },
  };
}
