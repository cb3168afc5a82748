// The audit trail reads every recorded history of every released version: an archive written by an
// older release stays readable after the trail's code or the workflows' code changes.
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow/data-converter-helpers.js';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LoadedDataConverter } from '@temporalio/common';
import { decodeHistory, encodeHistory } from '../../audit/history-codec.js';
import { buildTrail } from '../../audit/trail.js';
import { fixtureDataConverter, recordedHistories } from './fixtures.js';

const histories = await recordedHistories();
const named = (suffix: string) => histories.filter((recorded) => recorded.name.endsWith(`/${suffix}`));
let converter: LoadedDataConverter;

beforeAll(async () => {
  converter = loadDataConverter(await fixtureDataConverter());
});

async function actionsOf(recorded: (typeof histories)[number]) {
  const { header, entries } = await buildTrail(recorded.workflowId, [recorded.history], converter);
  return { header, actions: entries.map((entry) => [entry.action, entry.actor, entry.step]) };
}

describe('the audit trail of every recorded history', () => {
  it.each(histories.map((recorded) => [recorded.name, recorded] as const))(
    '%s names its client, who started it, and what it waits on',
    async (_name, recorded) => {
      const { header, actions } = await actionsOf(recorded);
      expect(header.clientName).toMatch(/^Replay /);
      expect(actions[0]).toEqual(['started', 'recorder', '']);
      // Each recorded run waits somewhere: in a step, or on the timer before its first.
      expect(actions.some(([action]) => action === 'step started' || action === 'timer started')).toBe(true);
    },
  );

  it.each(named('offboarding-completed').map((recorded) => [recorded.name, recorded] as const))(
    '%s holds every decision, task, control and document of a whole offboarding',
    async (_name, recorded) => {
      const { header, actions } = await actionsOf(recorded);
      expect(header.outcome).toBe('completed');
      expect(actions).toEqual(
        expect.arrayContaining([
          ['approval requested', 'system', 'data-export'],
          ['approval decided', 'dana@client.example', 'data-export'],
          ['task completed', 'recorder', 'agent-removal'],
          ['credential vaulted', 'recorder', 'credential-rotation'],
          ['document written', 'system', 'retention-deletion'],
          ['finished', 'system', ''],
        ]),
      );
      expect(actions.filter(([action]) => action === 'document written')).toHaveLength(8);
    },
  );

  it.each(
    named('offboarding-agent-removal-re-requested').map((recorded) => [recorded.name, recorded] as const),
  )('%s shows the rejection and the operator asking again', async (_name, recorded) => {
    const { actions } = await actionsOf(recorded);
    expect(actions).toEqual(
      expect.arrayContaining([
        ['approval decided', 'dana@client.example', 'agent-removal'],
        ['step rejected', 'system', 'agent-removal'],
        ['approval requested again', 'recorder', 'agent-removal'],
      ]),
    );
  });

  it('an archive with audit markers reads the same after every activity is renamed', async () => {
    const marked = histories.filter((recorded) => recorded.name.endsWith('/offboarding-completed')).at(-1)!;
    const renamed = decodeHistory(encodeHistory(marked.history));
    for (const event of renamed.events ?? []) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled?.activityType) scheduled.activityType.name = `renamed${scheduled.activityType.name}`;
    }
    const before = await actionsOf(marked);
    const after = await actionsOf({ ...marked, history: renamed });
    expect(after.actions).toEqual(before.actions);
    expect(before.actions.filter(([action]) => action === 'document written')).toHaveLength(8);
  });

  // A run that continued as new is recorded run by run: `<name>.run-0`, `.run-1`, …, then `<name>`.
  const chains = histories
    .filter((recorded) =>
      /\/offboarding-continued-completed$|\/onboarding-continued-completed$/.test(recorded.name),
    )
    .map((last) => {
      const earlier = histories
        .filter((recorded) => recorded.name.startsWith(`${last.name}.run-`))
        .sort((a, b) => Number(a.name.split('.run-')[1]) - Number(b.name.split('.run-')[1]));
      return [last.name, [...earlier, last]] as const;
    });

  it('runs that continued as new are recorded', () => {
    expect(chains.length).toBeGreaterThan(0);
    for (const [, runs] of chains) expect(runs.length).toBeGreaterThan(1);
  });

  it.each(chains)('%s reads as one run across its workflow runs', async (_name, runs) => {
    const { header, entries } = await buildTrail(
      runs[0]!.workflowId,
      runs.map((run) => run.history),
      converter,
    );
    const actions = entries.map((entry) => entry.action);
    expect(header.outcome).toBe('completed');
    expect(actions.filter((action) => action === 'started')).toHaveLength(1);
    expect(actions.filter((action) => action === 'continued as new')).toHaveLength(runs.length - 1);
    expect(actions.at(-1)).toBe('finished');
    // Storing and reading the checkpoint is housekeeping, like the archive: not in the trail.
    expect(actions.filter((action) => /checkpoint/i.test(action))).toEqual([]);
    const documents = entries.filter((entry) => entry.action === 'document written');
    expect(documents.map((entry) => entry.documentId)).toEqual(
      [...new Set(documents.map((entry) => entry.documentId))].sort(),
    );
    expect(documents.length).toBe(runs[0]!.name.includes('/offboarding') ? 8 : 5);
  });
});
