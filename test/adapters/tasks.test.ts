import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { MAX_TASK_FILE_BYTES, readTasks, type TaskSnapshot } from '../../src/adapters/tasks/read.js';
import { watchTasks, type TaskWatch } from '../../src/adapters/tasks/watch.js';
import { tmpDir } from '../helpers/tmp.js';

const LANES = ['code', 'triage', 'content'];

function dirWith(files: Record<string, string>): string {
  const dir = tmpDir('lk-tasks-');
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

const fm = (lines: string, body = '') => `---\n${lines}\n---\n${body}`;

/** The problems of a directory as "name: message", for readable expectations. */
async function problemsOf(files: Record<string, string>): Promise<string[]> {
  const dir = dirWith(files);
  const { problems } = await readTasks(dir, LANES);
  return problems.map((p) => `${path.relative(dir, p.file)}: ${p.message}`);
}

describe('readTasks', () => {
  test('reads good files into tasks, sorted by id, with absolute paths', async () => {
    const dir = dirWith({
      'zeta.md': fm('lane: code\nstate: active\npriority: 5\ntitle: Zeta work', '# Ignored heading\n'),
      'alpha.md': fm('lane: triage\nstate: ready\nwaiting_for: Erik'),
    });
    const { tasks, problems } = await readTasks(dir, LANES);
    expect(problems).toEqual([]);
    expect(tasks).toEqual([
      {
        id: 'alpha',
        lane: 'triage',
        state: 'ready',
        priority: 2,
        waitingFor: 'Erik',
        path: path.resolve(dir, 'alpha.md'),
        title: null,
      },
      {
        id: 'zeta',
        lane: 'code',
        state: 'active',
        priority: 5,
        waitingFor: null,
        path: path.resolve(dir, 'zeta.md'),
        title: 'Zeta work',
      },
    ]);
  });

  test('unknown keys are ignored; CRLF line ends and a byte-order mark are fine', async () => {
    const dir = dirWith({
      'wild.md':
        '\uFEFF---\r\nlane: code\r\nstate: backlog\r\ncreated: 2026-01-02\r\ntags: [a, b]\r\ndepends: [x]\r\n---\r\n# Wild one\r\n',
    });
    const { tasks, problems } = await readTasks(dir, LANES);
    expect(problems).toEqual([]);
    expect(tasks).toMatchObject([{ id: 'wild', state: 'backlog', title: 'Wild one' }]);
  });

  test('priority: words (any case), integers, default medium', async () => {
    const dir = dirWith({
      'u.md': fm('lane: code\nstate: ready\npriority: urgent'),
      'h.md': fm('lane: code\nstate: ready\npriority: High'),
      'm.md': fm('lane: code\nstate: ready\npriority: medium'),
      'l.md': fm('lane: code\nstate: ready\npriority: low'),
      'n.md': fm('lane: code\nstate: ready\npriority: 7'),
      'neg.md': fm('lane: code\nstate: ready\npriority: -1'),
      'd.md': fm('lane: code\nstate: ready'),
      'e.md': fm('lane: code\nstate: ready\npriority:'),
    });
    const { tasks, problems } = await readTasks(dir, LANES);
    expect(problems).toEqual([]);
    expect(Object.fromEntries(tasks.map((t) => [t.id, t.priority]))).toEqual({
      u: 4,
      h: 3,
      m: 2,
      l: 1,
      n: 7,
      neg: -1,
      d: 2,
      e: 2,
    });
  });

  test('title: front matter, else the first # heading outside code, else null', async () => {
    const d = dirWith({
      'fm.md': fm('lane: code\nstate: ready\ntitle: "  From front matter "', '# From heading\n'),
      'head.md': fm('lane: code\nstate: ready', '\nSome text\n## Sub\n# The heading ##\n# Second\n'),
      'fenced.md': fm('lane: code\nstate: ready', '```sh\n# not a title\n```\n# Real title\n'),
      'none.md': fm('lane: code\nstate: ready', 'Just text.\n#hashtag\n'),
    });
    const { tasks } = await readTasks(d, LANES);
    expect(Object.fromEntries(tasks.map((t) => [t.id, t.title]))).toEqual({
      fm: 'From front matter',
      head: 'The heading',
      fenced: 'Real title',
      none: null,
    });
  });

  test('waiting_for: text, a list, or empty (not waiting)', async () => {
    const dir = dirWith({
      'one.md': fm('lane: code\nstate: ready\nwaiting_for: "  CI to go green "'),
      'list.md': fm('lane: code\nstate: ready\nwaiting_for: [review, deploy]'),
      'empty.md': fm('lane: code\nstate: ready\nwaiting_for:'),
      'blank.md': fm('lane: code\nstate: ready\nwaiting_for: ""'),
    });
    const { tasks } = await readTasks(dir, LANES);
    expect(Object.fromEntries(tasks.map((t) => [t.id, t.waitingFor]))).toEqual({
      one: 'CI to go green',
      list: 'review; deploy',
      empty: null,
      blank: null,
    });
  });

  test('a front-matter id equal to the file name is fine; a different one is a problem naming both', async () => {
    const dir = dirWith({
      'same.md': fm('id: same\nlane: code\nstate: ready'),
      'fix-login.md': fm('lane: code\nstate: ready\nid: fix-signup'),
    });
    const { tasks, problems } = await readTasks(dir, LANES);
    expect(tasks.map((t) => t.id)).toEqual(['same']);
    expect(problems).toEqual([
      {
        file: path.resolve(dir, 'fix-login.md'),
        message: expect.stringMatching(/^line 4: id: .*"fix-signup".*"fix-login"/),
      },
    ]);
  });

  test('each kind of problem names the file and says what is wrong', async () => {
    const long = 'x'.repeat(121);
    const got = await problemsOf({
      'plain.md': '# Just notes\n',
      'unclosed.md': '---\nlane: code\nstate: ready\n',
      'yaml.md': '---\nlane: code\nstate: [active\n---\n',
      'dupe.md': '---\nlane: code\nlane: triage\nstate: ready\n---\n',
      'nolane.md': fm('state: ready'),
      'nostate.md': fm('lane: code\nstate:'),
      'badlane.md': fm('state: ready\nlane: cod'),
      'badstate.md': fm('lane: code\nstate: todo'),
      'badprio.md': fm('lane: code\nstate: ready\npriority: someday'),
      'fracprio.md': fm('lane: code\nstate: ready\npriority: 2.5'),
      'list.md': fm('- lane: code'),
      'has space.md': fm('lane: code\nstate: ready'),
      [`${long}.md`]: fm('lane: code\nstate: ready'),
    });
    expect(got).toEqual([
      'badlane.md: line 3: lane: "cod" is not a configured lane (lanes: code, triage, content)',
      'badprio.md: line 4: priority: expected urgent, high, medium, low or a whole number, got "someday"',
      'badstate.md: line 3: state: expected one of active, ready, backlog, waiting, done, got "todo"',
      expect.stringMatching(/^dupe\.md: line 3, column 1: invalid YAML: Map keys must be unique/),
      'fracprio.md: line 4: priority: expected urgent, high, medium, low or a whole number, got 2.5',
      expect.stringMatching(
        /^has space\.md: the file name "has space" is not a usable task id \(its claim key task:<id> is refused: expected task:SLUG/,
      ),
      'list.md: the front matter must be a mapping (lane:, state:, …), got a list',
      'nolane.md: lane: missing (one of the lanes: code, triage, content)',
      'nostate.md: line 3: state: missing (one of active, ready, backlog, waiting, done)',
      expect.stringMatching(/^plain\.md: no front matter/),
      'unclosed.md: the front matter has no closing --- line',
      expect.stringMatching(/^x+\.md: the file name gives a task id of 121 characters; at most 120 are allowed/),
      'yaml.md: line 3, column 15: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  test('a file with several problems reports each of them', async () => {
    expect(await problemsOf({ 'both.md': fm('title: nothing else') })).toEqual([
      'both.md: lane: missing (one of the lanes: code, triage, content)',
      'both.md: state: missing (one of active, ready, backlog, waiting, done)',
    ]);
  });

  test('a file over the size cap is refused unread', async () => {
    const big = fm('lane: code\nstate: ready', 'x'.repeat(MAX_TASK_FILE_BYTES));
    expect(await problemsOf({ 'huge.md': big })).toEqual([
      `huge.md: the file has ${Buffer.byteLength(big)} bytes, more than a task file may have (${MAX_TASK_FILE_BYTES})`,
    ]);
  });

  test('bad files never hide the good ones', async () => {
    const dir = dirWith({
      'a-bad.md': 'no front matter',
      'b-good.md': fm('lane: code\nstate: ready'),
      'c-bad.md': fm('lane: nope\nstate: ready'),
      'd-good.md': fm('lane: content\nstate: active'),
    });
    const { tasks, problems } = await readTasks(dir, LANES);
    expect(tasks.map((t) => t.id)).toEqual(['b-good', 'd-good']);
    expect(problems.map((p) => path.basename(p.file))).toEqual(['a-bad.md', 'c-bad.md']);
  });

  test('only visible *.md files directly in the directory are read', async () => {
    const dir = dirWith({
      'task.md': fm('lane: code\nstate: ready'),
      '.hidden.md': 'garbage',
      'notes.txt': 'garbage',
      'task.md.swp': 'garbage',
    });
    mkdirSync(path.join(dir, 'done'));
    writeFileSync(path.join(dir, 'done', 'old.md'), 'garbage');
    mkdirSync(path.join(dir, 'dir.md'));
    expect(await readTasks(dir, LANES)).toMatchObject({ tasks: [{ id: 'task' }], problems: [] });
  });

  test('a missing tasks.dir is one problem, not an exception', async () => {
    const dir = path.join(tmpDir('lk-tasks-'), 'nope');
    expect(await readTasks(dir, LANES)).toEqual({
      tasks: [],
      problems: [{ file: dir, message: 'tasks.dir does not exist' }],
    });
    const file = path.join(dirWith({ 'f.md': 'x' }), 'f.md');
    expect(await readTasks(file, LANES)).toEqual({
      tasks: [],
      problems: [{ file, message: 'tasks.dir is not a directory' }],
    });
  });
});

/** Snapshots as they arrive; next() waits for the next one, event-driven, up to a generous limit. */
class Snapshots {
  readonly all: TaskSnapshot[] = [];
  private taken = 0;
  private wake: (() => void) | null = null;
  readonly push = (s: TaskSnapshot) => {
    this.all.push(s);
    this.wake?.();
  };
  async next(timeoutMs = 10_000): Promise<TaskSnapshot> {
    if (this.taken >= this.all.length) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no snapshot within ${timeoutMs} ms`)), timeoutMs);
        this.wake = () => {
          clearTimeout(t);
          this.wake = null;
          resolve();
        };
      });
    }
    return this.all[this.taken++]!;
  }
}

const ids = (s: TaskSnapshot) => s.tasks.map((t) => `${t.id}:${t.state}`);

describe('watchTasks', () => {
  const open: TaskWatch[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((w) => w.close()));
  });
  function start(dir: string, snaps: Snapshots, errors: Error[] = [], rescanMs?: number): TaskWatch {
    const w = watchTasks(dir, LANES, snaps.push, { onError: (e) => errors.push(e), rescanMs });
    open.push(w);
    return w;
  }

  test('initial snapshot, then one per real change: add, edit, identical rewrite (none), delete', async () => {
    const dir = dirWith({ 'one.md': fm('lane: code\nstate: ready') });
    const snaps = new Snapshots();
    const errors: Error[] = [];
    const w = start(dir, snaps, errors);
    await w.ready;
    expect(snaps.all).toHaveLength(1);
    expect(ids(await snaps.next())).toEqual(['one:ready']);

    writeFileSync(path.join(dir, 'two.md'), fm('lane: triage\nstate: backlog'));
    expect(ids(await snaps.next())).toEqual(['one:ready', 'two:backlog']);

    writeFileSync(path.join(dir, 'one.md'), fm('lane: code\nstate: active'));
    expect(ids(await snaps.next())).toEqual(['one:active', 'two:backlog']);

    // Same text again, and a file no task reader looks at: no snapshot. The next real change
    // proves it — its snapshot is the very next one.
    writeFileSync(path.join(dir, 'one.md'), fm('lane: code\nstate: active'));
    writeFileSync(path.join(dir, 'scratch.txt'), 'x');
    await new Promise((r) => setTimeout(r, 300));
    writeFileSync(path.join(dir, 'bad.md'), 'no front matter');
    const withBad = await snaps.next();
    expect(ids(withBad)).toEqual(['one:active', 'two:backlog']);
    expect(withBad.problems).toEqual([
      { file: path.resolve(dir, 'bad.md'), message: expect.stringMatching(/^no front matter/) },
    ]);

    rmSync(path.join(dir, 'two.md'));
    rmSync(path.join(dir, 'bad.md'));
    let s = await snaps.next();
    // The two deletions may land in one read or in two.
    if (s.tasks.length === 2 || s.problems.length) s = await snaps.next();
    expect(s).toEqual({ tasks: [expect.objectContaining({ id: 'one', state: 'active' })], problems: [] });
    expect(errors).toEqual([]);
  });

  test("after a reload changes the lanes, the tasks are read again at once: a new lane's task is taken, a removed lane's is a problem", async () => {
    const dir = dirWith({ 'one.md': fm('lane: code\nstate: ready'), 'new.md': fm('lane: research\nstate: ready') });
    const snaps = new Snapshots();
    const w = start(dir, snaps, [], 0); // no periodic re-read: only setLanes can bring the change
    await w.ready;
    const first = await snaps.next();
    expect(ids(first)).toEqual(['one:ready']);
    expect(first.problems.map((p) => p.message)).toEqual([
      expect.stringContaining('"research" is not a configured lane'),
    ]);

    w.setLanes([...LANES, 'research']);
    expect(await snaps.next()).toEqual({
      tasks: [expect.objectContaining({ id: 'new', lane: 'research' }), expect.objectContaining({ id: 'one' })],
      problems: [],
    });

    w.setLanes(['triage', 'research']);
    const after = await snaps.next();
    expect(ids(after)).toEqual(['new:ready']);
    expect(after.problems.map((p) => p.message)).toEqual([expect.stringContaining('"code" is not a configured lane')]);
  });

  test('a tasks.dir made after the start, or removed and made again, is followed', async () => {
    // chokidar sets up the watch of a missing path only after "ready", so a directory made at once
    // may raise no event; the periodic re-read (short here) is what catches that case.
    const dir = path.join(tmpDir('lk-tasks-'), 'later');
    const snaps = new Snapshots();
    const errors: Error[] = [];
    const w = start(dir, snaps, errors, 500);
    await w.ready;
    expect(await snaps.next()).toEqual({ tasks: [], problems: [{ file: dir, message: 'tasks.dir does not exist' }] });
    mkdirSync(dir);
    expect(await snaps.next()).toEqual({ tasks: [], problems: [] });
    writeFileSync(path.join(dir, 'new.md'), fm('lane: code\nstate: ready'));
    expect(ids(await snaps.next())).toEqual(['new:ready']);

    rmSync(dir, { recursive: true });
    expect(await snaps.next()).toEqual({ tasks: [], problems: [{ file: dir, message: 'tasks.dir does not exist' }] });
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'again.md'), fm('lane: code\nstate: active'));
    let s = await snaps.next();
    if (s.tasks.length === 0) s = await snaps.next(); // the empty directory may be seen first
    expect(ids(s)).toEqual(['again:active']);
    // And it keeps following: an edit shows up.
    writeFileSync(path.join(dir, 'again.md'), fm('lane: code\nstate: done'));
    expect(ids(await snaps.next())).toEqual(['again:done']);
    expect(errors).toEqual([]);
  });

  test('close() stops it: a change after close is seen by another watcher but not by the closed one', async () => {
    const dir = dirWith({});
    const closedSnaps = new Snapshots();
    const w = start(dir, closedSnaps);
    const sentinel = new Snapshots();
    const s = start(dir, sentinel);
    await Promise.all([w.ready, s.ready]);
    await w.close();
    await w.close(); // twice is harmless
    expect(closedSnaps.all).toHaveLength(1);
    await sentinel.next();
    writeFileSync(path.join(dir, 'late.md'), fm('lane: code\nstate: ready'));
    expect(ids(await sentinel.next())).toEqual(['late:ready']);
    // Both had the same debounce; give the closed one a little more before checking it stayed quiet.
    await new Promise((r) => setTimeout(r, 300));
    expect(closedSnaps.all).toHaveLength(1);
  });

  test('an onSnapshot that throws is reported, and watching goes on', async () => {
    const dir = dirWith({});
    const errors: Error[] = [];
    const seen: TaskSnapshot[] = [];
    const snaps = new Snapshots();
    const w = watchTasks(
      dir,
      LANES,
      (snap) => {
        seen.push(snap);
        snaps.push(snap);
        if (seen.length === 1) throw new Error('consumer broke');
      },
      { onError: (e) => errors.push(e) },
    );
    open.push(w);
    await w.ready;
    await snaps.next();
    expect(errors.map((e) => e.message)).toEqual(['consumer broke']);
    writeFileSync(path.join(dir, 'a.md'), fm('lane: code\nstate: ready'));
    expect(ids(await snaps.next())).toEqual(['a:ready']);
  });
});
