// Runs a command-line tool a connector drives (restic, pg_dump): arguments as an array (no shell),
// secrets only in the environment given (never in the arguments, so never in `ps`, the evidence or
// a log), and the run recorded as evidence records commands: the command line, exit code and a
// digest of the output. Output can go to a file instead of memory, for dumps of any size.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import type { CommandRun } from '../domain/automation.js';
import { notConfigured, unreachable } from './failures.js';

export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
  run: CommandRun;
}

export function runTool(
  binary: string,
  args: string[],
  options: { env?: Record<string, string>; signal?: AbortSignal; stdoutFile?: string } = {},
): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      // Only what the tool needs: the worker's own environment holds secrets of its own.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const digest = createHash('sha256');
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const file = options.stdoutFile ? createWriteStream(options.stdoutFile, { mode: 0o600 }) : undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      digest.update(chunk);
      if (!file) stdout.push(chunk);
    });
    if (file) child.stdout.pipe(file);
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) =>
      reject(
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? notConfigured(`${binary} is not installed on the worker`)
          : unreachable(`${binary} ${args[0] ?? ''}: ${error.message}`),
      ),
    );
    child.on('close', (code) => {
      const err = Buffer.concat(stderr);
      digest.update(err);
      const finish = () =>
        resolve({
          code,
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: err.toString('utf8'),
          run: {
            command: `${binary} ${args.join(' ')}`,
            exitCode: code,
            outputSha256: digest.digest('hex'),
            at: new Date().toISOString(),
          },
        });
      if (file) file.end(finish);
      else finish();
    });
  });
}
