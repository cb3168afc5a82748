// The Temporal server the multi-host test runs as a real cluster: `temporal-server` and
// `temporal-sql-tool` built from the Go module go.temporal.io/server at the version pinned in
// temporal-versions.json, cached in .temporal/cluster/<version>/bin so the build (minutes) happens
// once per version. The sql tool carries the module's schemas (schema/postgresql/v12/...) inside it.
// Dependency-free like scripts/prepare.mjs, which runs the build before the tests.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const version = JSON.parse(readFileSync(join(root, 'temporal-versions.json'), 'utf8'))['temporal-server'];
const bin = join(root, '.temporal', 'cluster', version, 'bin');
const modulePath = 'go.temporal.io/server';

export const temporalCluster = {
  version,
  server: join(bin, 'temporal-server'),
  sqlTool: join(bin, 'temporal-sql-tool'),
  /** The sql tool is renamed last: with it in place, the build of this version has completed. */
  built: () => existsSync(join(bin, 'temporal-sql-tool')),
};

/** GO, else `go` on the PATH, else where the Go distribution installs itself. */
function goCommand() {
  if (process.env.GO) return process.env.GO;
  const onPath = (process.env.PATH ?? '')
    .split(delimiter)
    .map((dir) => join(dir, 'go'))
    .find((candidate) => existsSync(candidate));
  return onPath ?? '/usr/local/go/bin/go';
}

/**
 * Builds both commands in one `go install` (they share most of their packages) through the Go
 * module proxy, in a child process, so the caller may install other things meanwhile. Resolves at
 * once when this version is built already.
 */
export function buildTemporalCluster(log) {
  if (temporalCluster.built()) return Promise.resolve();
  const commands = ['cmd/server', 'cmd/tools/sql'].map((command) => `${modulePath}/${command}@v${version}`);
  log(
    `building temporal-server and temporal-sql-tool ${version} from ${modulePath} with ${goCommand()}: ` +
      `a Go build of the whole server, 6 to 8 minutes on 2 cores, once (cached in .temporal/cluster/${version})`,
  );
  rmSync(bin, { recursive: true, force: true });
  const build = spawn(goCommand(), ['install', '-trimpath', ...commands], {
    cwd: root,
    // GOTOOLCHAIN=local: build with this machine's Go, or fail naming the Go the module needs,
    // rather than fetch another toolchain.
    env: { ...process.env, GOBIN: bin, GOTOOLCHAIN: 'local' },
    stdio: 'inherit',
  });
  return new Promise((resolve, reject) => {
    build.once('error', (error) => reject(new Error(`${goCommand()}: ${error.message}`)));
    build.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`go install ${commands.join(' ')} failed`));
      renameSync(join(bin, 'server'), temporalCluster.server);
      renameSync(join(bin, 'sql'), temporalCluster.sqlTool);
      resolve();
    });
  });
}
