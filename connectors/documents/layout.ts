// What every document store shares: the names it accepts and the order it lists a run's documents in.
import type { DocumentMeta } from './port.js';

const safeName = /^[a-z0-9][a-z0-9.-]*$/;

/** Throws unless every name is a safe path segment (ids, run ids, archive names). */
export function assertSafe(...names: string[]): void {
  for (const name of names)
    if (!safeName.test(name)) throw new Error(`unsafe document path segment: ${name}`);
}

/** Follows the chain from the first document; any document off the chain comes last, by id. */
export function chainOrder(metas: DocumentMeta[]): DocumentMeta[] {
  const ordered: DocumentMeta[] = [];
  const remaining = new Set(metas);
  let previous: string | null = null;
  for (;;) {
    const next = [...remaining].find((meta) => meta.previousSha256 === previous);
    if (!next) break;
    ordered.push(next);
    remaining.delete(next);
    previous = next.sha256;
  }
  return [...ordered, ...remaining];
}
