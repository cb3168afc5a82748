// Step 2: export every data set in scope to the agreed destination, then the client confirms receipt.
// A data set whose connector can dump it (postgres, restic) and whose destination is an S3
// connection is exported by the connectors, and each object it wrote joins the manifest.
import { destinationText } from '../../../domain/schemas.js';
import { automationOf } from '../../runbook/automation.js';
import type { StepDefinition } from '../../runbook/step.js';
import type { OffboardingContext } from '../context.js';

const dumpable = new Set(['postgres', 'restic']);

export const dataExport: StepDefinition<'data-export', OffboardingContext> = {
  key: 'data-export',
  title: 'Data export manifest',
  approval: {
    when: 'after every data set is exported',
    summary: () =>
      'Confirm that you received every exported data set listed in the data export manifest, complete and readable.',
  },
  tasks: ({ request }) =>
    request.scope.dataSets.map((set) => ({
      id: set.id,
      title: `Export ${set.description} to ${destinationText(set.destination) ?? 'the agreed destination'} in ${set.format ?? 'a standard format'}; record the size and SHA-256`,
      automation:
        typeof set.destination === 'object' && dumpable.has(set.connector)
          ? automationOf(set, 'export-data', {
              destination: set.destination,
              ...(set.source ? { source: set.source } : {}),
            })
          : undefined,
    })),
  async run({ request }, { approve, completeTasks }) {
    const tasks = await completeTasks();
    await approve();
    // The manifest is the connectors' own record: every object, its size, SHA-256 and place, read back.
    const manifest = tasks.flatMap((task) =>
      (task.automation?.status === 'passed' ? (task.automation.evidence?.objects ?? []) : []).map(
        (object) => ({ dataSet: task.assetId, ...object }),
      ),
    );
    return { dataSets: request.scope.dataSets, manifest };
  },
};
