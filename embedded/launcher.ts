import {
  commandLine,
  isRunning,
  parentOf,
  processGroupOf,
  processRef,
  type ProcessRef,
} from './processes.js';

/**
 * The processes that stand for this run: its ancestors up to the leader of its process group. Under
 * `npm run dev` in a terminal the shell made npm that leader, so these are npm and the `sh -c` it
 * runs the script in. A process that leads its own group (started with setsid, or straight from a
 * shell) has none: a run started that way is meant to outlive whoever started it.
 */
function launchers(): ProcessRef[] {
  const group = processGroupOf(process.pid);
  const chain: ProcessRef[] = [];
  for (let pid: number | undefined = process.ppid; pid !== undefined && pid > 1; pid = parentOf(pid)) {
    const ref = processRef(pid);
    if (!ref) break;
    chain.push(ref);
    if (pid === group) return chain;
  }
  return [];
}

/**
 * Calls `onGone` once a launcher has exited. `kill -9` of npm leaves its script running with nobody
 * to press Ctrl-C to; this is how the supervisor notices and stops, children and all.
 */
export function whenLauncherGone(onGone: (description: string) => void, intervalMs = 1000): void {
  const chain = launchers();
  if (chain.length === 0) return;
  const descriptions = chain.map((ref) => `${commandLine(ref.pid) ?? 'process'} (pid ${ref.pid})`);
  const timer = setInterval(() => {
    const gone = chain.findIndex((ref) => !isRunning(ref));
    if (gone === -1) return;
    clearInterval(timer);
    onGone(descriptions[gone]!);
  }, intervalMs);
  timer.unref();
}
