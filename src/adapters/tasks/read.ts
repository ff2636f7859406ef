// Reads the task files of `tasks.dir`. A task file is a `*.md` file directly in the directory that
// opens with YAML front matter between a `---` line and the next `---` line:
//
//   ---
//   lane: code            (required; one of the configured lanes)
//   state: ready          (required; active | ready | backlog | waiting | done)
//   priority: high        (urgent | high | medium | low, or an integer; higher first; default medium)
//   waiting_for: review   (optional; a task that waits is never picked)
//   ---
//   # Title               (front matter `title` wins; else this first heading)
//
// The id is the file name without `.md`. Hidden files and subdirectories are skipped, so
// `done/` or `archive/` can hold old tasks. Other keys are ignored: task files in the wild carry
// many. A bad file is reported (file, and line where there is one) and left out; it never hides
// the good ones.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { describeValue } from '../../config/problems.js';
import { claimKeyProblem } from '../../policy/claim-key.js';
import { DEFAULT_PRIORITY, PRIORITY_WORDS, TASK_STATES, type PriorityWord, type Task } from '../../policy/task.js';
import { taskKey } from '../../policy/task-tiers.js';

export interface TaskProblem {
  file: string;
  message: string;
}

export interface TaskSnapshot {
  tasks: Task[];
  problems: TaskProblem[];
}

/** The problem of a `tasks.dir` that is not there (the watcher keys on it to re-arm). */
export const DIR_MISSING = 'tasks.dir does not exist';
/** Bigger files are refused unread, so a stray log in the directory cannot stall a tick. */
export const MAX_TASK_FILE_BYTES = 256 * 1024;
/** Well under the claim key limit (200), leaving room for the `task:` prefix and long lane names. */
export const MAX_TASK_ID_LENGTH = 120;

const WORDS = Object.keys(PRIORITY_WORDS) as PriorityWord[];
const STATES = TASK_STATES.join(', ');

/** null counts as missing: `state:` with nothing after it is a key left empty, not a value. */
const missingOr = (what: string) => (iss: { input?: unknown }) =>
  iss.input === undefined || iss.input === null
    ? `missing (${what})`
    : `expected ${what}, got ${describeValue(iss.input)}`;

// Not strict: unknown keys are dropped, not reported.
const FrontMatter = z.object({
  id: z.union([z.string(), z.number()], { error: missingOr('the file name without .md') }).nullish(),
  lane: z.string({ error: missingOr('the lane the task belongs to') }),
  state: z.enum(TASK_STATES, { error: missingOr(`one of ${STATES}`) }),
  priority: z
    .preprocess(
      (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
      z.union([z.int(), z.enum(WORDS)], {
        error: (iss) => `expected ${WORDS.join(', ')} or a whole number, got ${describeValue(iss.input)}`,
      }),
    )
    .nullish(),
  waiting_for: z
    .union([z.string(), z.array(z.string())], {
      error: (iss) => `expected text or a list of texts, got ${describeValue(iss.input)}`,
    })
    .nullish(),
  title: z
    .union([z.string(), z.number()], { error: (iss) => `expected text, got ${describeValue(iss.input)}` })
    .nullish(),
});

export async function readTasks(dir: string, lanes: readonly string[]): Promise<TaskSnapshot> {
  let names: string[];
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    // A symlink may point at a file; readOne's stat follows it and skips anything else.
    names = entries
      .filter((e) => e.name.endsWith('.md') && !e.name.startsWith('.') && (e.isFile() || e.isSymbolicLink()))
      .map((e) => e.name);
  } catch (err) {
    return { tasks: [], problems: [{ file: dir, message: dirProblem(err) }] };
  }
  const read = await Promise.all(names.map((name) => readOne(path.resolve(dir, name), lanes)));
  const tasks: Task[] = [];
  const problems: TaskProblem[] = [];
  for (const r of read) {
    if (r?.task) tasks.push(r.task);
    if (r) problems.push(...r.problems);
  }
  tasks.sort((a, b) => compare(a.id, b.id));
  // Stable: a file's problems keep their order (line order, mostly).
  problems.sort((a, b) => compare(a.file, b.file));
  return { tasks, problems };
}

function dirProblem(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return DIR_MISSING;
    case 'ENOTDIR':
      return 'tasks.dir is not a directory';
    case 'EACCES':
      return 'tasks.dir cannot be read: permission denied';
    default:
      return `tasks.dir cannot be read: ${(err as Error).message}`;
  }
}

/** null for a file that vanished or turned out not to be a regular file: nothing to report. */
async function readOne(
  file: string,
  lanes: readonly string[],
): Promise<{ task: Task | null; problems: TaskProblem[] } | null> {
  try {
    // stat first: opening a FIFO named x.md would block the tick.
    const st = await stat(file);
    if (!st.isFile()) return null;
    if (st.size > MAX_TASK_FILE_BYTES) {
      return {
        task: null,
        problems: [
          { file, message: `the file has ${st.size} bytes, more than a task file may have (${MAX_TASK_FILE_BYTES})` },
        ],
      };
    }
    return parseTaskText(await readFile(file, 'utf8'), file, lanes);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Deleted between the listing and the read: the watcher reads the directory again anyway.
    if (code === 'ENOENT') return null;
    const why = code === 'EACCES' ? 'permission denied' : (err as Error).message;
    return { task: null, problems: [{ file, message: `cannot read the file: ${why}` }] };
  }
}

/**
 * One task file's text. `task` is set exactly when `problems` is empty: a file with any problem
 * is left out whole rather than guessed at.
 */
export function parseTaskText(
  text: string,
  file: string,
  lanes: readonly string[],
): { task: Task | null; problems: TaskProblem[] } {
  const problems: TaskProblem[] = [];
  const fail = (message: string) => problems.push({ file, message });
  const id = path.basename(file, '.md');
  const badId = idProblem(id);
  if (badId) fail(badId);

  const split = splitFrontMatter(text.startsWith('\uFEFF') ? text.slice(1) : text);
  if (split === 'none')
    fail('no front matter (the file must start with a --- line, then lane: and state:, then another --- line)');
  if (split === 'unclosed') fail('the front matter has no closing --- line');
  if (typeof split === 'string') return { task: null, problems };

  // Lines in messages are lines of the file: the front matter starts on line 2.
  const lineCounter = new LineCounter();
  const fileLine = (offset: number) => lineCounter.linePos(offset).line + 1;
  const doc = parseDocument(split.yaml, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    for (const e of doc.errors) {
      const pos = e.linePos?.[0];
      fail(
        `${pos ? `line ${pos.line + 1}, column ${pos.col}: ` : ''}invalid YAML: ${e.message.split('\n')[0]!.split(' at line ')[0]}`,
      );
    }
    return { task: null, problems };
  }
  let data: unknown;
  try {
    data = doc.toJS() ?? {};
  } catch (err) {
    // toJS refuses alias bombs (maxAliasCount).
    fail(`invalid YAML: ${(err as Error).message}`);
    return { task: null, problems };
  }
  if (typeof data !== 'object' || Array.isArray(data) || data === null) {
    fail(`the front matter must be a mapping (lane:, state:, …), got ${describeValue(data)}`);
    return { task: null, problems };
  }

  const at = (key: string) => {
    const offset = keyOffset(doc, key);
    return offset === null ? '' : `line ${fileLine(offset)}: `;
  };
  const parsed = FrontMatter.safeParse(data);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '');
      fail(
        `${at(key)}${key}: ${key === 'lane' && issue.message.startsWith('missing') ? `missing (one of the lanes: ${lanes.join(', ')})` : issue.message}`,
      );
    }
    return { task: null, problems };
  }
  const fm = parsed.data;
  if (fm.id !== null && fm.id !== undefined && String(fm.id) !== id) {
    fail(
      `${at('id')}id: the front matter says ${JSON.stringify(String(fm.id))} but the file name says ${JSON.stringify(id)}; the id is the file name (rename the file or drop id:)`,
    );
  }
  if (!lanes.includes(fm.lane)) {
    fail(
      `${at('lane')}lane: ${JSON.stringify(fm.lane)} is not a configured lane (lanes: ${lanes.length ? lanes.join(', ') : 'none'})`,
    );
  }
  if (problems.length) return { task: null, problems };
  return { task: taskOf(id, fm, file, split.body), problems: [] };
}

/** The task a valid file describes: its priority as a number, its waits as one line, its title. */
function taskOf(id: string, fm: z.infer<typeof FrontMatter>, file: string, body: readonly string[]): Task {
  const priority =
    fm.priority === null || fm.priority === undefined
      ? DEFAULT_PRIORITY
      : typeof fm.priority === 'number'
        ? fm.priority
        : PRIORITY_WORDS[fm.priority];
  const waiting = Array.isArray(fm.waiting_for)
    ? fm.waiting_for
        .map((w) => w.trim())
        .filter(Boolean)
        .join('; ')
    : (fm.waiting_for ?? '').trim();
  const fmTitle = fm.title === null || fm.title === undefined ? '' : String(fm.title).trim();
  return {
    id,
    lane: fm.lane,
    state: fm.state,
    priority,
    waitingFor: waiting || null,
    path: file,
    title: fmTitle || firstHeading(body),
  };
}

function idProblem(id: string): string | null {
  if (id.length > MAX_TASK_ID_LENGTH) {
    return `the file name gives a task id of ${id.length} characters; at most ${MAX_TASK_ID_LENGTH} are allowed (the id becomes the claim key task:<id>)`;
  }
  const p = claimKeyProblem(taskKey(id));
  return p
    ? `the file name ${JSON.stringify(id)} is not a usable task id (its claim key task:<id> is refused: ${p})`
    : null;
}

/** The front matter between the leading `---` line and the next one, and the lines after it. */
function splitFrontMatter(text: string): { yaml: string; body: string[] } | 'none' | 'unclosed' {
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trimEnd() !== '---') return 'none';
  const end = lines.findIndex((l, i) => i > 0 && l.trimEnd() === '---');
  if (end < 0) return 'unclosed';
  return { yaml: lines.slice(1, end).join('\n'), body: lines.slice(end + 1) };
}

/** The first `# ` heading outside fenced code blocks (a `# comment` in a shell block is not a title). */
function firstHeading(body: readonly string[]): string | null {
  let fence: string | null = null;
  for (const line of body) {
    const f = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (f) {
      const ch = f[1]![0]!;
      if (fence === null) fence = ch;
      else if (fence === ch) fence = null;
      continue;
    }
    if (fence !== null) continue;
    const h = /^ {0,3}#[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (h?.[1]) return h[1];
  }
  return null;
}

/** Where a top-level key stands, for "line N:" in a problem; null when it is absent. */
function keyOffset(doc: Document, key: string): number | null {
  if (!isMap(doc.contents)) return null;
  const pair = doc.contents.items.find((it) => isScalar(it.key) && String(it.key.value) === key);
  if (!pair) return null;
  const node = (isScalar(pair.value) ? pair.value : pair.key) as { range?: [number, number, number] | null } | null;
  return node?.range?.[0] ?? null;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
