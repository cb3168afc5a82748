// `tether.ts --supervised <program> [args...]`: runs a program that cannot watch its parent itself
// (the Temporal CLI, in Go) as a supervised child. SIGTERM or SIGINT, or the supervisor's death,
// stop the program with SIGTERM; the tether exits with the program's status, and never leaves it
// running behind: whatever makes the tether exit first kills the program.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { stopWithSupervisor, supervisedArgs } from './supervised.js';

const [program, ...args] = supervisedArgs();
if (!program) {
  process.stderr.write('tether: no program to run\n');
  process.exit(2);
}

const child = spawn(program, args, { stdio: ['ignore', 'inherit', 'inherit'] });
let childExited = false;

child.once('error', (error) => {
  process.stderr.write(`tether: cannot run ${program}: ${error.message}\n`);
  process.exit(1);
});
child.once('exit', (code, signal) => {
  childExited = true;
  process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0));
});
process.once('exit', () => {
  if (!childExited) child.kill('SIGKILL');
});

const stopChild = () => child.kill('SIGTERM');
process.on('SIGTERM', stopChild);
process.on('SIGINT', stopChild);
stopWithSupervisor();
