// The failure converter that moves error messages and stack traces into an encoded payload, so the
// payload codec encrypts them too (docs/design.md §7). Without it a failure's message and stack stay plain
// text in the history even though every other payload is encrypted.
//
// The SDK loads this module by path, never by import (DataConverter has no field for an instance):
// - the worker and the client `require()` `failureConverterPath` (see payload-codec.ts);
// - the workflow bundler aliases it into the sandbox, where workflow code turns its errors into failures.
// So this file must stay loadable in all three places: no Node built-ins (the sandbox forbids them),
// no top-level await (require() of an ES module refuses it), and no TypeScript-only syntax, so that
// plain Node can require the .ts source too when a test runs the worker from source.
import { DefaultFailureConverter } from '@temporalio/common';

/** The named export the SDK looks for. */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
