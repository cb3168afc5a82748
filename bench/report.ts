// A bench's answer: a table on stdout and the same numbers as JSON under bench/results/.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine } from './machine.js';

const resultsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');

export type Row = Record<string, string | number>;

/** A Markdown table, so the output pastes into the README as it is. */
export function table(rows: Row[]): string {
  const columns = Object.keys(rows[0] ?? {});
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [
    line(columns),
    line(columns.map(() => '---')),
    ...rows.map((row) => line(columns.map((c) => row[c] ?? ''))),
  ].join('\n');
}

/** Prints the table and writes `<name>-latest.json` (rows, raw measurements, machine, date). */
export async function report(name: string, rows: Row[], raw: unknown): Promise<void> {
  const ranOn = machine();
  console.log(
    `\n${name} bench, ${new Date().toISOString()}, ${ranOn.cpu} (${ranOn.cores} cores), Node ${ranOn.node}\n`,
  );
  console.log(table(rows));
  await mkdir(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${name}-latest.json`);
  await writeFile(
    file,
    `${JSON.stringify({ name, at: new Date().toISOString(), machine: ranOn, rows, raw }, null, 2)}\n`,
  );
  console.log(`\nwritten to ${path.relative(process.cwd(), file)}`);
}
