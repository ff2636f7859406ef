// `lanekeeper journal prune`: retention once, with the configuration's journal.keep and
// journal.archive_dir (or --keep, --archive-dir), one line saying what was deleted and archived.
// Replay then says where the journal starts. Beside a running lanekeeper (its instance lock held)
// a SQLite file made before retention is not rewritten. Needs a build (dist/).
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import { LOCK_FILE } from '../../src/adapters/instance/lock.js';
import { DB_FILE } from '../../src/adapters/store/sqlite/open.js';
import { writeDemoJournal } from '../helpers/demo-journal.js';
import { cli, tmpDir } from '../helpers/tmp.js';

/** A state directory with the demo's journal (31 events; checkpoints at 10 and 20), and a configuration keeping 1h. */
async function setup(opts: { oldFile?: boolean } = {}) {
  const dir = tmpDir();
  const state = path.join(dir, 'state');
  if (opts.oldFile) {
    // What a lanekeeper before retention made: WAL mode set first, so auto_vacuum stays off.
    const { mkdirSync } = await import('node:fs');
    mkdirSync(state);
    const db = new Database(path.join(state, DB_FILE));
    db.pragma('journal_mode = WAL');
    db.close();
  }
  const { store } = await writeDemoJournal(state, [10, 20]);
  await store.close();
  const config = path.join(dir, 'lk.yaml');
  writeFileSync(
    config,
    `state_dir: ${JSON.stringify(state)}
journal: { keep: 1h, archive_dir: archive }
lanes: [{ name: code }]
backends: [{ name: b, command: [x], models: [{ name: m }] }]
`,
  );
  return { dir, state, config };
}

describe('lanekeeper journal prune', () => {
  test('prunes with the configuration’s settings, says what it did in one line; replay says where the journal starts', async () => {
    const { dir, state, config } = await setup();
    const r = await cli(['journal', 'prune', '--config', config]);
    expect(r.code, r.stderr).toBe(0);
    const archive = path.join(dir, 'archive', 'journal-0000000001-0000000020.jsonl');
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(
      new RegExp(
        `^journal pruned: seq 1–19 deleted \\(19 events, \\d+ effects, 19 transitions, 1 checkpoint\\), archived to ${archive.replace(/[.]/g, '\\.')}; the journal starts at the checkpoint at seq 20 \\(2026-[^,]+, the newest older than 1h\\); the file gave back \\d+ KB\\n$`,
      ),
    );
    expect(readdirSync(path.join(dir, 'archive'))).toEqual(['journal-0000000001-0000000020.jsonl']);

    const again = await cli(['journal', 'prune', '--config', config]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe(
      'journal prune: nothing to delete (the journal starts at the checkpoint at seq 20 already, the newest older than 1h)\n',
    );

    const replay = await cli(['replay', '--state', state, '--from-start']);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toMatch(/replayed 11 events \(to seq 31, from the checkpoint at seq 20\)/);
    expect(replay.stdout).toMatch(
      /note: the journal starts at seq 20 \(pruned before\); replay begins at the checkpoint at seq 20/,
    );
    expect(replay.stdout.trim().endsWith('0 divergences')).toBe(true);
    // The archive replays on its own.
    const old = await cli(['replay', '--journal', archive]);
    expect(old.code, old.stderr).toBe(0);
    expect(old.stdout).toMatch(/replayed 20 events \(to seq 20, from the run's start at seq 1\)/);
    // An export of the whole pruned journal begins at the checkpoint it starts with.
    const file = path.join(dir, 'export.jsonl');
    const exported = await cli(['journal', 'export', '--state', state, '--since', '1', '--out', file]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/^wrote 11 events \(seq 21–31, from a checkpoint\)/);
    const replayed = await cli(['replay', '--journal', file]);
    expect(replayed.stdout).toMatch(/replayed 11 events \(to seq 31, from the checkpoint at seq 20\)/);
    expect(replayed.stdout.trim().endsWith('0 divergences')).toBe(true);
  });

  test('--keep and --archive-dir override the configuration; --json says it as data', async () => {
    const { dir, state } = await setup();
    const r = await cli(
      ['journal', 'prune', '--state', state, '--keep', '2h', '--archive-dir', 'elsewhere', '--json'],
      {
        cwd: dir,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { status: string; from: number; to: number; archive: string };
    expect(report).toMatchObject({
      status: 'pruned',
      from: 1,
      to: 19,
      archive: path.join(dir, 'elsewhere', 'journal-0000000001-0000000020.jsonl'),
    });
  });

  test('without a keep, or with a bad one, it says which and exits 2', async () => {
    const { state } = await setup();
    const none = await cli(['journal', 'prune', '--state', state]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(
      'lanekeeper: how much to keep? pass --keep (e.g. --keep 90d), or --config with journal.keep set\n',
    );
    const bad = await cli(['journal', 'prune', '--state', state, '--keep', '10m']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('lanekeeper: --keep (journal.keep): expected at least 1h, got "10m"\n');
  });

  test('beside a running lanekeeper, a file made before retention is pruned but not rewritten', async () => {
    const { state } = await setup({ oldFile: true });
    // A running lanekeeper holds the state directory's lock (flock), as `lanekeeper run` does.
    const holder = spawn('flock', ['-x', path.join(state, LOCK_FILE), 'sleep', '60'], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && !(await locked(state)); i++) await new Promise((r) => setTimeout(r, 50));
      const r = await cli(['journal', 'prune', '--state', state, '--keep', '1h', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as { status: string; deleted: { vacuum: string }; message: string };
      expect(report).toMatchObject({ status: 'pruned', deleted: { vacuum: 'deferred' } });
      expect(report.message).toMatch(/the file keeps its size .* until a prune while lanekeeper is stopped/);
    } finally {
      holder.kill();
    }
    const db = new Database(path.join(state, DB_FILE), { readonly: true });
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(0);
    db.close();
  });
});

/** Whether the kernel's lock table has a lock on the state directory's lock file. */
async function locked(state: string): Promise<boolean> {
  const { instanceState } = await import('../../src/adapters/instance/held.js');
  return instanceState(state).running === true;
}
