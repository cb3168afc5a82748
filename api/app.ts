import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import express from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from 'pino';
import { packageVersion, projectRoot, type Config } from '../config/config.js';
import { searchAttributes } from '../domain/definitions.js';
import { createTemplateRenderer } from '../templates/render.js';
import { createAuthenticator } from './auth.js';
import { errorHandler, HttpError } from './errors.js';
import { createMetrics } from './metrics.js';
import { type FailedAttemptCounter, linkAttemptLimiter, securityHeaders } from './security.js';
import { localClientsOnly } from './local-client.js';
import { createOperations } from './operations.js';
import { ApiRoutes } from './routes.js';
import { healthRoutes } from './routes/health.js';
import { mailboxRoutes } from './routes/mailbox.js';
import { transitionRoutes } from './routes/transitions.js';
import { approvalRoutes } from './routes/approvals.js';
import { stepRoutes } from './routes/steps.js';
import { credentialRoutes } from './routes/credentials.js';
import { connectionRoutes } from './routes/connections.js';
import { auditRoutes } from './routes/audit.js';
import { codecCors, codecRoutes, codecSessionRoutes } from './routes/codec.js';
import { createCodecSessions } from './codec-session.js';
import { consoleRouter } from './console/router.js';
import { createConsoleSessions } from './console/session.js';
import type { PayloadCodec } from '@temporalio/common';
import type { Vault } from '../connectors/vault/port.js';
import type { KeyList } from '../security/key-list.js';
import type { DocumentStore } from '../connectors/documents/port.js';
import type { ConnectionStore } from '../connectors/connections/port.js';

export interface AppDeps {
  temporal: Client;
  config: Config;
  logger: Logger;
  linkSecrets: KeyList;
  vault: Vault;
  documents: DocumentStore;
  /** Where connections to client systems live (settings and secret references). */
  connections: ConnectionStore;
  /** Where failed link attempts are counted (this process, or the state database every API shares). */
  failedLinkAttempts: FailedAttemptCounter;
  codec: PayloadCodec;
}

/** Builds the Express app from its dependencies; it never listens (api/server.ts does, started by bin/api.ts). */
export function createApp({
  temporal,
  config,
  logger,
  linkSecrets,
  vault,
  documents,
  connections,
  failedLinkAttempts,
  codec,
}: AppDeps) {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  const running = `${searchAttributes.transitionKind.name} IS NOT NULL AND ExecutionStatus = 'Running'`;
  const metrics = createMetrics(
    async (what) =>
      (
        await temporal.workflow.count(
          what === 'stalled' ? `${running} AND ${searchAttributes.stalled.name} IS NOT NULL` : running,
        )
      ).count,
  );
  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const id = randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      // Link paths carry tokens: log the route shape, never the token itself.
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url.replace(/^\/(approvals|intake|reveal)\/[^/?#]+/, '/$1/[token]'),
        }),
      },
      customProps: (_req, res) => {
        const caller = res.locals?.caller as { name: string } | undefined;
        return caller ? { caller: caller.name } : {};
      },
    }),
  );
  app.use(metrics.middleware);
  app.use(securityHeaders(config.publicUrl));
  app.use(
    ['/approvals', '/intake', '/reveal', '/codec/session', '/console/sign-in'],
    linkAttemptLimiter(failedLinkAttempts, logger),
  );
  app.post(
    ['/v1/transitions', '/v1/transitions/:id/tasks/complete'],
    express.json({ limit: config.bulkBodyLimit }),
  );
  app.post(
    '/console/transitions/:id/tasks/complete',
    express.urlencoded({ extended: false, limit: config.bulkBodyLimit }),
  );
  app.use(express.json({ limit: config.bodyLimit }));
  app.use(express.urlencoded({ extended: false, limit: config.bodyLimit }));

  app.use(codecCors(config.webUiOrigin));
  const router = express.Router();
  const authenticate = createAuthenticator(config.apiKeys);
  const sessions = createCodecSessions(linkSecrets, config.publicUrl);
  const routes = new ApiRoutes(router, authenticate, (req) => sessions.callerOf(req));
  const pages = createTemplateRenderer(path.join(projectRoot, 'templates'));
  healthRoutes(routes, { temporal, config, metrics, version: packageVersion });
  const operations = createOperations({ temporal, config, metrics, vault, documents, connections });
  transitionRoutes(routes, { config, operations });
  stepRoutes(routes, { temporal, documents, operations });
  auditRoutes(routes, { temporal, documents, pages });
  codecRoutes(routes, { codec });
  codecSessionRoutes(routes, {
    authenticate,
    sessions,
    pages,
    msp: config.msp,
    publicUrl: config.publicUrl,
    webUiOrigin: config.webUiOrigin,
  });
  const linkPages = { temporal, pages, linkSecrets, publicUrl: config.publicUrl, msp: config.msp };
  approvalRoutes(routes, { ...linkPages, documents });
  credentialRoutes(routes, { ...linkPages, vault, operations });
  connectionRoutes(routes, { connections, vault });
  if (config.mailboxDir) {
    // The mailbox shows every live approval, intake and reveal link: for a browser on this machine only.
    router.use('/mailbox', localClientsOnly);
    mailboxRoutes(routes, { dir: config.mailboxDir, pages });
  }
  app.use(router);
  app.use(
    consoleRouter({
      ...linkPages,
      documents,
      minReminderInterval: config.minReminderInterval,
      operations,
      authenticate,
      sessions: createConsoleSessions(linkSecrets, config.publicUrl, config.apiKeys),
    }),
  );
  app.use(() => {
    throw new HttpError(404, 'not_found', 'no such route');
  });
  app.use(errorHandler(logger));
  return app;
}
