// An external selector's narrow payloads, end to end: a payload that names one lane leaves the rest
// of the width to the built-in ranking (each such slot a recorded `fill` fallback) unless
// `selector.fill: none`; a fallback that repeats tick after tick is logged once per payload and
// shown once, with a count, in `status` and the local view; and when `selector.allowlist` stands
// in for a payload, `plan`, the log, `status` and the view all say so, with the reason.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { startCli } from '../helpers/run-process.js';
import { fixtureAgent, writeConfig } from '../helpers/config.js';
import { cli, tmpDir } from '../helpers/tmp.js';

const SELECTORS = path.resolve(import.meta.dirname, '../fixtures/selectors');

interface Fallback {
  step: string;
  reason: string;
}
interface StatusJson {
  sessions: { lane: string; task: string | null }[];
  decisions: {
    kind: string;
    source?: string;
    chosen: { lane: string; task: string | null }[];
    skipped?: { laneId: string; reason: string }[];
    fallbacks?: Fallback[];
  }[];
  fallbacks: (Fallback & { count: number; first_seq: number; last_seq: number })[];
}
interface LiveView {
  decisions: { line: string }[];
  fallbacks: (Fallback & { count: number })[];
}

async function statusJson(state: string): Promise<StatusJson> {
  const r = await cli(['status', '--json', '--state', state]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as StatusJson;
}

/** pino's JSON lines in a run's output. */
function logLines(output: string): { level: number; msg: string }[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; msg: string });
}

const count = (text: string, word: string) => text.split(word).length - 1;

/** `lanekeeper inspect` on a state directory; its /api/live, and the page's text in a headless Chromium. */
async function inspect(state: string): Promise<{ live: LiveView; page: string; stop: () => Promise<void> }> {
  const view = startCli(['inspect', '--state', state, '--port', '0']);
  await view.waitFor(/lanekeeper inspect: http:\/\/127\.0\.0\.1:\d+\//);
  const url = /lanekeeper inspect: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(view.output())![1]!;
  const live = (await (await fetch(`${url}api/live`)).json()) as LiveView;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(url);
    await expect.poll(() => page.locator('#fallbacks').innerText(), { timeout: 30_000, interval: 200 }).not.toBe('');
    const text = await page.locator('#decisions-panel').innerText();
    return {
      live,
      page: text,
      stop: async () => {
        view.child.kill('SIGTERM');
        await view.exited;
      },
    };
  } finally {
    await browser.close();
  }
}

describe('an external selector that names fewer lanes than the width', () => {
  test('a one-lane payload with width 3: the selector lane first, two fill fallbacks from the built-in ranking; selector.fill: none keeps one', async () => {
    const dir = tmpDir();
    const tasks = path.join(dir, 'tasks');
    mkdirSync(tasks);
    // docs and triage have ready tasks; the selector knows only code.
    writeFileSync(path.join(tasks, 'write-guide.md'), '---\nlane: docs\nstate: ready\n---\n# guide\n');
    writeFileSync(path.join(tasks, 'sort-inbox.md'), '---\nlane: triage\nstate: ready\n---\n# inbox\n');
    const config = (name: string, fill?: string) =>
      writeConfig(
        {
          width: 3,
          tasks: { dir: 'tasks' },
          selector: { command: ['{node}', path.join(SELECTORS, 'one-lane.mjs'), 'code'], timeout: '10s', fill },
          lanes: [{ name: 'code' }, { name: 'docs' }, { name: 'triage' }],
          backends: [fixtureAgent('ok.mjs', { env: { AGENT_GRADE: '0.8' } })],
        },
        { dir, name: `${name}.yaml` },
      ).file;

    const filled = path.join(dir, 'filled');
    const run = await cli(['run', '--once', '--config', config('filled'), '--state', filled]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const st = await statusJson(filled);
    expect(st.sessions.map((s) => [s.lane, s.task]).sort()).toEqual([
      ['code', null],
      ['docs', 'write-guide'],
      ['triage', 'sort-inbox'],
    ]);
    const tick = st.decisions.find((d) => d.kind === 'tick')!;
    expect(tick.source).toBe('external');
    expect(tick.chosen[0]!.lane).toBe('code');
    const fills = tick.fallbacks!.filter((f) => f.step === 'fill');
    expect(fills.map((f) => f.reason).sort()).toEqual([
      "docs: next in the built-in ranking; the selector's lanes took 1 of 3 slots (selector.fill: builtin)",
      "triage: next in the built-in ranking; the selector's lanes took 1 of 3 slots (selector.fill: builtin)",
    ]);

    const narrow = path.join(dir, 'narrow');
    const run2 = await cli(['run', '--once', '--config', config('narrow', 'none'), '--state', narrow]);
    expect(run2.code, run2.stdout + run2.stderr).toBe(0);
    const st2 = await statusJson(narrow);
    expect(st2.sessions.map((s) => s.lane)).toEqual(['code']);
    const tick2 = st2.decisions.find((d) => d.kind === 'tick')!;
    expect(tick2.fallbacks!.filter((f) => f.step === 'fill')).toEqual([]);
    expect(tick2.skipped).toEqual(
      expect.arrayContaining([
        { laneId: 'docs', reason: 'not named by the external selector' },
        { laneId: 'triage', reason: 'not named by the external selector' },
      ]),
    );

    // A value that is neither is refused, naming the place.
    const bad = await cli(['validate', '--config', config('bad', 'all')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/selector\.fill: .*"builtin".*"none"/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  test(
    'a fallback that repeats tick after tick is logged once per payload and shown once, with a count, in status and the view',
    { timeout: 120_000 },
    async () => {
      const dir = tmpDir();
      const state = path.join(dir, 'state');
      const payload = path.join(dir, 'payload.json');
      const says = (unknown: string) =>
        writeFileSync(
          payload,
          JSON.stringify({ tier: 2, selected: { category: 'code' }, alternatives: [{ category: unknown }] }),
        );
      says('novelty');
      const { file } = writeConfig(
        {
          width: 1,
          selector: { command: ['{node}', path.join(SELECTORS, 'from-file.mjs'), payload], timeout: '10s' },
          lanes: [{ name: 'code', cooldown: '0s' }],
          backends: [fixtureAgent('ok.mjs', { env: { AGENT_GRADE: '0.5' } })],
        },
        { dir },
      );
      const run = startCli(['run', '--config', file, '--state', state, '--tick', '1s']);
      const ticks = /tick at event \d+ \(external selector\)/;
      await run.waitFor(ticks, { count: 3 });
      // The same payload three ticks running: its unknown lane was logged once, at warn.
      expect(count(run.output(), 'novelty')).toBe(1);
      expect(logLines(run.output()).find((l) => l.msg.includes('novelty'))!.level).toBe(40);
      expect(
        logLines(run.output())
          .filter((l) => ticks.test(l.msg))
          .slice(1)
          .map((l) => l.msg),
      ).toEqual(
        Array(2).fill(expect.stringMatching(/1 fallback as logged at the tick at event \d+ \(same selector payload\)/)),
      );
      // Another payload is news: logged once, then quiet again.
      says('oddity');
      await run.waitFor(/oddity/);
      const seen = (run.output().match(new RegExp(ticks.source, 'g')) ?? []).length;
      await run.waitFor(ticks, { count: seen + 2 });
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(count(run.output(), 'oddity')).toBe(1);
      expect(count(run.output(), 'novelty')).toBe(1);

      // status: each fallback once, with how many ticks recorded it.
      const st = await statusJson(state);
      const novelTicks = st.decisions.filter((d) => d.fallbacks?.some((f) => f.reason.includes('novelty'))).length;
      expect(novelTicks).toBeGreaterThanOrEqual(3);
      expect(st.fallbacks).toContainEqual(
        expect.objectContaining({
          step: 'alternatives',
          reason: 'alternatives[0].category "novelty" is not a configured lane',
          count: novelTicks,
        }),
      );
      // Lines are wrapped to the width; read as one.
      const text = (await cli(['status', '--state', state])).stdout.replace(/\s+/g, ' ');
      expect(count(text, 'novelty')).toBe(1);
      expect(text).toMatch(new RegExp(`×${novelTicks} alternatives: alternatives\\[0\\]\\.category "novelty"`));

      // The view: the same tally, each fallback once in the decision panel.
      const view = await inspect(state);
      try {
        expect(view.live.fallbacks).toContainEqual(
          expect.objectContaining({
            step: 'alternatives',
            count: novelTicks,
            reason: expect.stringContaining('novelty'),
          }),
        );
        expect(count(view.page, 'novelty')).toBe(1);
        expect(view.page).toMatch(
          new RegExp(`×${novelTicks}\\s+alternatives: alternatives\\[0\\]\\.category "novelty"`),
        );
      } finally {
        await view.stop();
      }
    },
  );
});

describe('the allowlist standing in for a payload', () => {
  test(
    'plan --json, the text plan, the log (warn), status and the view say so, with the reason',
    { timeout: 120_000 },
    async () => {
      const dir = tmpDir();
      const state = path.join(dir, 'state');
      const payload = path.join(dir, 'payload.json');
      // Nothing it names is a lane here.
      writeFileSync(payload, JSON.stringify({ tier: 2, selected: { category: 'novelty' } }));
      const { file } = writeConfig(
        {
          width: 1,
          selector: { command: ['{node}', path.join(SELECTORS, 'from-file.mjs'), payload], allowlist: ['docs'] },
          lanes: [{ name: 'code' }, { name: 'docs' }],
          backends: [fixtureAgent('ok.mjs', { env: { AGENT_GRADE: '0.5' } })],
        },
        { dir },
      );
      const reason = /^the payload named no configured lane \(named: novelty\); selector\.allowlist stands in: docs$/;

      const plan = await cli(['plan', '--json', '--config', file, '--state', state, '--seed', '1']);
      expect(plan.code, plan.stderr).toBe(0);
      const planned = JSON.parse(plan.stdout) as { chosen: { lane: string }[]; fallbacks: Fallback[] };
      expect(planned.chosen.map((c) => c.lane)).toEqual(['docs']);
      expect(planned.fallbacks).toContainEqual({ step: 'allowlist', reason: expect.stringMatching(reason) });
      const planText = await cli(['plan', '--config', file, '--state', state, '--seed', '1']);
      expect(planText.stdout).toMatch(
        /fallbacks:\n(.*\n)*\s+allowlist: the payload named no configured lane \(named: novelty\); selector\.allowlist stands in: docs/,
      );

      const run = await cli(['run', '--once', '--config', file, '--state', state]);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const warned = logLines(run.stdout).filter(
        (l) => l.level === 40 && l.msg.includes('selector.allowlist stands in: docs'),
      );
      expect(warned).toHaveLength(1);
      expect(warned[0]!.msg).toMatch(/allowlist \(the payload named no configured lane/);

      const st = await statusJson(state);
      const tick = st.decisions.find((d) => d.kind === 'tick')!;
      expect(tick.chosen.map((c) => c.lane)).toEqual(['docs']);
      expect(tick.fallbacks).toContainEqual({ step: 'allowlist', reason: expect.stringMatching(reason) });
      expect(st.fallbacks).toContainEqual(expect.objectContaining({ step: 'allowlist', count: 1 }));
      const text = (await cli(['status', '--state', state])).stdout.replace(/\s+/g, ' ');
      expect(text).toMatch(
        /×1 allowlist: the payload named no configured lane \(named: novelty\); selector\.allowlist stands in: docs/,
      );

      const view = await inspect(state);
      try {
        expect(view.live.fallbacks).toContainEqual(
          expect.objectContaining({ step: 'allowlist', count: 1, reason: expect.stringMatching(reason) }),
        );
        expect(view.page).toMatch(
          /×1\s+allowlist: the payload named no configured lane \(named: novelty\); selector\.allowlist stands in: docs/,
        );
      } finally {
        await view.stop();
      }
    },
  );
});
