// How every console page is sent: its template inside the console layout (a nav, the key's name and
// a "Sign out" form carrying the session's CSRF value), never cached.
import type { Response } from 'express';
import type { TemplateRenderer } from '../../templates/render.js';
import type { MspIdentity } from '../public-pages.js';
import { liveScript } from './live.js';
import type { ConsoleSession, ConsoleSessions } from './session.js';

export type ConsoleNav = 'inbox' | 'transitions' | 'start' | null;

export interface ConsolePage {
  title: string;
  template: string;
  context: Record<string, unknown>;
  session: ConsoleSession | null;
  nav?: ConsoleNav;
  /** The stream the page's live script listens on (see live.ts); none, no script. */
  live?: string | null;
}

export function createConsolePages(deps: {
  pages: TemplateRenderer;
  msp: MspIdentity;
  sessions: ConsoleSessions;
}) {
  return {
    async send(res: Response, status: number, page: ConsolePage): Promise<void> {
      const csrf = page.session ? deps.sessions.csrf(page.session) : undefined;
      const context = {
        ...page.context,
        msp: deps.msp,
        session: page.session,
        operator: page.session?.caller.role === 'operator',
        csrf,
      };
      const body = await deps.pages.render(`console/${page.template}.html.hbs`, context);
      const html = await deps.pages.render('console/layout.html.hbs', {
        ...context,
        title: page.title,
        nav: page.nav ?? null,
        live: page.live ?? null,
        liveScript: page.live ? liveScript : null,
        body,
      });
      res.status(status).set('Cache-Control', 'no-store').type('html').send(html);
    },
  };
}

export type ConsolePages = ReturnType<typeof createConsolePages>;
