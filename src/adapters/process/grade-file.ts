// Reads the grade a session wrote to its grade file, if any. The text read comes back with the
// verdict, so a watcher can tell a rewrite from the same content seen again.
import { readFile } from 'node:fs/promises';
import { parseGradeText, type GradeParse } from '../../policy/grade-contract.js';

export type GradeFileRead =
  | (GradeParse & { text: string })
  | { ok: false; reason: string; text?: undefined }
  | { ok: 'missing'; text?: undefined };

export async function readGradeFile(file: string): Promise<GradeFileRead> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: 'missing' };
    return { ok: false, reason: `cannot read ${file}: ${(err as Error).message}` };
  }
  const parsed = parseGradeText(text);
  return parsed.ok ? { ...parsed, text } : { ok: false, reason: `${file}: ${parsed.reason}`, text };
}
