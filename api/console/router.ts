// The operator console at /console: server-rendered pages on the API's own operations and schemas.
// Every page needs a session; every POST needs a same-origin press, the session's CSRF value and the
// operator role (an auditor reads everything and changes nothing: 403).
import type { Client } from '@temporalio/client';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Router } from 'express';
import { z } from 'zod';
import type { DocumentStore } from '../../connectors/documents/port.js';
import type { TemplateRenderer } from '../../templates/render.js';
import type { Caller } from '../auth.js';
import { HttpError, knownHttpError, retryAfterSeconds } from '../errors.js';
import type { Operations } from '../operations.js';
import { countAsFailedAttempt, isCrossOrigin, type MspIdentity } from '../public-pages.js';
import { listPages } from './list-pages.js';
import { consoleContentSecurityPolicy, liveEvents } from './live.js';
import { createConsolePages, type ConsolePages } from './pages.js';
import { idleTimeoutMinutes, type ConsoleSession, type ConsoleSessions } from './session.js';
import { startPage } from './start-page.js';
import { transitionPages } from './transition-pages.js';

export interface ConsoleDeps {
  temporal: Client;
  documents: DocumentStore;
  pages: TemplateRenderer;
  msp: MspIdentity;
  publicUrl: string;
  minReminderInterval: string;
  operations: Operations;
  authenticate: (key: string) => Caller | null;
  sessions: ConsoleSessions;
}

/** What the page handlers get: the pages, and the session the guard found. */
export interface ConsoleContext extends ConsoleDeps {
  console: ConsolePages;
  sessionOf: (res: express.Response) => ConsoleSession;
}

/** The heading of a page that could not do what was asked. */
const problemHeadings: Record<number, string> = {
  403: 'Not allowed',
  404: 'Not found',
  503: 'Try again shortly',
};

/** Where a sign-in may send the person back to: a console page of ours, never another site. */
const nextPath = z
  .string()
  .regex(/^\/console(\/[A-Za-z0-9._~%/?=&#-]*)?$/)
  .refine((path) => !path.includes('//'))
  .catch('/console');

export function consoleRouter(deps: ConsoleDeps): Router {
  const router = express.Router();
  const publicOrigin = new URL(deps.publicUrl).origin;
  const pages = createConsolePages(deps);
  const context: ConsoleContext = {
    ...deps,
    console: pages,
    sessionOf: (res) => res.locals.consoleSession as ConsoleSession,
  };

  const signInPage = (res: express.Response, status: number, problem: string | undefined, next: string) =>
    pages.send(res, status, {
      title: 'Sign in',
      template: 'sign-in',
      session: null,
      context: { problem, next, idleMinutes: idleTimeoutMinutes },
    });

  const problemPage = (
    res: express.Response,
    session: ConsoleSession | null,
    status: number,
    problem: string,
  ) => {
    const heading = problemHeadings[status] ?? 'Not done';
    return pages.send(res, status, {
      title: heading,
      template: 'problem',
      session,
      context: { heading, problem },
    });
  };

  router.post('/console/sign-in', async (req, res) => {
    const next = nextPath.parse(req.body?.next ?? '/console');
    if (isCrossOrigin(req, publicOrigin)) {
      await signInPage(res, 403, 'Sign in from this page.', next);
      return;
    }
    const caller = deps.authenticate(typeof req.body?.key === 'string' ? req.body.key : '');
    if (!caller) {
      countAsFailedAttempt(res);
      await signInPage(res, 401, 'That is not a valid API key.', next);
      return;
    }
    deps.sessions.signIn(res, caller);
    res.redirect(303, next);
  });

  const guard: RequestHandler = async (req, res, next) => {
    const check = deps.sessions.check(req);
    if (!check.session) {
      const ended = check.ended
        ? `Your session has ended (after ${idleTimeoutMinutes} minutes without use, or its key was changed).`
        : undefined;
      if (req.method !== 'GET') {
        await signInPage(res, 401, `${ended ?? 'You are not signed in.'} Nothing was changed.`, '/console');
      } else {
        const home = req.path === '/';
        await signInPage(res, home ? 200 : 401, ended, nextPath.parse(req.originalUrl));
      }
      return;
    }
    const { session } = check;
    res.locals.consoleSession = session;
    res.locals.caller = session.caller;
    if (req.method === 'POST') {
      if (isCrossOrigin(req, publicOrigin))
        return problemPage(res, session, 403, 'This form can only be sent from the console’s own pages.');
      if (!deps.sessions.csrfMatches(session, req.body?.csrf))
        return problemPage(
          res,
          session,
          403,
          'This form was not sent from a page of your session. Open the page again and send it from there.',
        );
      if (req.path !== '/sign-out' && session.caller.role !== 'operator')
        return problemPage(
          res,
          session,
          403,
          `The ${session.caller.role} role reads everything and changes nothing.`,
        );
    }
    // The live stream is not use: only what a person asks for keeps the session open.
    if (req.path !== '/events') deps.sessions.renew(res, session);
    next();
  };
  router.use('/console', consoleContentSecurityPolicy, guard);

  router.post('/console/sign-out', (_req, res) => {
    deps.sessions.signOut(res);
    res.redirect(303, '/console');
  });

  listPages(router, context);
  transitionPages(router, context);
  startPage(router, context);
  liveEvents(router, context);
  router.use('/console', () => {
    throw new HttpError(404, 'not_found', 'There is no such page in the console.');
  });

  const pageErrors: ErrorRequestHandler = async (error: unknown, req: Request, res, next) => {
    const known = knownHttpError(error, req.method);
    if (!known) req.log.error({ err: error }, 'console page failed');
    if (res.headersSent) return next(error);
    if (known?.status === 503) res.set('Retry-After', String(retryAfterSeconds));
    const session = (res.locals.consoleSession as ConsoleSession | undefined) ?? null;
    await problemPage(
      res,
      session,
      known?.status ?? 500,
      known?.message ?? `Something went wrong (request id ${String(req.id)}).`,
    );
  };
  router.use('/console', pageErrors);
  return router;
}
