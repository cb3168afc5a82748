// Live refresh. A page names the transitions it shows and their version (Temporal's history length
// of each run: every decision, timer, control and task adds events; a query does not); a small
// script listens on /console/events and, once a version moves or a transition starts or ends, offers
// to show the changes. The CSP lets exactly that script run (by its hash) and connect to us.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import helmet from 'helmet';
import type { RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import { projectRoot } from '../../config/config.js';
import { searchAttributes } from '../../domain/definitions.js';
import { transitionIdParams } from '../routes/transitions.js';
import { pageDirectives } from '../security.js';
import type { ConsoleContext } from './router.js';
import { idleTimeoutMinutes } from './session.js';

export const liveScript = readFileSync(path.join(projectRoot, 'templates', 'console', 'live.js'), 'utf8');
const liveScriptHash = `'sha256-${createHash('sha256').update(liveScript).digest('base64')}'`;

/** The pages' CSP, with the live script (and nothing else) allowed, and its stream. */
export const consoleContentSecurityPolicy: RequestHandler = helmet.contentSecurityPolicy({
  useDefaults: false,
  directives: { ...pageDirectives, scriptSrc: [liveScriptHash], connectSrc: ["'self'"] },
});

const checkEverySeconds = 5;
/** The most transitions a page watches: an inbox page's worth. */
const watchLimit = 50;
const runningTransitions = `${searchAttributes.transitionKind.name} IS NOT NULL AND ExecutionStatus = 'Running'`;

export interface Watch {
  /** The transitions the page shows. */
  ids: string[];
  /** A list page: a transition started or ended changes it too. */
  list: boolean;
}

const watchQuery = z.object({
  ids: z
    .string()
    .default('')
    .transform((ids) => ids.split(',').filter(Boolean))
    .pipe(z.array(transitionIdParams.shape.id).max(watchLimit)),
  list: z.enum(['0', '1']).default('0'),
  version: z.string().max(4096),
});

/** What the page's content depends on, as one string; it changes when any of it does. */
async function versionOf(temporal: Client, watch: Watch): Promise<string> {
  const runs = await Promise.all(
    watch.ids.map(async (id) => {
      const { runId, historyLength, status } = await temporal.workflow.getHandle(id).describe();
      return `${id}@${runId}:${historyLength}:${status.name}`;
    }),
  );
  const running = watch.list ? [`running:${(await temporal.workflow.count(runningTransitions)).count}`] : [];
  return createHash('sha256')
    .update([...runs, ...running].join('\n'))
    .digest('base64url');
}

/** The stream URL a page's script listens on, for what it shows as of now; none when Temporal cannot say. */
export async function liveSource(temporal: Client, watch: Watch): Promise<string | null> {
  const ids = watch.ids.slice(0, watchLimit);
  const version = await versionOf(temporal, { ...watch, ids }).catch(() => null);
  if (version === null) return null;
  return `/console/events?${new URLSearchParams({ ids: ids.join(','), list: watch.list ? '1' : '0', version })}`;
}

export function liveEvents(router: Router, context: ConsoleContext) {
  router.get('/console/events', (req, res: Response) => {
    const query = watchQuery.safeParse(req.query);
    // No content: EventSource does not reconnect to a stream that cannot be.
    if (!query.success) return void res.status(204).end();
    const watch = { ids: query.data.ids, list: query.data.list === '1' };
    const session = context.sessionOf(res);
    res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
    res.flushHeaders();
    let checking = false;
    const check = async () => {
      if (checking) return;
      checking = true;
      // Temporal away or late: nothing is known to have changed; the next check asks again.
      const version = await versionOf(context.temporal, watch).catch(() => query.data.version);
      checking = false;
      if (version !== query.data.version) {
        res.write('event: changed\ndata: {}\n\n');
        stop();
      }
    };
    const timer = setInterval(() => void check(), checkEverySeconds * 1000);
    // The stream is not use: it ends with the session's idle time, and the sign-in page it then
    // meets stops the browser from reconnecting.
    const ends = setTimeout(stop, session.seenAt + idleTimeoutMinutes * 60_000 - Date.now());
    function stop() {
      clearInterval(timer);
      clearTimeout(ends);
      res.end();
    }
    req.on('close', stop);
    return undefined;
  });
}
