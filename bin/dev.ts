// The embedded run (`npm run dev`): a Temporal dev server on SQLite under DATA_DIR, a local SMTP
// mailbox, the worker and the API, each skipped when config points at an existing one. Ctrl-C stops
// the API and the worker first (the worker drains), then Temporal; the next start resumes every
// transition that was in flight, because all of their state is in the SQLite file.
// Nothing outlives the run: each child stops by itself when the supervisor dies, even by SIGKILL
// (embedded/supervised.ts); the supervisor stops when npm does (embedded/launcher.ts); and the next
// start stops whatever DATA_DIR/dev.pids names that is still running (embedded/pid-file.ts).
// package.json runs it as `node --import tsx`, not through the tsx CLI: that CLI relays signals with a
// 30 ms timeout and SIGKILLs a child slow to acknowledge one, which would orphan every child.
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfigOrExit, type Config } from '../config/config.js';
import { Children } from '../embedded/children.js';
import { whenLauncherGone } from '../embedded/launcher.js';
import { startMailbox, type Mailbox } from '../embedded/mailbox.js';
import { recordRun, stopLeftovers, type RunFile } from '../embedded/pid-file.js';
import { ensurePortFree } from '../embedded/ports.js';
import { spawnSupervised } from '../embedded/supervised.js';
import { startDevServer } from '../embedded/temporal.js';

const temporalPort = Number(process.env.TEMPORAL_PORT ?? 7233);
const mailboxPort = Number(process.env.MAILBOX_PORT ?? 2525);
const retentionDays = 30;
/** The worker drains its in-flight tasks on SIGTERM; the others stop at once. */
const workerGraceMs = 15_000;
const graceMs = 10_000;
const repeatedSignalMs = 1000;

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

const children = new Children();
let run: RunFile | undefined;
let mailbox: Mailbox | undefined;
let stopping = false;

/** Stops with everything else, and is stopped by the next start if this run dies uncleanly. */
function track(name: string, proc: ChildProcess, graceMs: number): void {
  children.add(proc, graceMs);
  run?.add(name, proc.pid!);
}

/** A child that exits on its own takes the whole run down: half a system only misleads. */
function stopAllWhenExits(name: string, proc: ChildProcess): void {
  proc.once('exit', (code, signal) => void shutdown(1, `${name} exited (${signal ?? code})`));
}

async function shutdown(code: number, reason?: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  say(reason ? `${reason}; stopping everything` : 'stopping');
  await children.stopAll();
  await mailbox?.close();
  run?.remove();
  say('stopped');
  process.exit(code);
}

let firstSignalAt: number | undefined;

const leftoverPortSettleMs = 5_000;

/**
 * One Ctrl-C arrives two or three times within milliseconds (the terminal signals npm's whole
 * process group, and npm forwards it): only a signal well after the first one is someone asking
 * again, and it stops everything at once instead of waiting for the worker to drain.
 */
function onSignal(): void {
  if (firstSignalAt === undefined) {
    firstSignalAt = Date.now();
    if (stopping) say('still stopping; Ctrl-C again to kill everything now');
    void shutdown(0);
  } else if (Date.now() - firstSignalAt > repeatedSignalMs) {
    say('killing every process of the run');
    children.killAll();
    run?.remove();
    process.exit(130);
  }
}

/** What must hold before anything starts; whatever does not is one line. */
async function preflight(config: Config): Promise<void> {
  await mkdir(config.dataDir, { recursive: true });
  const leftovers = await stopLeftovers(config.dataDir);
  if (leftovers.length > 0) {
    const names = leftovers.map(({ name, pid }) => `${name} (pid ${pid})`).join(', ');
    say(`stopped what an earlier run left running: ${names}`);
  }
  const ports: [string, number][] = [['PORT', config.port]];
  if (!config.temporal.address) {
    ports.push(['TEMPORAL_PORT', temporalPort], ['TEMPORAL_UI_PORT', temporalUiPort(config)]);
  }
  if (!config.smtpUrl) ports.push(['MAILBOX_PORT', mailboxPort]);
  // A port a stopped leftover held can take a moment to be released (seen in CI): allow it that.
  const settleMs = leftovers.length > 0 ? leftoverPortSettleMs : 0;
  for (const [variable, port] of ports) {
    if (port !== 0) await ensurePortFree(config.host, port, variable, settleMs);
  }
}

const temporalUiPort = (config: Config) => config.temporal.uiPort ?? temporalPort + 1000;

async function main(config: Config): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: config.dataDir };
  let temporalUi = 'the Web UI of your Temporal cluster';
  if (!config.temporal.address) {
    say(`starting the Temporal dev server (state in ${path.join(config.dataDir, 'temporal.sqlite')})`);
    const temporal = await startDevServer({
      dbFile: path.join(config.dataDir, 'temporal.sqlite'),
      host: config.host,
      port: temporalPort,
      uiPort: temporalUiPort(config),
      namespace: config.temporal.namespace,
      retentionDays,
      logFile: path.join(config.dataDir, 'temporal.log'),
      supervised: true,
      onSpawn: (proc) => track('temporal', proc, graceMs),
      codecEndpoint: `${config.publicUrl}/codec`,
    });
    stopAllWhenExits('temporal', temporal.process);
    env.TEMPORAL_ADDRESS = temporal.address;
    // The UI on the API's host name: the same site, so the codec session cookie reaches /codec.
    const ui = new URL(temporal.uiUrl!);
    ui.hostname = new URL(config.publicUrl).hostname;
    temporalUi = ui.origin;
    env.WEB_UI_ORIGIN ??= temporalUi;
  }
  if (!config.smtpUrl) {
    const dir = path.join(config.dataDir, 'mailbox');
    mailbox = await startMailbox(dir, { port: mailboxPort, host: config.host });
    env.SMTP_URL = mailbox.url;
    env.MAILBOX_DIR = dir;
  }
  const devKeys = config.apiKeys.length === 0 ? await devApiKeys(config.dataDir) : undefined;
  if (devKeys) env.API_KEYS = devKeys.entries;
  for (const [name, script, grace] of [
    ['worker', 'bin/worker.ts', workerGraceMs],
    ['api', 'bin/api.ts', graceMs],
  ] as const) {
    const proc = spawnSupervised(script, [], { env });
    track(name, proc, grace);
    stopAllWhenExits(name, proc);
  }

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

async function start(config: Config): Promise<void> {
  try {
    await preflight(config);
  } catch (error) {
    process.stderr.write(`[dev] ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  run = recordRun(config.dataDir);
  whenLauncherGone((launcher) => void shutdown(1, `${launcher} is gone`));
  try {
    await main(config);
  } catch (error) {
    // A stop during the start makes the start fail too; that is no news.
    if (stopping) return;
    process.stderr.write(
      `[dev] failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    await shutdown(1);
  }
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
void start(loadConfigOrExit());
