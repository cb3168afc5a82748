// The contract between the embedded run's supervisor (bin/dev.ts) and the processes it starts.
// Each child gets a stdin pipe the supervisor never writes to. When the supervisor exits, for any
// reason, SIGKILL included, the kernel closes its end and the child reads end-of-file: that is how a
// child learns it is orphaned, at once and without polling (Linux's PR_SET_PDEATHSIG is not
// reachable from Node, and a polled parent pid notices late).
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../config/config.js';

/** Tells a child that its stdin is the supervisor's pipe (elsewhere stdin may be a terminal or /dev/null). */
const supervisedFlag = '--supervised';

/** How long an orphaned child may take to stop on its own before it exits regardless. */
const orphanGraceMs = 5_000;

/**
 * Starts one of the project's TypeScript entry points as a supervised child: plain node with tsx's
 * loader, because the tsx CLI in between relays signals with a 30 ms timeout and SIGKILLs a child
 * that is slow to acknowledge one; in its own process group, so a terminal's Ctrl-C reaches only the
 * supervisor, which stops its children in order, and a stop can signal the child's whole group.
 */
export function spawnSupervised(
  script: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; output?: 'inherit' | number } = {},
): ChildProcess {
  const output = options.output ?? 'inherit';
  const stdio: StdioOptions = ['pipe', output, output];
  return spawn(
    process.execPath,
    ['--import', 'tsx', path.join(projectRoot, script), supervisedFlag, ...args],
    { cwd: projectRoot, env: options.env ?? process.env, stdio, detached: true },
  );
}

/**
 * In a supervised child: once the supervisor is gone, stop as on SIGTERM (the process's own handler
 * drains and exits), and exit after a few seconds if that does not finish, since what it drains
 * towards (Temporal) is being stopped too. Does nothing in a process not started by spawnSupervised.
 */
export function stopWithSupervisor(): void {
  if (!process.argv.includes(supervisedFlag)) return;
  process.stdin.once('end', () => {
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.exit(1), orphanGraceMs).unref();
  });
  process.stdin.resume();
  // Watching the pipe must not keep a process alive that has finished everything else.
  process.stdin.unref();
}

/** The arguments after the flag: what the supervisor passed to the child. */
export function supervisedArgs(): string[] {
  return process.argv.slice(process.argv.indexOf(supervisedFlag) + 1);
}
