import type { AddressObject } from 'mailparser';
import { z } from 'zod';
import { readMailbox, readMessage } from '../../embedded/mailbox.js';
import type { TemplateRenderer } from '../../templates/render.js';
import { dateInWords } from '../../domain/timeline.js';
import { notFound } from '../errors.js';
import type { ApiRoutes } from '../routes.js';

const addresses = (value: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(value) ? value : value ? [value] : []).map((address) => address.text).join(', ');

/**
 * The embedded run's local mailbox, readable in the browser (only when MAILBOX_DIR is set, and only
 * from this machine: createApp puts localClientsOnly in front).
 */
export function mailboxRoutes(routes: ApiRoutes, deps: { dir: string; pages: TemplateRenderer }) {
  const tag = 'embedded mailbox';
  const page = async (title: string, template: string, context: object) =>
    deps.pages.htmlPage(title, await deps.pages.render(`pages/${template}.html.hbs`, context));

  routes.add(
    {
      method: 'get',
      path: '/mailbox',
      summary: 'Local mailbox (embedded run only)',
      roles: 'public',
      responses: { 200: 'HTML page' },
      tag,
    },
    async ({ res }) => {
      const messages = (await readMailbox(deps.dir)).map(({ id, mail }) => ({
        id,
        subject: mail.subject ?? '(no subject)',
        to: addresses(mail.to),
        receivedAt: mail.date ? dateInWords(mail.date.toISOString(), 'UTC') : 'unknown',
      }));
      res.type('html').send(await page('Local mailbox', 'mailbox', { messages }));
      return undefined;
    },
  );
  routes.add(
    {
      method: 'get',
      path: '/mailbox/:messageId',
      summary: 'One message of the local mailbox',
      roles: 'public',
      params: z.object({ messageId: z.string().regex(/^\d+-[0-9a-f]{8}$/) }),
      responses: { 200: 'HTML page', 404: 'No such message' },
      tag,
    },
    async ({ params, res }) => {
      const mail = await readMessage(deps.dir, params.messageId);
      if (!mail) throw notFound('no such message');
      const context = {
        subject: mail.subject ?? '(no subject)',
        from: addresses(mail.from),
        to: addresses(mail.to),
        receivedAt: mail.date ? dateInWords(mail.date.toISOString(), 'UTC') : 'unknown',
        html: typeof mail.html === 'string' ? mail.html : '',
        text: mail.text ?? '',
      };
      res.type('html').send(await page(context.subject, 'message', context));
      return undefined;
    },
  );
}
