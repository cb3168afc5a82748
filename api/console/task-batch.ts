// A batch of task completions as an operator keeps it in a spreadsheet: CSV with a header row
// `taskId,evidence` (and optionally `url`), one task a row. Checked row by row with the JSON batch
// route's own schema, so a mistake names its line.
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { HttpError } from '../errors.js';
import type { TaskCompletion } from '../operations.js';
import { completeTasksBody } from '../routes/steps.js';

export const taskBatchBody = z.object({
  csv: z.string().trim().min(1, 'choose a CSV file or paste its rows').max(8_000_000),
});

const invalid = (message: string) => new HttpError(400, 'invalid_request', message);

export function parseTaskCsv(csv: string): TaskCompletion[] {
  let rows: Record<string, string>[];
  try {
    rows = parse(csv, { columns: true, skip_empty_lines: true, trim: true, bom: true });
  } catch (error) {
    throw invalid(`the CSV cannot be read: ${(error as Error).message}`);
  }
  const columns = Object.keys(rows[0] ?? {});
  if (!columns.includes('taskId') || !columns.includes('evidence'))
    throw invalid('the first row must name the columns: taskId,evidence (and url, if any)');
  const items = rows.map((row) => ({
    taskId: row.taskId ?? '',
    evidence: { text: row.evidence ?? '', ...(row.url ? { url: row.url } : {}) },
  }));
  const checked = completeTasksBody.safeParse({ items });
  if (checked.success) return checked.data.items;
  const issue = checked.error.issues[0]!;
  const [, row, ...field] = issue.path;
  // Line 1 is the header: row 0 is on line 2.
  const where =
    typeof row === 'number' ? `line ${row + 2}${field.length ? ` (${field.join('.')})` : ''}: ` : '';
  throw invalid(`${where}${issue.message}`);
}
