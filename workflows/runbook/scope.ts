// A scope of thousands of assets does not travel in the workflow's input: the API stores it and the
// input names it (`scopeRef`). The run reads it back a page at a time before its first step, so
// every step sees the whole scope in memory and no single payload is large.
import { ApplicationFailure } from '@temporalio/workflow';
import { scopeLists, type RunbookInput, type ScopeRef } from '../../domain/definitions.js';
import type { Scope, StartRequest } from '../../domain/schemas.js';
import type { Effects } from './effects.js';

export async function loadScope(
  request: RunbookInput<StartRequest>,
  ref: ScopeRef,
  effects: Effects,
): Promise<void> {
  const scope: Record<string, unknown[]> = {};
  for (const list of scopeLists) {
    const items: unknown[] = [];
    while (items.length < ref.counts[list]) {
      const page = await effects.readScopePage({ sha256: ref.sha256, list, offset: items.length });
      if (page.length === 0)
        throw ApplicationFailure.nonRetryable(
          `the stored scope has ${items.length} ${list}, not ${ref.counts[list]}`,
          'InvalidScope',
        );
      items.push(...page);
    }
    scope[list] = items;
  }
  request.scope = scope as unknown as Scope;
}
