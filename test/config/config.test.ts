import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { demoConfigYaml } from '../../src/config/demo.js';
import { loadConfig, parseConfigText } from '../../src/config/load.js';
import { STARTER_CONFIG } from '../../src/config/starter.js';
import { ConfigError } from '../../src/errors.js';
import { DEFAULT_DETECTOR, DEFAULT_FORGETTING } from '../../src/policy/posterior.js';
import { selectionFromConfig } from '../../src/runtime/selection.js';
import { tmpDir } from '../helpers/tmp.js';

const env = { HOME: '/home/u' };
const parse = (text: string) => parseConfigText(text, 'lanekeeper.yaml', { env });

const MINIMAL = `
lanes:
  - name: code
backends:
  - name: claude-code
    command: [claude, -p, "{prompt}"]
    models: [{ name: sonnet }]
`;

function problems(text: string): string[] {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('configuration', () => {
  test('a minimal file gets every default', () => {
    const c = parse(MINIMAL);
    expect(c.width).toBe(3);
    expect(c.schedule).toEqual({ intervalMs: 30 * 60_000, jitterMs: 120_000, tickOnStart: true });
    expect(c.lanes[0]).toMatchObject({
      name: 'code',
      enabled: true,
      concurrency: 1,
      cooldownMs: 180_000,
      respawnThreshold: 0.65,
      chainLimit: 1,
      timeoutMs: 65 * 60_000,
      parallel: true,
      targetShare: null,
      arms: ['claude-code:sonnet'],
    });
    expect(c.arms).toEqual([
      {
        id: 'claude-code:sonnet',
        backend: 'claude-code',
        model: 'sonnet',
        command: ['claude', '-p', '{prompt}'],
        env: {},
        cwd: null,
        tier: 1,
        cost: 0,
        replaces: null,
        quota: null,
        restAfterFailureMs: 30 * 60_000,
      },
    ]);
    expect(c.stateDir).toBe('/home/u/.local/state/lanekeeper');
    expect(Object.isFrozen(c.lanes[0])).toBe(true);
  });

  test('the starter and the demo configurations are valid', () => {
    expect(parse(STARTER_CONFIG).lanes.map((l) => l.name)).toEqual(['code', 'triage', 'cleanup']);
    const demo = parse(demoConfigYaml('/x/agent.js'));
    expect(demo.lanes.map((l) => l.name)).toEqual([
      'code',
      'triage',
      'content',
      'research',
      'infrastructure',
      'cleanup',
    ]);
    expect(demo.arms.map((a) => a.id)).toEqual(['sim-fast:small', 'sim-deep:large']);
    expect(demo.demo).toBe(true);
  });

  test('durations: "180s", "65m", "2h"; anything else is named precisely', () => {
    const c = parse(MINIMAL.replace('  - name: code', '  - name: code\n    cooldown: 2h\n    timeout: 65m'));
    expect(c.lanes[0]!.cooldownMs).toBe(7_200_000);
    expect(c.lanes[0]!.timeoutMs).toBe(3_900_000);
    const text = `
lanes:
  - name: a
  - name: b
  - name: c
    cooldown: 3 minutes
backends:
  - name: x
    command: [x]
    models: [{ name: m }]
`;
    expect(problems(text)).toEqual(['line 6: lanes[2].cooldown: expected a duration like "180s", got "3 minutes"']);
  });

  test('every kind of mistake gives its own message with its place', () => {
    const text = `
width: 0
colour: blue
lanes:
  - name: Code
    concurrency: 1.5
    respawn: { threshold: 1.4 }
    arms: [nope:nothing]
    parallel: sometimes
  - name: triage
    target_share: 0.7
  - name: triage
    target_share: 0.6
backends:
  - name: b
    command: "claude -p"
    models: []
  - name: c
    command: [c, "{promt}"]
    models: [{ name: m }]
`;
    expect(problems(text)).toEqual([
      'line 2: width: expected at least 1, got 0',
      'line 5: lanes[0].name: a lane name must be lowercase letters, digits, "-" or "_", starting with a letter or digit, got "Code"',
      'line 6: lanes[0].concurrency: expected a whole number, got 1.5',
      'line 7: lanes[0].respawn.threshold: expected at most 1, got 1.4',
      'line 9: lanes[0].parallel: expected true or false, got "sometimes"',
      'line 16: backends[0].command: expected a list, got "claude -p"',
      'line 17: backends[0].models: needs at least 1 entry',
      'line 19: backends[1].command[1]: unknown placeholder {promt} (known: {prompt}, {lane}, {session_id}, {model}, {backend}, {arm}, {node}, {state}, {task_id}, {task_file})',
      'line 3: colour: unknown key',
    ]);
  });

  test('cross-checks: duplicate names, unknown arms, shares over 1', () => {
    const text = `
lanes:
  - name: code
    target_share: 0.7
    arms: [x:nope]
  - name: code
    target_share: 0.6
backends:
  - name: x
    command: [x]
    models: [{ name: m }, { name: m }]
`;
    expect(problems(text)).toEqual([
      'line 6: lanes[1].name: duplicate lane "code" (also lanes[0])',
      'line 11: backends[0].models[1].name: duplicate model "m" in backend "x"',
      'line 5: lanes[0].arms[0]: unknown arm "x:nope" (known: x:m, x:m)',
      'line 2: lanes: target shares add up to 1.3; together they must not exceed 1',
    ]);
  });

  test('selection settings: allowlist lanes, rising load thresholds, placeholders a selector can get', () => {
    const rest = `lanes: [{ name: code }]
backends: [{ name: x, command: [x], models: [{ name: m }] }]
`;
    expect(problems(`selector: { command: [cascade, "{lane}", "{state}/x"] }\n${rest}`)).toEqual([
      'line 1: selector.command[1]: placeholder {lane} is not known here (known: {node}, {state})',
    ]);
    const text = `
selector:
  allowlist: [code, code, nope]
resources: { width2_load: 0.8, width1_load: 0.7 }
${rest}`;
    expect(problems(text)).toEqual([
      'line 3: selector.allowlist[1]: "code" is listed twice',
      'line 3: selector.allowlist[2]: unknown lane "nope" (known: code)',
      'line 4: resources: load thresholds must rise: width2_load (0.8) ≤ width1_load (0.7) ≤ skip_load (0.9)',
    ]);
  });

  test('forgetting: the tuned defaults, each part switchable', () => {
    const rest = 'lanes: [{ name: code }]\nbackends: [{ name: x, command: [x], models: [{ name: m }] }]\n';
    const forgetting = (yaml: string) => selectionFromConfig(parse(`${yaml}\n${rest}`)).forgetting;
    expect(forgetting('')).toEqual(DEFAULT_FORGETTING);
    expect(
      forgetting('selector: { forgetting: { per_pull: 0.98, idle: 0.999, stale_after: never, detector: false } }'),
    ).toEqual({
      pullDecay: 0.98,
      idleDecay: 0.999,
      staleAfter: null,
      detector: null,
    });
    expect(forgetting('selector: { forgetting: { stale_after: 300, detector: { threshold: 12 } } }')).toMatchObject({
      staleAfter: 300,
      detector: { ...DEFAULT_DETECTOR, threshold: 12 },
    });
    expect(problems(`selector: { forgetting: { per_pull: 1.5, stale_after: sometimes } }\n${rest}`)).toEqual([
      'line 1: selector.forgetting.per_pull: expected at most 1, got 1.5',
      'line 1: selector.forgetting.stale_after: expected a whole number of graded sessions (at least 1), or never, got "sometimes"',
    ]);
  });

  test('missing sections and invalid YAML', () => {
    expect(problems('width: 2\n')).toEqual([
      'line 1: lanes: required a list is missing',
      'line 1: backends: required a list is missing',
    ]);
    expect(problems('lanes: [\n')[0]).toMatch(/^line \d+, column \d+: invalid YAML: /);
    expect(problems('- a\n- b\n')).toEqual(['the file must hold a mapping of settings (lanes:, backends:, …)']);
  });

  test('files: missing, unreadable; the state directory: --state beats LANEKEEPER_STATE beats the file', () => {
    const dir = tmpDir();
    expect(() => loadConfig({ file: path.join(dir, 'none.yaml'), env })).toThrow(
      /none\.yaml: cannot read configuration: no such file/,
    );
    const file = path.join(dir, 'lk.yaml');
    writeFileSync(file, `state_dir: ~/lk-state\n${MINIMAL}`);
    expect(loadConfig({ file, env }).stateDir).toBe('/home/u/lk-state');
    expect(loadConfig({ file, env: { ...env, LANEKEEPER_STATE: '/s/env' } }).stateDir).toBe('/s/env');
    expect(loadConfig({ file, env: { ...env, LANEKEEPER_STATE: '/s/env' }, stateDir: '/s/flag' }).stateDir).toBe(
      '/s/flag',
    );
  });
});

test('a lock file is exclusive, so its lane cannot run two sessions at once', () => {
  expect(
    problems(MINIMAL.replace('  - name: code', '  - name: code\n    concurrency: 2\n    lock_file: /tmp/code.lock')),
  ).toEqual(['line 5: lanes[0].lock_file: a lock_file allows one session at a time; this lane has concurrency 2']);
});

describe('duration bounds', () => {
  test('intervals and leases cannot be zero; nothing can outlast a timer', () => {
    const text = `
schedule: { interval: 0s }
claims: { lane_ttl: 1s }
lanes:
  - name: code
    cooldown: 30d
backends:
  - name: x
    command: [x]
    models: [{ name: m }]
`;
    expect(problems(text)).toEqual([
      'line 2: schedule.interval: expected at least 1s, got "0s"',
      'line 3: claims.lane_ttl: expected at least 3s, got "1s"',
      'line 6: lanes[0].cooldown: expected at most 24 days, got "30d"',
    ]);
  });
});

describe('journal retention', () => {
  test('off unless journal.keep is set; archive_dir is taken from the file’s directory', () => {
    expect(parse(MINIMAL).journal).toEqual({ keepMs: null, archiveDir: null });
    const c = parseConfigText(`journal: { keep: 90d, archive_dir: archive }\n${MINIMAL}`, '/etc/lk/lanekeeper.yaml', {
      env,
    });
    expect(c.journal).toEqual({ keepMs: 90 * 86_400_000, archiveDir: '/etc/lk/archive' });
    expect(parse(`journal: { keep: 36h, archive_dir: ~/lk-archive }\n${MINIMAL}`).journal).toEqual({
      keepMs: 36 * 3_600_000,
      archiveDir: '/home/u/lk-archive',
    });
  });

  test('a bad value is one problem naming the key', () => {
    expect(problems(`journal: { keep: 10m }\n${MINIMAL}`)).toEqual([
      'line 1: journal.keep: expected at least 1h, got "10m"',
    ]);
    expect(problems(`journal: { keep: 20y }\n${MINIMAL}`)).toEqual([
      'line 1: journal.keep: expected a duration like "180s", got "20y"',
    ]);
    expect(problems(`journal: { keep: 4000d }\n${MINIMAL}`)).toEqual([
      'line 1: journal.keep: expected at most 3650d, got "4000d"',
    ]);
    expect(problems(`journal: { archive_dir: "" }\n${MINIMAL}`)).toEqual([
      'line 1: journal.archive_dir: expected at least 1, got ""',
    ]);
    expect(problems(`journal: { kept: 90d }\n${MINIMAL}`)).toEqual(['line 1: journal.kept: unknown key']);
  });
});
