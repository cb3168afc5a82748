// The vault rekey as an operator runs it, for the rotation tests: `npm run vault:rekey`, and the same
// rekey stopped by SIGKILL after some versions (test/support/rekey-crash.ts).
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../config/config.js';

const execFileAsync = promisify(execFile);

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run <script>` with `env` added to this process's environment; resolves with its exit code. */
export async function npmRun(script: string, env: Record<string, string>): Promise<CommandResult> {
  return execFileAsync('npm', ['run', '--silent', script], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    timeout: 60_000,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

/** Runs the rekey in a child process that kills itself after re-sealing `stopAfter` versions. */
export function rekeyKilledAfter(
  stopAfter: number,
  env: Record<string, string>,
): Promise<{ signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(projectRoot, 'test/support/rekey-crash.ts'), String(stopAfter)],
      { cwd: projectRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (_code, signal) => resolve({ signal, stderr }));
  });
}
