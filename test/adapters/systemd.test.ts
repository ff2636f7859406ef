// The systemd unit templates: the committed systemd/ files are exactly what the code renders for the
// defaults; systemd itself (systemd-analyze verify) accepts them and units with awkward real paths;
// paths with spaces, quotes, %, $ and backslashes are written by systemd's quoting rules.
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  DEFAULT_UNIT_OPTIONS,
  renderUnits,
  stopTimeoutMs,
  timespan,
  unitPathProblems,
  type UnitOptions,
} from '../../src/adapters/systemd/units.js';
import { parseConfigText } from '../../src/config/load.js';
import { STARTER_CONFIG } from '../../src/config/starter.js';
import { verifyUnits } from '../helpers/systemd-verify.js';
import { tmpDir } from '../helpers/tmp.js';

const SYSTEMD_DIR = path.resolve(import.meta.dirname, '../../systemd');

function writeUnits(opts: UnitOptions): string[] {
  const dir = tmpDir('lk-units-');
  return renderUnits(opts).map((u) => {
    const file = path.join(dir, u.name);
    writeFileSync(file, u.text);
    return file;
  });
}

const line = (text: string, key: string) => text.split('\n').filter((l) => l.startsWith(`${key}=`));

describe('the committed unit files', () => {
  test('are the templates rendered with the defaults (regenerate: node scripts/render-systemd-units.mjs)', () => {
    const rendered = renderUnits(DEFAULT_UNIT_OPTIONS);
    const committed = readdirSync(SYSTEMD_DIR)
      .filter((f) => /\.(service|timer)$/.test(f))
      .sort();
    expect(committed).toEqual(rendered.map((u) => u.name).sort());
    for (const u of rendered) expect(readFileSync(path.join(SYSTEMD_DIR, u.name), 'utf8'), u.name).toBe(u.text);
  });

  test('pass systemd-analyze verify', async () => {
    const files = readdirSync(SYSTEMD_DIR).map((f) => path.join(SYSTEMD_DIR, f));
    expect(await verifyUnits(files)).toEqual([]);
  });

  test("the defaults' graces are the schema's and the starter configuration's", () => {
    const minimal = parseConfigText(
      'lanes: [{ name: code }]\nbackends: [{ name: b, command: ["true"], models: [{ name: m }] }]\n',
      'x.yaml',
      { env: {} },
    );
    const starter = parseConfigText(STARTER_CONFIG, 'lanekeeper.yaml', { env: {} });
    for (const c of [minimal, starter])
      expect(c.sessions).toEqual({
        onRestart: 'adopt',
        drainGraceMs: DEFAULT_UNIT_OPTIONS.drainGraceMs,
        killGraceMs: DEFAULT_UNIT_OPTIONS.killGraceMs,
      });
  });
});

describe('what the units say', () => {
  const [service, tick, timer] = renderUnits(DEFAULT_UNIT_OPTIONS).map((u) => u.text) as [string, string, string];

  test('the service: restarts on failure, but not on a bad configuration; 75 is success', () => {
    expect(line(service, 'Type')).toEqual(['Type=exec']);
    expect(line(service, 'Restart')).toEqual(['Restart=on-failure']);
    expect(line(service, 'SuccessExitStatus')).toEqual(['SuccessExitStatus=75']);
    expect(line(service, 'RestartPreventExitStatus')).toEqual(['RestartPreventExitStatus=2']);
    expect(line(service, 'KillMode')).toEqual(['KillMode=control-group']);
    expect(service).toMatch(/^# MemoryMax=/m);
    expect(service).toMatch(/^# CPUQuota=/m);
    expect(line(service, 'WantedBy')).toEqual(['WantedBy=default.target']);
  });

  test('the tick: run --once from a timer every 30 minutes; busy and exhausted are not failures', () => {
    expect(line(tick, 'ExecStart')[0]).toContain(' run --once --config ');
    expect(line(tick, 'SuccessExitStatus')).toEqual(['SuccessExitStatus=75 76']);
    expect(line(timer, 'OnCalendar')).toEqual(['OnCalendar=*-*-* *:00/30:00']);
    expect(line(timer, 'RandomizedDelaySec')).toEqual(['RandomizedDelaySec=5min']);
  });

  test('the stop timeout is drain_grace + kill_grace + a margin, as a systemd time span', () => {
    expect(line(service, 'TimeoutStopSec')).toEqual(['TimeoutStopSec=6min']);
    const long = renderUnits({ ...DEFAULT_UNIT_OPTIONS, drainGraceMs: 3_600_000, killGraceMs: 45_500 })[0]!.text;
    expect(stopTimeoutMs({ drainGraceMs: 3_600_000, killGraceMs: 45_500 })).toBeGreaterThan(3_600_000 + 45_500);
    expect(line(long, 'TimeoutStopSec')).toEqual(['TimeoutStopSec=1h 1min 16s']);
    expect(timespan(0)).toBe('0s');
    expect(timespan(59_001)).toBe('1min');
  });
});

describe('quoting real paths', () => {
  const awkward: UnitOptions = {
    node: '/opt/my node %z $X/bin/node',
    cli: '/usr/lib/node_modules/lanekeeper/dist/cli/main.js',
    config: `/tmp/a b/it's "q" \\ $HOME 100%.yaml`,
    stateDir: `/tmp/a b/st "q" \\ $HOME 100%`,
    drainGraceMs: 60_000,
    killGraceMs: 5000,
  };

  test('ExecStart and Environment= follow systemd.service(5) and systemd.exec(5)', () => {
    const [service] = renderUnits(awkward);
    // The executable: % doubled, $ kept (systemd expands no variables in it); arguments: both doubled.
    expect(line(service!.text, 'ExecStart')).toEqual([
      `ExecStart="/opt/my node %%z $X/bin/node" /usr/lib/node_modules/lanekeeper/dist/cli/main.js run --config "/tmp/a b/it's \\"q\\" \\\\ $$HOME 100%%.yaml"`,
    ]);
    // Environment= is unquoted, then specifiers are expanded; variables are not.
    expect(line(service!.text, 'Environment')).toEqual([
      `Environment="LANEKEEPER_STATE=/tmp/a b/st \\"q\\" \\\\ $HOME 100%%"`,
    ]);
  });

  test('plain paths stay bare; home paths use %h, quoted', () => {
    const [service] = renderUnits({
      ...awkward,
      node: '/usr/bin/node',
      config: '/home/u/lk.yaml',
      stateDir: { home: 'my state' },
    });
    expect(line(service!.text, 'ExecStart')).toEqual([
      'ExecStart=/usr/bin/node /usr/lib/node_modules/lanekeeper/dist/cli/main.js run --config /home/u/lk.yaml',
    ]);
    expect(line(service!.text, 'Environment')).toEqual(['Environment="LANEKEEPER_STATE=%h/my state"']);
  });

  test('systemd-analyze verify accepts them, and finds the node binary behind the quoted path', async () => {
    const root = tmpDir('lk-quote-');
    // The awkward parts a wrong quoting trips over: an unknown specifier (%z), an unknown escape
    // (\q), quotes, a $ and spaces. The executable may not hold quotes or backslashes at all.
    const nodeDir = path.join(root, 'my node %z $X ;');
    const confDir = path.join(root, `conf %z "it's" \\q $X`);
    mkdirSync(nodeDir);
    mkdirSync(confDir);
    symlinkSync(process.execPath, path.join(nodeDir, 'node'));
    const files = writeUnits({
      ...awkward,
      node: path.join(nodeDir, 'node'),
      config: path.join(confDir, 'lk.yaml'),
      stateDir: path.join(confDir, 'state'),
    });
    expect(await verifyUnits(files)).toEqual([]);
  });

  test('the check fails on what systemd rejects: a missing executable, broken quoting', async () => {
    const [missing] = writeUnits({ ...awkward, node: path.join(tmpDir(), 'no node here') });
    expect((await verifyUnits([missing!])).join('\n')).toContain('is not executable');
    const broken = path.join(tmpDir(), 'broken.service');
    writeFileSync(broken, `[Service]\nExecStart=${process.execPath} "unbalanced\nEnvironment=A=%z\n`);
    expect((await verifyUnits([broken])).length).toBeGreaterThan(0);
  });

  test('paths no unit can hold are refused with the reason', () => {
    expect(
      unitPathProblems({ ...awkward, node: `/opt/it's/node`, config: 'relative.yaml', stateDir: '/tmp/new\nline' }),
    ).toEqual([
      `the node binary "/opt/it's/node" contains a quote or a backslash, which systemd does not allow in an executable's path (link it from a plain path)`,
      'the configuration file must be an absolute path, got "relative.yaml"',
      'the state directory "/tmp/new\\nline" contains a control character (a newline?), which a unit file cannot hold',
    ]);
    expect(() => renderUnits({ ...awkward, config: 'relative.yaml' })).toThrow(/must be an absolute path/);
  });
});
