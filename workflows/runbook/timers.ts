// Durable timers of the runbook: waits of weeks or months that re-arm when an operator moves the
// deadline (an extension), with reminders ahead of it; and the wait while a legal hold is on.
import { condition } from '@temporalio/workflow';
import type { RunbookState } from './state.js';

export interface TimerOptions {
  /** Called at each reminder instant that passes before the deadline; recomputed if the deadline moves. */
  reminders?: (deadline: string) => string[];
  onReminder?: (at: string, deadline: string) => Promise<void>;
}

export class Timers {
  constructor(private readonly runbook: RunbookState) {}

  /**
   * Waits until `deadline()`, re-armed whenever the deadline moves. Reminders fire at the instants
   * `options.reminders` gives for the current deadline, each at most once.
   */
  async waitUntil(name: string, deadline: () => string, options: TimerOptions = {}): Promise<void> {
    const sent = new Set<string>();
    this.runbook.activeTimer = { name, deadline };
    for (;;) {
      const target = deadline();
      const now = Date.now();
      const due = (options.reminders?.(target) ?? []).filter(
        (at) => !sent.has(at) && Date.parse(at) > now - 1,
      );
      const nextReminder = due.find((at) => Date.parse(at) > now);
      const overdueReminder = due.find((at) => Date.parse(at) <= now);
      if (overdueReminder && options.onReminder) {
        sent.add(overdueReminder);
        await options.onReminder(overdueReminder, target);
        continue;
      }
      const wakeAt = nextReminder && Date.parse(nextReminder) < Date.parse(target) ? nextReminder : target;
      const remaining = Date.parse(wakeAt) - now;
      if (remaining <= 0) break;
      const summary = wakeAt === target ? name : `reminder before ${name}`;
      const moved = await condition(() => deadline() !== target, remaining, { summary });
      if (!moved && wakeAt === target) break;
      if (!moved && nextReminder && options.onReminder) {
        sent.add(nextReminder);
        await options.onReminder(nextReminder, target);
      }
    }
    this.runbook.activeTimer = null;
  }

  /** Deletion never starts while a legal hold is on; the state shows what it waits for. */
  async whileLegalHold(): Promise<void> {
    if (!this.runbook.state.legalHold) return;
    await condition(() => !this.runbook.state.legalHold);
  }
}
