// The embedded run (`npm run dev`): a Temporal dev server on SQLite under DATA_DIR, a local SMTP
// mailbox, the worker and the API, each skipped when config points at an existing one. Ctrl-C stops
// the API and the worker first (the worker drains), then Temporal; the next start resumes every
// transition that was in flight, because all of their state is in the SQLite file.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfigOrExit, projectRoot, type Config } from '../config.js';
import { startMailbox, type Mailbox } from '../embedded/mailbox.js';
import { startDevServer, type DevServer } from '../embedded/temporal.js';

const temporalPort = Number(process.env.TEMPORAL_PORT ?? 7233);
const mailboxPort = Number(process.env.MAILBOX_PORT ?? 2525);
const retentionDays = 30;

function say(message: string): void {
  process.stdout.write(`[dev] ${message}\n`);
}

/**
 * Dev API keys, made once. DATA_DIR/dev-api-keys keeps only their SHA-256 (`name:role:sha256:<hex>`),
 * so the keys themselves are printed at the first start only.
 */
async function devApiKeys(dataDir: string): Promise<{ entries: string; shown: string[] }> {
  const file = path.join(dataDir, 'dev-api-keys');
  if (existsSync(file)) return { entries: (await readFile(file, 'utf8')).trim(), shown: [] };
  const keys = ['dev-operator:operator', 'dev-auditor:auditor'].map((prefix) => ({
    prefix,
    secret: randomBytes(24).toString('base64url'),
  }));
  const entries = keys
    .map(({ prefix, secret }) => `${prefix}:sha256:${createHash('sha256').update(secret).digest('hex')}`)
    .join(',');
  await writeFile(file, `${entries}\n`, { mode: 0o600 });
  return {
    entries,
    shown: keys.map(({ prefix, secret }) => {
      const [name, role] = prefix.split(':');
      return `API key (${role}):`.padEnd(24) + `${secret}   name: ${name}`;
    }),
  };
}

function child(name: string, script: string, env: NodeJS.ProcessEnv): ChildProcess {
  const tsx = path.join(projectRoot, 'node_modules', '.bin', 'tsx');
  // Own process group: the terminal's Ctrl-C reaches only this supervisor, which stops children in order.
  const proc = spawn(tsx, [path.join(projectRoot, script)], {
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  proc.on('exit', (code, signal) => {
    if (!stopping) {
      say(`${name} exited (${signal ?? code}); stopping everything`);
      void shutdown(1);
    }
  });
  return proc;
}

function stopChild(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    proc.kill('SIGINT');
  });
}

let stopping = false;
let temporal: DevServer | undefined;
let mailbox: Mailbox | undefined;
let worker: ChildProcess | undefined;
let api: ChildProcess | undefined;

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  say('stopping');
  await stopChild(api);
  await stopChild(worker);
  await mailbox?.close();
  await temporal?.stop();
  say('stopped');
  process.exit(code);
}

async function main(config: Config): Promise<void> {
  await mkdir(config.dataDir, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: config.dataDir };
  let temporalUi = 'the Web UI of your Temporal cluster';
  if (!config.temporal.address) {
    say(`starting the Temporal dev server (state in ${path.join(config.dataDir, 'temporal.sqlite')})`);
    temporal = await startDevServer({
      dbFile: path.join(config.dataDir, 'temporal.sqlite'),
      port: temporalPort,
      uiPort: config.temporal.uiPort ?? temporalPort + 1000,
      namespace: config.temporal.namespace,
      retentionDays,
      logFile: path.join(config.dataDir, 'temporal.log'),
      detached: true,
      codecEndpoint: `${config.publicUrl}/codec`,
    });
    env.TEMPORAL_ADDRESS = temporal.address;
    // The UI on the API's host name: the same site, so the codec session cookie reaches /codec.
    temporalUi = temporal.uiUrl!.replace('127.0.0.1', new URL(config.publicUrl).hostname);
    env.WEB_UI_ORIGIN ??= temporalUi;
  }
  if (!config.smtpUrl) {
    const dir = path.join(config.dataDir, 'mailbox');
    mailbox = await startMailbox(dir, mailboxPort);
    env.SMTP_URL = mailbox.url;
    env.MAILBOX_DIR = dir;
  }
  const devKeys = config.apiKeys.length === 0 ? await devApiKeys(config.dataDir) : undefined;
  if (devKeys) env.API_KEYS = devKeys.entries;
  worker = child('worker', 'worker.ts', env);
  api = child('api', 'api/server.ts', env);

  const apiUrl = config.publicUrl;
  const lines = [
    '',
    `Console:      ${apiUrl}/console  (sign in with an operator or auditor API key)`,
    `API:          ${apiUrl}  (readiness: ${apiUrl}/readyz, spec: ${apiUrl}/openapi.json)`,
    `Temporal UI:  ${temporalUi}  (decoded payloads: sign in once at ${apiUrl}/codec/session)`,
    mailbox ? `Mailbox:      ${apiUrl}/mailbox  (SMTP on ${mailbox.url})` : `Mail:         ${config.smtpUrl}`,
  ];
  if (devKeys?.shown.length) {
    lines.push(...devKeys.shown, 'Copy the keys now: only their hashes are kept (DATA_DIR/dev-api-keys).');
  } else if (devKeys) {
    lines.push(
      'API keys:     the dev keys printed at the first start (delete DATA_DIR/dev-api-keys for new ones)',
    );
  }
  lines.push(
    `Data:         ${config.dataDir}`,
    'Ctrl-C stops everything; the next start resumes every transition in flight.',
    '',
  );
  process.stdout.write(lines.join('\n') + '\n');
}

const config = loadConfigOrExit();
process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));
main(config).catch((error: unknown) => {
  process.stderr.write(`[dev] failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  void shutdown(1);
});
