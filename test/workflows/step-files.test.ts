// Every step of both runbooks is found by its key alone: its workflow file, its template and its
// test (which runs it alone on the time-skipping server) carry the key in their names.
import { access } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../config/config.js';
import { stepsOf, transitionKinds } from '../../domain/schemas.js';
import { offboardingStepList } from '../../workflows/offboarding/steps/index.js';
import { onboardingStepList } from '../../workflows/onboarding/steps/index.js';

const stepLists = { offboarding: offboardingStepList, onboarding: onboardingStepList };

describe.each(transitionKinds)('the %s steps', (kind) => {
  it('run in the order of the request schema', () => {
    expect(stepLists[kind].map((step) => step.key)).toEqual([...stepsOf[kind]]);
  });

  it.each([...stepsOf[kind]])('%s has its workflow file, template and test', async (key) => {
    const file = path.join(projectRoot, 'workflows', kind, 'steps', `${key}.ts`);
    const exported = Object.values(await import(pathToFileURL(file).href)) as { key?: string }[];
    expect(exported.map((definition) => definition.key)).toContain(key);
    await access(path.join(projectRoot, 'templates', kind, `${key}.md.hbs`));
    await access(path.join(projectRoot, 'test', 'workflows', kind, `${key}.test.ts`));
  });
});
