// A run that continued as new refuses queries for the moment it takes its memory back (see
// workflows/runbook/chain.ts). The refusal's text is encrypted by the payload codec, so only its kind
// shows here: a query the run refused is asked again for up to two seconds, then answers 503.
import { QueryNotRegisteredError } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import { resumingMessage } from '../domain/definitions.js';
import { HttpError } from './errors.js';

const attempts = 8;
const pauseMillis = 250;

export async function whenResumed<T>(query: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await query();
    } catch (error) {
      if (!(error instanceof QueryNotRegisteredError)) throw error;
      if (attempt === attempts) throw new HttpError(503, 'resuming', resumingMessage);
      await sleep(pauseMillis);
    }
  }
}
