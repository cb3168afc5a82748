import type { ChildProcess } from 'node:child_process';
import { signalGroup } from './processes.js';

interface Child {
  process: ChildProcess;
  /** How long a stop may take before the child's group is killed (a worker drains in-flight tasks). */
  graceMs: number;
}

const exitOf = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

/**
 * The supervisor's children, each the leader of its own process group (see supervised.ts), stopped
 * newest first: the API before the worker it reports on, the worker before the Temporal it drains to.
 */
export class Children {
  private readonly children: Child[] = [];

  add(process: ChildProcess, graceMs: number): void {
    this.children.push({ process, graceMs });
  }

  /** Each in turn: SIGTERM, then SIGKILL to its whole group if it is still running after its grace. */
  async stopAll(): Promise<void> {
    for (const { process: child, graceMs } of [...this.children].reverse()) {
      const exited = exitOf(child);
      child.kill('SIGTERM');
      const timer = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // Whatever the child started and left in its group goes with it.
      signalGroup(child.pid!, 'SIGKILL');
    }
  }

  /** SIGKILL to every child's group at once: nothing outlives a supervisor that exits right after. */
  killAll(): void {
    for (const { process: child } of this.children) signalGroup(child.pid!, 'SIGKILL');
  }
}
