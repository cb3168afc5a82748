import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../config.js';
import type { TransitionState } from '../../domain/definitions.js';
import { offboardingBody } from '../factories.js';
import { freePort } from '../support/ports.js';

const tsx = path.join(projectRoot, 'node_modules', '.bin', 'tsx');
const devScript = path.join(projectRoot, 'scripts', 'dev.ts');
const operatorKey = 'embedded-run-test-operator-key';
const cleanup: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

function run(env: NodeJS.ProcessEnv): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  let output = '';
  const child = spawn(tsx, [devScript], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitReady(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url}/readyz did not answer 200 within ${timeoutMs} ms`);
}

async function state(url: string, id: string): Promise<TransitionState> {
  const response = await fetch(`${url}/v1/transitions/${id}`, {
    headers: { authorization: `Bearer ${operatorKey}` },
  });
  return (await response.json()) as TransitionState;
}

describe('npm run dev (scripts/dev.ts)', () => {
  it('stops at once with one line naming a bad variable', async () => {
    const { output, exited } = run({ PORT: 'abc' });
    expect(await exited).toBe(1);
    const lines = output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Invalid configuration: PORT: /);
  });

  it('resumes a transition that was in flight when it was stopped', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'msp-dev-'));
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const env = {
      DATA_DIR: dataDir,
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      TEMPORAL_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
      MAILBOX_PORT: String(await freePort()),
      API_KEYS: `ops:operator:${operatorKey}`,
    };
    const url = env.PUBLIC_URL;

    const first = run(env);
    cleanup.push(async () => {
      first.child.kill('SIGINT');
      await first.exited;
    });
    await waitReady(url);
    expect(first.output()).toContain(`Mailbox:      ${url}/mailbox`);
    const body = offboardingBody({
      terms: {
        noticeReceivedAt: new Date().toISOString(),
        noticePeriod: 'PT25S',
        transitionPeriod: 'PT25S',
        retentionPeriod: 'PT1S',
      },
    });
    const id = `offboarding-${body.client.id}`;
    const started = await fetch(`${url}/v1/transitions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operatorKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(started.status).toBe(201);
    let inFlight = await state(url, id);
    while (inFlight.currentStep !== 'cutover') inFlight = await state(url, id);
    expect(inFlight.status).toBe('running');

    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();

    const second = run(env);
    cleanup.push(async () => {
      second.child.kill('SIGINT');
      await second.exited;
    });
    await waitReady(url);
    const resumed = await state(url, id);
    expect(resumed.status).toBe('running');
    const deadline = Date.now() + 60_000;
    let final = resumed;
    while (final.status === 'running' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      final = await state(url, id);
    }
    expect(final.status).toBe('completed');
    expect(final.steps.every((step) => step.status === 'completed')).toBe(true);
  }, 180_000);
});
