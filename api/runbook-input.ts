// What a runbook workflow is started with. Shared by the API and the history recorder, so a
// recorded run of thousands of assets starts exactly as the API starts one.
import { createHash } from 'node:crypto';
import type { DocumentStore } from '../connectors/documents/port.js';
import {
  inlineScopeCharacters,
  scopeLists,
  type HistoryBudget,
  type ScopeRef,
} from '../domain/definitions.js';
import type { StartRequest } from '../domain/schemas.js';

/**
 * The workflow's input: a scope too large to travel in Temporal is stored first (by its SHA-256) and
 * the input names it; a small one goes inline, so the history alone shows it.
 */
export async function runbookInput(
  documents: DocumentStore,
  id: string,
  request: StartRequest,
  startedBy: string,
  historyBudget?: HistoryBudget,
) {
  const json = JSON.stringify(request.scope);
  const budget = historyBudget ? { historyBudget } : {};
  if (json.length <= inlineScopeCharacters) return { ...request, startedBy, ...budget };
  const bytes = Buffer.from(json);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  await documents.writeInput(id, sha256, bytes);
  const counts = Object.fromEntries(scopeLists.map((list) => [list, request.scope[list].length]));
  return {
    ...request,
    scope: { devices: [], credentials: [], dataSets: [], backupJobs: [] },
    scopeRef: { sha256, counts: counts as ScopeRef['counts'] },
    startedBy,
    ...budget,
  };
}
