// Replay: the journal folded through the machines as they are now reproduces every recorded
// intent and lane state; an altered machine diverges at the first event it treats differently.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { openJournalFile } from '../../src/adapters/journal-file/read.js';
import { openSqliteStore } from '../../src/adapters/store/sqlite/index.js';
import { laneMachine } from '../../src/machines/lane.js';
import { FleetHost } from '../../src/streams/fleet-host.js';
import { storeJournalSource } from '../../src/streams/journal-source.js';
import { replayJournal } from '../../src/streams/replay.js';
import { cli, fixtureBackend, tmpDir } from '../helpers/tmp.js';

const JOURNALS = path.resolve(import.meta.dirname, '../fixtures/journals');

/** What each golden journal is there to show, so a re-recording that lost it fails too. */
type Line = {
  event: { type: string; laneId?: string; sessionId?: string };
  effects: { type: string; kind?: string; note?: string; dispatch?: string; laneId?: string }[];
  changed: Record<string, string> | null;
};
const types = (ls: Line[]) => ls.map((l) => l.event.type);
const SIGNATURES: Record<string, (lines: Line[]) => boolean> = {
  demo: (ls) =>
    new Set(
      ls.flatMap((l) =>
        l.effects.filter((i) => i.type === 'startSession').map((i) => JSON.stringify(i).match(/"lane":"(\w+)"/)![1]),
      ),
    ).size >= 3,
  'respawn-chain': (ls) =>
    ls.flatMap((l) => l.effects).filter((i) => i.type === 'startSession' && i.dispatch === 'respawn').length === 2,
  'claim-denied-pivot': (ls) =>
    ls.some((l) => l.event.type === 'CLAIM_DENIED') &&
    ls.flatMap((l) => l.effects).some((i) => i.type === 'recordDecision' && i.kind === 'pivot'),
  'backends-exhausted': (ls) =>
    ls.flatMap((l) => l.effects).filter((i) => i.type === 'laneNote' && i.note === 'no_arm').length === 2,
  'selector-violation': (ls) => ls.some((l) => l.event.type === 'SELECTOR_CONTRACT_VIOLATION'),
  // Both agents of the killed run adopted after RUNTIME_RECOVERED, each exiting once.
  'crash-recovery': (ls) => {
    const t = types(ls);
    const recovered = t.indexOf('RUNTIME_RECOVERED');
    return (
      recovered > 0 &&
      t.slice(recovered).filter((x) => x === 'SESSION_ADOPTED').length === 2 &&
      t.filter((x) => x === 'SESSION_EXITED').length === 2
    );
  },
  // A drain during a cooldown that earned a respawn; the next start goes on (RUNTIME_RECOVERED,
  // stop: drain) and the respawn follows, after it, with its parent from the run before.
  'drain-resume': (ls) => {
    const t = types(ls);
    const resumed = ls.findIndex(
      (l) => l.event.type === 'RUNTIME_RECOVERED' && (l.event as { stop?: string }).stop === 'drain',
    );
    const respawns = ls
      .slice(resumed + 1)
      .flatMap((l) => l.effects)
      .filter((i) => i.type === 'startSession' && i.dispatch === 'respawn');
    return (
      resumed > t.indexOf('DRAIN') && t.filter((x) => x === 'RUNTIME_STARTED').length === 1 && respawns.length === 1
    );
  },
  // Respawns of a task-backed session: the first continues its task, the second (the task file
  // now says done) takes the lane's next one.
  'respawn-task': (ls) => {
    const tasks = ls
      .flatMap((l) => l.effects)
      .filter((i) => i.type === 'startSession')
      .map((i) => [i.dispatch, (i as { task?: { id: string } | null }).task?.id ?? null]);
    return (
      JSON.stringify(tasks) ===
      JSON.stringify([
        ['tick', 'fix-ci-flake'],
        ['respawn', 'fix-ci-flake'],
        ['respawn', 'next-one'],
      ])
    );
  },
  // After CONFIG_RELOADED, lane c starts a session and lane b starts none.
  'config-reload': (ls) => {
    const at = types(ls).indexOf('CONFIG_RELOADED');
    const after = ls
      .slice(at + 1)
      .flatMap((l) => l.effects.filter((i) => i.type === 'startSession').map((i) => i.laneId));
    return at > 0 && after.includes('c') && !after.includes('b');
  },
};

describe('golden journals (test/fixtures/journals; re-record with scripts/record-journals.mjs)', () => {
  const files = readdirSync(JOURNALS).filter((f) => f.endsWith('.jsonl'));

  test('every scenario has its journal', () => {
    expect(files.map((f) => f.replace('.jsonl', '')).sort()).toEqual(Object.keys(SIGNATURES).sort());
  });

  test.each(files)('%s replays with 0 divergences and still shows what it is for', async (file) => {
    const result = await replayJournal(await openJournalFile(path.join(JOURNALS, file)), { fromStart: true });
    expect(result.firstDivergence).toBeNull();
    expect(result.divergences).toBe(0);
    const lines = readFileSync(path.join(JOURNALS, file), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => JSON.parse(l) as Line);
    expect(result.events).toBe(lines.length);
    expect(SIGNATURES[file.replace('.jsonl', '')]!(lines)).toBe(true);
  });

  test('a lane machine that no longer respawns diverges at the first respawn, and says how', async () => {
    const altered = laneMachine.provide({ guards: { earnsRespawn: () => false } });
    const file = path.join(JOURNALS, 'respawn-chain.jsonl');
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => JSON.parse(l) as { event: { seq: number }; effects: { type: string; note?: string }[] });
    const firstRespawn = lines.find((l) => l.effects.some((i) => i.type === 'laneNote' && i.note === 'respawn'))!.event
      .seq;
    const result = await replayJournal(await openJournalFile(file), {
      host: (o) => new FleetHost({ ...o, laneMachine: altered }),
    });
    expect(result.firstDivergence).toMatchObject({ seq: firstRespawn, event: 'SESSION_GRADED', what: 'intents' });
    expect(JSON.stringify(result.firstDivergence!.expected)).toContain('"note":"respawn"');
    expect(JSON.stringify(result.firstDivergence!.got)).not.toContain('"note":"respawn"');
  });

  test('the CLI: 0 divergences exits 0; a damaged file names its line and exits 2', async () => {
    const ok = await cli(['replay', '--journal', path.join(JOURNALS, 'claim-denied-pivot.jsonl')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/replayed 8 events \(to seq 8, from the run's start at seq 1\)/);
    expect(ok.stdout).toMatch(/docs\s+cooldown/);
    expect(ok.stdout.trim().endsWith('0 divergences')).toBe(true);
    const dir = tmpDir();
    const bad = path.join(dir, 'bad.jsonl');
    const text = readFileSync(path.join(JOURNALS, 'claim-denied-pivot.jsonl'), 'utf8').split('\n');
    text[3] = '{"event": {"seq": 3, "type": "CLAIM_DENIED"'; // cut short
    writeFileSync(bad, text.join('\n'));
    const r = await cli(['replay', '--journal', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(new RegExp(`^lanekeeper: ${bad.replace(/[.]/g, '\\.')}, line 4: not JSON`));
    const missing = await cli(['replay', '--journal', path.join(dir, 'none.jsonl')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/none\.jsonl: no such file/);
  });

  test('the CLI: a divergence names its seq, its event, what was expected and what came; exit 1', async () => {
    // A journal whose record of seq 3 says the lane went elsewhere than the machines take it.
    const lines = readFileSync(path.join(JOURNALS, 'claim-denied-pivot.jsonl'), 'utf8').trim().split('\n');
    const line = JSON.parse(lines[3]!) as { event: { seq: number; type: string }; changed: Record<string, string> };
    expect(line.event).toMatchObject({ seq: 3, type: 'CLAIM_DENIED' });
    const truth = line.changed;
    line.changed = Object.fromEntries(Object.keys(truth).map((k) => [k, 'cooldown']));
    lines[3] = JSON.stringify(line);
    const altered = path.join(tmpDir(), 'altered.jsonl');
    writeFileSync(altered, `${lines.join('\n')}\n`);
    const r = await cli(['replay', '--journal', altered]);
    expect(r.code, r.stderr).toBe(1);
    const tail = r.stdout.trim().split('\n').slice(-4);
    expect(tail).toEqual([
      '1 divergence; the first:',
      '  seq 3 (CLAIM_DENIED): the lane states differ',
      `  expected: ${JSON.stringify(line.changed)}`,
      `  got:      ${JSON.stringify(truth)}`,
    ]);
  });
});

describe('replay of a live run, from checkpoints and exports', () => {
  let state = '';
  let dir = '';
  beforeAll(async () => {
    dir = tmpDir();
    state = path.join(dir, 'state');
    const file = path.join(dir, 'lk.yaml');
    writeFileSync(
      file,
      `width: 2
checkpoint_every: 10
schedule: { interval: 1s, jitter: 0s }
resources: { enabled: false }
lanes:
  - { name: a, cooldown: 0s, respawn: { threshold: 0.5, chain_limit: 3 } }
  - { name: b, cooldown: 1s }
backends:
${fixtureBackend('ok.mjs', dir, { AGENT_GRADE: '0.8', AGENT_SLEEP_MS: '150' })}
`,
    );
    const run = await cli(['run', '--config', file, '--state', state, '--for', '4s']);
    expect(run.code, run.stderr).toBe(0);
  }, 60_000);

  test('from the latest checkpoint and from the start: 0 divergences, the same final lanes', async () => {
    const store = openSqliteStore(state, { mustExist: true });
    const last = await store.journal.lastSeq();
    expect(last).toBeGreaterThan(20);
    const fromCheckpoint = await replayJournal(storeJournalSource(store.journal, state));
    expect(fromCheckpoint.begin.at).toBe('checkpoint');
    expect(fromCheckpoint.events).toBeLessThan(10);
    const store2 = openSqliteStore(state, { mustExist: true });
    const fromStart = await replayJournal(
      storeJournalSource(store2.journal, state, () => store2.close()),
      { fromStart: true },
    );
    expect([fromCheckpoint.divergences, fromStart.divergences]).toEqual([0, 0]);
    expect(fromStart.events).toBe(last);
    expect(fromCheckpoint.lanes).toEqual(fromStart.lanes);
    await store.close();
  });

  test('--until shows the lane states the running service recorded at that seq', async () => {
    const store = openSqliteStore(state, { mustExist: true });
    const entries = await store.journal.entries(1, 1000);
    await store.close();
    const until = entries[Math.floor(entries.length / 2)]!.event.seq;
    const recorded: Record<string, string> = { a: 'idle', b: 'idle' };
    for (const e of entries.filter((x) => x.event.seq <= until)) Object.assign(recorded, e.changed);
    const r = await cli(['replay', '--state', state, '--until', String(until), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as {
      events: number;
      divergences: number;
      lanes: { name: string; state: string }[];
      end: number;
    };
    expect(json.end).toBe(until);
    expect(json.divergences).toBe(0);
    expect(Object.fromEntries(json.lanes.map((l) => [l.name, l.state]))).toEqual(recorded);
    const out = await cli(['replay', '--state', state, '--until', '100000']);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/--until 100000 is outside the journal \(seq 1–\d+\)/);
  });

  test('journal export --since: a self-contained file from a checkpoint that replays like the store', async () => {
    const file = path.join(dir, 'bug.jsonl');
    const exp = await cli(['journal', 'export', '--state', state, '--since', '15', '--out', file]);
    expect(exp.code, exp.stderr).toBe(0);
    expect(exp.stdout).toMatch(/from a checkpoint\) to .*bug\.jsonl/);
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ lanekeeper_journal: 1, first_seq: 11 });
    expect(lines[1].checkpoint.seq).toBe(10);
    const r = await cli(['replay', '--journal', file, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as { divergences: number; begin: { at: string } };
    expect(json).toMatchObject({ divergences: 0, begin: { at: 'checkpoint' } });
    const src = await openJournalFile(file);
    expect((await src.bounds()).first).toBe(11);
    const bad = await cli(['journal', 'export', '--state', state, '--since', 'yesterday', '--out', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--since: expected a seq \(e\.g\. 1200\) or a duration \(e\.g\. 2h\), got "yesterday"/);
  });
});
