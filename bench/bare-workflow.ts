// The yardstick of the overhead bench: a bare workflow doing what an offboarding does to Temporal
// (the same number of activities and timers, in order) and nothing else.
import { proxyActivities, sleep } from '@temporalio/workflow';

const { step } = proxyActivities<{ step(index: number): Promise<void> }>({ startToCloseTimeout: '1 minute' });

export async function bareWorkflow(shape: { activities: number; timerMillis: number[] }) {
  // The offboarding's timers fall between its steps; spread them the same way, each as long.
  const timerEvery = Math.max(1, Math.floor(shape.activities / (shape.timerMillis.length + 1)));
  const timers = [...shape.timerMillis];
  for (let index = 0; index < shape.activities; index++) {
    if (index > 0 && index % timerEvery === 0 && timers.length) await sleep(timers.shift()!);
    await step(index);
  }
}
