// `npm run build:workflows [file]`: bundles the workflow code once, for production workers
// (WORKFLOW_BUNDLE=<file>), so no worker runs webpack at start. Default file: dist/workflow-bundle.js.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { projectRoot } from '../config/config.js';
import { workflowInterceptorModules, workflowsPath } from '../worker/runbook-worker.js';

export async function bundleWorkflows(file: string): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath, workflowInterceptorModules });
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, code);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = path.resolve(process.argv[2] ?? path.join(projectRoot, 'dist', 'workflow-bundle.js'));
  await bundleWorkflows(file);
  process.stdout.write(`workflow bundle written to ${file}\n`);
}
