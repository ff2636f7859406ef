// The local view (`lanekeeper inspect`) in a real headless Chromium (Debian's, driven by
// playwright-core; no browser is downloaded): beside a real `lanekeeper run` whose agents hold
// their lanes in `running` until the test opens their gate, the page loads with nothing from the
// network, shows every lane, lights the state each lane is in and follows it when it changes; then,
// the run over, stepping through its journal moves the light from `idle` to `claiming` to
// `running` and back. Beside a running demo, its six lanes each light the state lanekeeper
// reports for them. Without Chromium the two browser tests are skipped with the reason (or fail,
// with LANEKEEPER_REQUIRE_BROWSER=1: test/helpers/browser.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, expect, test } from 'vitest';
import { browserTest, CHROMIUM } from '../helpers/browser.js';
import { fixtureAgent, writeConfig } from '../helpers/config.js';
import { AGENTS, CLI, cli, tmpDir } from '../helpers/tmp.js';

/** The one browser function the test calls in the page (the test is compiled without the DOM's types). */
type Window = { getComputedStyle(element: unknown): { fill: string } };
const WAIT = { timeout: 30_000, interval: 200 };
const children: ChildProcess[] = [];
let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** The built CLI as a child of this test (killed after it, if still running). */
function spawnCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LANEKEEPER_STATE: undefined, ...env },
  });
  children.push(child);
  return child;
}

/** A journal file to view on its own. */
const JOURNAL = path.join(AGENTS, '..', 'journals', 'demo.jsonl');

/** Starts the built CLI; resolves with the process and its output so far once `ready` matches its stdout. */
function start(
  args: string[],
  ready: RegExp,
  opts: { count?: number; env?: Record<string, string> } = {},
): Promise<{ child: ChildProcess; match: RegExpMatchArray; output: () => string; exited: Promise<number | null> }> {
  const count = opts.count ?? 1;
  const child = spawnCli(args, opts.env);
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`lanekeeper ${args[0]} did not print ${ready} in 30s:\n${out}\n${err}`)),
      30_000,
    );
    const check = () => {
      const all = [...out.matchAll(new RegExp(ready.source, 'g'))];
      if (all.length >= count) {
        clearTimeout(timer);
        resolve({ child, match: all[count - 1]!, output: () => out + err, exited });
      }
    };
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      check();
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`lanekeeper ${args[0]} exited (${code}) before printing ${ready}:\n${out}\n${err}`));
    });
  });
}

/** Chromium (Debian's, or LANEKEEPER_TEST_CHROMIUM), headless, with nothing of its own that reaches the network. */
async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A browser context in which anything not asked of an inspect server (`ours`: a URL on 127.0.0.1)
 * is refused and remembered in `elsewhere`; `watch` also remembers a page's errors and sockets.
 */
async function guardedContext(b: Browser, ours: (url: string) => boolean) {
  // The server's Content-Security-Policy would stop a stray request silently, before the network;
  // bypassed here, so that anything the page tries reaches the route below and is seen.
  const context = await b.newContext({ bypassCSP: true });
  const elsewhere: string[] = [];
  const local = (u: string) => /^http:\/\/127\.0\.0\.1:\d+\//.test(u) && ours(u);
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (local(u)) return route.continue();
    elsewhere.push(u);
    return route.abort();
  });
  context.on('request', (r) => {
    if (!local(r.url()) && !r.url().startsWith('data:')) elsewhere.push(r.url());
  });
  const errors: string[] = [];
  const watch = (p: Page) => {
    p.on('websocket', (ws) => elsewhere.push(ws.url()));
    p.on('pageerror', (e) => errors.push(e.message));
    p.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    return p;
  };
  return { context, elsewhere, errors, watch };
}

/** The state path lit in a lane's chart (the innermost highlighted state), or null. */
const lit = (page: Page, lane: string) =>
  page
    .locator(`[data-lane="${lane}"] .chart .state.current`)
    .getAttribute('data-state', { timeout: 1000 })
    .catch(() => null);

browserTest(
  'the local view: no network, every lane, the current state lit and followed live; stepping a journal moves the light',
  { timeout: 180_000 },
  async () => {
    const dir = tmpDir('lk-view-');
    const state = path.join(dir, 'state');
    const gates = path.join(dir, 'gates');
    mkdirSync(gates);
    const { file: config } = writeConfig(
      {
        width: 2,
        sessions: { kill_grace: '1s', drain_grace: '5s' },
        lanes: [
          { name: 'alpha', cooldown: '1h' },
          { name: 'beta', cooldown: '1h' },
        ],
        backends: [fixtureAgent('gate.mjs', { model: 'gate', env: { AGENT_GATE_DIR: gates, AGENT_GRADE: '0.3' } })],
      },
      { dir },
    );
    // The first tick starts one session per lane; each waits for its gate.
    const run = await start(['run', '--config', config, '--state', state], / started on fixture:gate/, { count: 2 });
    const inspect = await start(
      ['inspect', '--state', state, '--port', '0'],
      /lanekeeper inspect: (http:\/\/127\.0\.0\.1:\d+\/)/,
    );
    const url = inspect.match[1]!;
    const origin = new URL(url).origin;

    browser = await launch();
    let journalOrigin = origin;
    const { context, elsewhere, errors, watch } = await guardedContext(browser, (u) =>
      [origin, journalOrigin].some((o) => u.startsWith(`${o}/`)),
    );
    const page = watch(await context.newPage());

    const response = await page.goto(url);
    expect(response!.headers()['content-security-policy']).toContain("default-src 'none'");
    // Every lane has its chart, and each lights the state it is in: both sessions are running.
    await expect
      .poll(() => page.locator('[data-lane] h3 > span:first-child').allTextContents(), WAIT)
      .toEqual(['alpha', 'beta']);
    await expect.poll(() => lit(page, 'alpha'), WAIT).toBe('running');
    await expect.poll(() => lit(page, 'beta'), WAIT).toBe('running');
    // The light is something a person sees: the state's box is filled with the highlight colour, the others are not.
    const fill = (lane: string, state: string) =>
      page
        .locator(`[data-lane="${lane}"] [data-state="${state}"] > path`)
        .first()
        .evaluate((e) => (globalThis as unknown as Window).getComputedStyle(e).fill);
    expect(await fill('alpha', 'running')).toBe('rgb(255, 212, 59)');
    expect(await fill('alpha', 'idle')).toBe('rgb(255, 255, 255)');
    // The panels show the running sessions, the claims they hold, the decision that started them, the events.
    await expect
      .poll(() => page.locator('#sessions tbody').innerText(), WAIT)
      .toMatch(/alpha-\d+\s+alpha\s+fixture:gate\s+tick/);
    await expect.poll(() => page.locator('#claims tbody').innerText(), WAIT).toMatch(/lane:alpha[\s\S]*lane:beta/);
    await expect
      .poll(() => page.locator('#decisions').innerText(), WAIT)
      .toMatch(/tick at event \d+: → (alpha|beta) 1\.00, (alpha|beta) 1\.00/);
    await expect.poll(() => page.locator('#events tbody').innerText(), WAIT).toContain('SESSION_STARTED');
    // A running session shows how long it has run, and the time goes on (from milliseconds to seconds).
    await expect
      .poll(() => page.locator('#sessions tbody tr td:last-child').first().innerText(), WAIT)
      .toMatch(/^[1-9]\d*s$/);
    // The decision shows each chosen lane's score components, not only its total.
    const components = await page.locator('#decisions .components').allInnerTexts();
    expect(components.map((c) => c.replace(/\s+/g, ' ').trim()).sort()).toEqual([
      expect.stringMatching(/^alpha 1\.00 sample [\d.]+ mean [\d.]+( \w+ -?[\d.]+)+$/),
      expect.stringMatching(/^beta 1\.00 sample [\d.]+ mean [\d.]+( \w+ -?[\d.]+)+$/),
    ]);

    // With the server's Content-Security-Policy in force, as in a user's browser, the page works and
    // breaks none of it (a violation would be a console error).
    const strict = await browser.newPage();
    const violations: string[] = [];
    strict.on('console', (m) => {
      if (m.type() === 'error') violations.push(m.text());
    });
    await strict.goto(url);
    await expect.poll(() => lit(strict, 'beta'), WAIT).toBe('running');
    await strict.close();
    expect(violations).toEqual([]);

    // alpha's agent finishes: the light follows it to cooldown; beta stays running.
    writeFileSync(path.join(gates, 'alpha'), '');
    await expect.poll(() => lit(page, 'alpha'), WAIT).toBe('cooldown');
    expect(await lit(page, 'beta')).toBe('running');
    await expect.poll(() => page.locator('#posteriors').innerText(), WAIT).toMatch(/alpha\s*0\.65 · n 1\.0/);
    // The arm that ran it learned the grade too: in alpha, and across lanes.
    expect(await page.locator('#posteriors').innerText()).toMatch(
      /arms, all lanes\s*fixture:gate\s*0\.\d\d · n 1\.0[\s\S]*arms in alpha\s*fixture:gate\s*0\.\d\d · n 1\.0/,
    );
    writeFileSync(path.join(gates, 'beta'), '');
    await expect.poll(() => lit(page, 'beta'), WAIT).toBe('cooldown');

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);

    // Replay made visible: the journal of that run, event by event.
    await page.click('#mode-journal');
    await expect.poll(() => page.locator('#step-position').innerText(), WAIT).toMatch(/^event 1 of \d+/);
    const total = Number(/of (\d+)/.exec(await page.locator('#step-position').innerText())![1]);
    expect(await lit(page, 'alpha')).toBe('idle');
    const stepped: { path: string; taken: string | null }[] = [];
    for (let i = 1; i < total && !(stepped.at(-1)?.path ?? '').startsWith('running'); i++) {
      await page.click('#step-next');
      await expect
        .poll(() => page.locator('#step-position').innerText(), WAIT)
        .toMatch(new RegExp(`^event ${i + 1} of`));
      const taken = page.locator('[data-lane="alpha"] .transition.taken');
      stepped.push({
        path: (await lit(page, 'alpha')) ?? '',
        taken: (await taken.count()) ? await taken.getAttribute('data-transition') : null,
      });
    }
    // From idle the light went to claiming (the lane slot asked for), along the edge it took, then to running.
    expect(stepped.find((s) => s.path === 'claiming.slot')).toEqual({ path: 'claiming.slot', taken: 'idle->claiming' });
    expect(stepped.at(-1)!.path).toBe('running.session');
    expect(await page.locator('#step-event').innerText()).toMatch(
      /CLAIM_GRANTED — alpha: lane:alpha granted to alpha-\d+/,
    );
    // The compound state around it is lit too.
    expect(await page.locator('[data-lane="alpha"] [data-state="running"]').getAttribute('class')).toContain('active');
    // Back one event: the light goes back.
    await page.click('#step-prev');
    await expect.poll(() => lit(page, 'alpha'), WAIT).toBe(stepped.at(-2)!.path);
    // The last event: both lanes rest in cooldown, as the run left them.
    await page.click('#step-last');
    await expect
      .poll(() => page.locator('#step-position').innerText(), WAIT)
      .toMatch(new RegExp(`^event ${total} of ${total}`));
    expect([await lit(page, 'alpha'), await lit(page, 'beta')]).toEqual(['cooldown', 'cooldown']);

    // A page elsewhere that rebinds its own name to 127.0.0.1 cannot read the view: wrong Host, 403.
    const rebound = await new Promise<number>((resolve, reject) => {
      http
        .get(`${url}api/live`, { headers: { Host: 'rebound.example:80' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject);
    });
    expect(rebound).toBe(403);
    await page.close();
    inspect.child.kill('SIGINT');
    expect(await inspect.exited).toBe(0);

    // The run's journal exported, as for a bug report, and viewed on its own: no state directory, so
    // the page opens on the journal, and stepping to its end shows where the run left the lanes.
    const file = path.join(dir, 'journal.jsonl');
    expect((await cli(['journal', 'export', '--state', state, '--out', file])).code).toBe(0);
    const nowhere = path.join(dir, 'xdg');
    const fileView = await start(
      ['inspect', '--journal', file, '--port', '0'],
      /lanekeeper inspect: (http:\/\/127\.0\.0\.1:\d+\/)/,
      { env: { XDG_STATE_HOME: nowhere } },
    );
    expect(fileView.output()).toContain('no state directory: journal only');
    journalOrigin = new URL(fileView.match[1]!).origin;
    const filePage = watch(await context.newPage());
    await filePage.goto(fileView.match[1]!);
    await expect
      .poll(() => filePage.locator('#step-position').innerText(), WAIT)
      .toMatch(new RegExp(`^event 1 of ${total} · ${file.replaceAll('.', '\\.')}`));
    expect(await filePage.locator('#mode-live').isDisabled()).toBe(true);
    expect(await lit(filePage, 'alpha')).toBe('idle');
    await filePage.keyboard.press('End');
    await expect.poll(() => lit(filePage, 'alpha'), WAIT).toBe('cooldown');
    expect(await lit(filePage, 'beta')).toBe('cooldown');
    await filePage.close();
    fileView.child.kill('SIGTERM');
    expect(await fileView.exited).toBe(0);

    expect(elsewhere).toEqual([]);
    expect(errors).toEqual([]);
  },
);

browserTest(
  'a running demo in the local view: its six lanes, each lit in the state lanekeeper reports, followed as sessions run',
  { timeout: 120_000 },
  async () => {
    const dir = tmpDir('lk-view-demo-');
    const state = path.join(dir, 'state');
    const run = await start(['run', '--demo', '--for', '60s', '--tick', '3s', '--state', state], / started on sim-/, {
      env: { DEMO_AGENT_WORK: '2s-4s', DEMO_AGENT_FAIL_RATE: '0' },
    });
    const inspect = await start(
      ['inspect', '--state', state, '--port', '0'],
      /lanekeeper inspect: (http:\/\/127\.0\.0\.1:\d+\/)/,
    );
    const url = inspect.match[1]!;
    browser ??= await launch();
    const { context, elsewhere, errors, watch } = await guardedContext(browser, (u) =>
      u.startsWith(`${new URL(url).origin}/`),
    );
    const page = watch(await context.newPage());
    await page.goto(url);
    const lanes = ['code', 'triage', 'content', 'research', 'infrastructure', 'cleanup'];
    await expect
      .poll(async () => (await page.locator('[data-lane] h3 > span:first-child').allTextContents()).sort(), WAIT)
      .toEqual([...lanes].sort());

    // Each lane's chart lights the state lanekeeper reports for it (status --json reads the same
    // store). Both move on as sessions run, so they are read until one reading agrees while the lanes
    // are in at least two different states: a light stuck in one state, or shown on another lane's
    // chart, never agrees then.
    const disagreement = async () => {
      const status = JSON.parse((await cli(['status', '--json', '--state', state])).stdout) as {
        lanes: { name: string; state: string }[];
      };
      const shown = await Promise.all(lanes.map(async (l) => ((await lit(page, l)) ?? 'none').split('.')[0]));
      const reported = lanes.map((l) => status.lanes.find((x) => x.name === l)?.state ?? 'none');
      return JSON.stringify(shown) === JSON.stringify(reported) && new Set(reported).size >= 2
        ? null
        : { shown, reported };
    };
    await expect.poll(disagreement, { timeout: 45_000, interval: 300 }).toBeNull();

    // A lane seen running is followed to its cooldown once its session is graded.
    let busy: string | undefined;
    await expect
      .poll(
        async () =>
          (busy =
            (await Promise.all(lanes.map(async (l) => ((await lit(page, l)) === 'running' ? l : null)))).find(
              Boolean,
            ) ?? undefined),
        WAIT,
      )
      .toBeDefined();
    await expect.poll(() => lit(page, busy!), WAIT).toBe('cooldown');

    await page.close();
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    inspect.child.kill('SIGTERM');
    expect(await inspect.exited).toBe(0);
    expect(elsewhere).toEqual([]);
    expect(errors).toEqual([]);
  },
);

test('inspect serves on 127.0.0.1:4180 unless told otherwise (or says that port is taken)', async () => {
  const view = spawnCli(['inspect', '--journal', JOURNAL], { XDG_STATE_HOME: path.join(tmpDir('lk-view-'), 'xdg') });
  let out = '';
  view.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  view.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const code = new Promise<number | null>((resolve) => view.on('exit', (c) => resolve(c)));
  await expect
    .poll(() => out, WAIT)
    .toMatch(/lanekeeper inspect: http:\/\/127\.0\.0\.1:4180\/|127\.0\.0\.1:4180 is in use/);
  if (out.includes('is in use')) expect(await code).toBe(2);
  else {
    view.kill('SIGTERM');
    expect(await code).toBe(0);
  }
});

test('inspect stopped the moment it prints its address exits cleanly (a supervisor may stop it at once)', async () => {
  const exits: (number | string | null)[] = [];
  // Five times: the stop races the line, and before the fix about half the runs lost.
  for (let i = 0; i < 5; i++) {
    const view = spawnCli(['inspect', '--journal', JOURNAL, '--port', '0'], {
      XDG_STATE_HOME: path.join(tmpDir('lk-view-'), 'xdg'),
    });
    view.stdout!.once('data', () => view.kill('SIGTERM'));
    exits.push(await new Promise((resolve) => view.on('exit', (code, signal) => resolve(code ?? signal))));
  }
  expect(exits).toEqual([0, 0, 0, 0, 0]);
});

test('inspect refuses what it cannot serve, with the reason', async () => {
  const dir = tmpDir('lk-view-');
  const missing = await cli(['inspect', '--state', path.join(dir, 'nothing'), '--port', '0']);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain(`no lanekeeper database at ${path.join(dir, 'nothing', 'lanekeeper.db')}`);
  const port = await cli(['inspect', '--state', dir, '--port', '70000']);
  expect(port.code).toBe(2);
  expect(port.stderr).toContain('expected a port from 0 to 65535');
  const journal = await cli(['inspect', '--journal', path.join(dir, 'none.jsonl'), '--port', '0']);
  expect(journal.code).toBe(2);
  expect(journal.stderr).toContain(`${path.join(dir, 'none.jsonl')}: no such file`);
});
