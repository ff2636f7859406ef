// `lanekeeper systemd print|install` as a user runs them: the units carry this installation's real
// paths (node, the package's CLI, the configuration, the state directory) and a stop timeout from
// the configuration's graces, systemd accepts them, install writes where the user manager looks,
// and a bad configuration is exit 2 with nothing written.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { verifyUnits } from '../helpers/systemd-verify.js';
import { CLI, cli, tmpDir } from '../helpers/tmp.js';

const UNITS = ['lanekeeper.service', 'lanekeeper-tick.service', 'lanekeeper-tick.timer'];

/** A valid configuration in a directory whose name needs quoting. */
function configIn(dir: string, sessions = 'sessions:\n  drain_grace: 10m\n  kill_grace: 20s\n'): string {
  const confDir = path.join(dir, 'my config');
  mkdirSync(confDir, { recursive: true });
  const file = path.join(confDir, 'lanekeeper.yaml');
  writeFileSync(
    file,
    `lanes:\n  - name: code\nbackends:\n  - name: b\n    command: ["true"]\n    models: [{ name: m }]\n${sessions}`,
  );
  return file;
}

const keyLines = (text: string, key: string) => text.split('\n').filter((l) => l.startsWith(`${key}=`));

describe('lanekeeper systemd', () => {
  test('print: the three units on stdout, each under a header naming it, with the real paths', async () => {
    const dir = tmpDir();
    const config = configIn(dir);
    const state = path.join(dir, 'state');
    const r = await cli(['systemd', 'print', '--config', config, '--state', state]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.split('\n').filter((l) => l.startsWith('# ====='))).toEqual(UNITS.map((u) => `# ===== ${u} =====`));
    expect(keyLines(r.stdout, 'ExecStart')).toEqual([
      `ExecStart=${process.execPath} ${CLI} run --config "${config}"`,
      `ExecStart=${process.execPath} ${CLI} run --once --config "${config}"`,
    ]);
    expect(keyLines(r.stdout, 'Environment')).toEqual([
      `Environment=LANEKEEPER_STATE=${state}`,
      `Environment=LANEKEEPER_STATE=${state}`,
    ]);
    // drain_grace 10m + kill_grace 20s + the 30s margin.
    expect(keyLines(r.stdout, 'TimeoutStopSec')).toEqual(['TimeoutStopSec=10min 50s', 'TimeoutStopSec=10min 50s']);
  });

  test('print --out: one file per unit, which systemd-analyze verify accepts', async () => {
    const dir = tmpDir();
    const config = configIn(dir, `state_dir: ${JSON.stringify(path.join(dir, 'my state'))}\n`);
    const outDir = path.join(dir, 'units');
    // A relative --config is made absolute; the state directory comes from the file.
    const r = await cli(['systemd', 'print', '--out', 'units', '--config', path.relative(dir, config)], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(UNITS.map((u) => `wrote ${path.join(outDir, u)}\n`).join(''));
    const service = readFileSync(path.join(outDir, 'lanekeeper.service'), 'utf8');
    expect(keyLines(service, 'ExecStart')).toEqual([`ExecStart=${process.execPath} ${CLI} run --config "${config}"`]);
    expect(keyLines(service, 'Environment')).toEqual([`Environment="LANEKEEPER_STATE=${path.join(dir, 'my state')}"`]);
    expect(keyLines(service, 'TimeoutStopSec')).toEqual(['TimeoutStopSec=6min']);
    expect(await verifyUnits(UNITS.map((u) => path.join(outDir, u)))).toEqual([]);
  });

  test('install: writes to $XDG_CONFIG_HOME/systemd/user and says what to run next; never overwrites an edit without --force', async () => {
    const dir = tmpDir();
    const config = configIn(dir);
    const xdg = path.join(dir, 'xdg');
    const unitDir = path.join(xdg, 'systemd', 'user');
    const env = { XDG_CONFIG_HOME: xdg };
    const r = await cli(['systemd', 'install', '--user', '--config', config, '--state', path.join(dir, 'state')], {
      env,
    });
    expect(r.code).toBe(0);
    for (const u of UNITS) expect(r.stdout).toContain(`wrote ${path.join(unitDir, u)}\n`);
    expect(r.stdout).toContain('systemctl --user daemon-reload\n');
    expect(r.stdout).toContain('systemctl --user enable --now lanekeeper.service');
    expect(r.stdout).toContain('systemctl --user enable --now lanekeeper-tick.timer');
    const printed = await cli(['systemd', 'print', '--config', config, '--state', path.join(dir, 'state')]);
    const installed = UNITS.map((u) => `# ===== ${u} =====\n${readFileSync(path.join(unitDir, u), 'utf8')}`).join('\n');
    expect(installed).toBe(printed.stdout);
    expect(await verifyUnits(UNITS.map((u) => path.join(unitDir, u)))).toEqual([]);

    const again = await cli(['systemd', 'install', '--config', config, '--state', path.join(dir, 'state')], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`unchanged ${path.join(unitDir, 'lanekeeper.service')}\n`);

    const service = path.join(unitDir, 'lanekeeper.service');
    writeFileSync(service, readFileSync(service, 'utf8').replace('# MemoryMax=8G', 'MemoryMax=4G'));
    const refused = await cli(['systemd', 'install', '--config', config, '--state', path.join(dir, 'other-state')], {
      env,
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      `lanekeeper: ${service}, ${path.join(unitDir, 'lanekeeper-tick.service')} already exist with other content; pass --force to overwrite (compare with "lanekeeper systemd print")\n`,
    );
    expect(readFileSync(service, 'utf8')).toContain('MemoryMax=4G');
    const forced = await cli(
      ['systemd', 'install', '--force', '--config', config, '--state', path.join(dir, 'other-state')],
      { env },
    );
    expect(forced.code).toBe(0);
    expect(readFileSync(service, 'utf8')).not.toContain('MemoryMax=4G');
    expect(readFileSync(service, 'utf8')).toContain(`LANEKEEPER_STATE=${path.join(dir, 'other-state')}`);
  });

  test('install without XDG_CONFIG_HOME: ~/.config/systemd/user', async () => {
    const dir = tmpDir();
    const config = configIn(dir);
    const r = await cli(['systemd', 'install', '--config', config], {
      env: { XDG_CONFIG_HOME: undefined, HOME: dir, XDG_STATE_HOME: undefined },
    });
    expect(r.code).toBe(0);
    for (const u of UNITS) expect(existsSync(path.join(dir, '.config', 'systemd', 'user', u))).toBe(true);
    // The state directory the configuration resolves to with this HOME.
    expect(readFileSync(path.join(dir, '.config', 'systemd', 'user', 'lanekeeper.service'), 'utf8')).toContain(
      `LANEKEEPER_STATE=${path.join(dir, '.local', 'state', 'lanekeeper')}`,
    );
  });

  test('a bad or missing configuration: exit 2 with its problems, nothing written', async () => {
    const dir = tmpDir();
    const bad = path.join(dir, 'lk.yaml');
    writeFileSync(bad, 'lanes:\n  - name: code\n    cooldown: soon\nbackends: []\n');
    const xdg = path.join(dir, 'xdg');
    for (const args of [['print'], ['print', '--out', path.join(dir, 'units')], ['install']]) {
      const r = await cli(['systemd', ...args, '--config', bad], { env: { XDG_CONFIG_HOME: xdg } });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `${bad}: 2 problems\n  line 3: lanes[0].cooldown: expected a duration like "180s", got "soon"\n  line 4: backends: needs at least 1 entry\n`,
      );
    }
    expect(existsSync(path.join(dir, 'units'))).toBe(false);
    expect(existsSync(xdg)).toBe(false);
    const missing = await cli(['systemd', 'install'], { cwd: dir, env: { XDG_CONFIG_HOME: xdg } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('lanekeeper.yaml: cannot read configuration: no such file');
  });
});
