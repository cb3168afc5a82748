import { MailNotSentError, type Mailer } from '../../connectors/mail/port.js';

/** Mail to this domain is refused by `refusing`: a mail server that turns a run's mail away. */
export const refusedDomain = 'refused.example';

/**
 * The mailer, except that every message to an address at `refusedDomain` is refused as a mail server
 * refuses it (while `refuse()` says so), before anything is handed over.
 */
export function refusing(mailer: Mailer, refuse: () => boolean = () => true): Mailer {
  return {
    async send(mail) {
      if (refuse() && mail.to.some((address) => address.endsWith(`@${refusedDomain}`)))
        throw new MailNotSentError(`550 5.7.1 relaying to ${refusedDomain} refused`);
      await mailer.send(mail);
    },
  };
}
