// The end-to-end tests' lanekeeper.yaml, as an object in the file's own keys (snake_case, as users
// write them) instead of a YAML template string. The preamble the tests share (a tick every hour
// without jitter, the resource gate off) is filled in unless a test says otherwise; the rest is
// written as given, so what a test configures is what the file holds.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Document, stringify, visit } from 'yaml';
import { AGENTS, tmpDir } from './tmp.js';

/** A duration as the file writes it: "180s", "65m", "2h". */
export type Duration = string;

export interface LaneConfig {
  name: string;
  enabled?: boolean;
  concurrency?: number;
  cooldown?: Duration;
  timeout?: Duration;
  respawn?: { threshold?: number; chain_limit?: number };
  target_share?: number;
  arms?: string[];
  min_tier?: number;
  max_tier?: number;
  prompt?: string;
  cwd?: string;
  lock_file?: string;
  [key: string]: unknown;
}

export interface BackendConfig {
  name: string;
  command: string[];
  cwd?: string;
  env?: Record<string, string>;
  models: { name: string; tier?: number; [key: string]: unknown }[];
  quota?: { command: string[]; [key: string]: unknown };
  rest_after_failure?: Duration;
  [key: string]: unknown;
}

/** lanekeeper.yaml as a test writes it; keys it does not name are written as given. */
export interface TestConfig {
  store?: string;
  width?: number;
  checkpoint_every?: number;
  /** Default: `{ interval: 1h, jitter: 0s }`; a jitter left out is 0s. */
  schedule?: { interval?: Duration; jitter?: Duration; [key: string]: unknown };
  /** Default: `{ enabled: false }` (the gate reads this machine's load, which a test does not control). */
  resources?: { enabled?: boolean; [key: string]: unknown };
  sessions?: { kill_grace?: Duration; drain_grace?: Duration; on_restart?: string; [key: string]: unknown };
  claims?: { lane_ttl?: Duration; sweep_every?: Duration; [key: string]: unknown };
  hooks?: { before_session?: string[]; [key: string]: unknown };
  selector?: { command?: string[]; timeout?: Duration; [key: string]: unknown };
  grading?: { command?: string[]; timeout?: Duration; weights?: Record<string, number>; [key: string]: unknown };
  tasks?: { dir: string };
  lanes: LaneConfig[];
  backends: BackendConfig[];
  [key: string]: unknown;
}

export interface WrittenConfig {
  /** The configuration file, for --config. */
  file: string;
  /** `state` in `dir`, for --state (not created). */
  state: string;
  /** The directory the file is in. */
  dir: string;
}

/** A backend's `cwd` that stands for the directory the configuration is written to. */
export const CONFIG_DIR = '<the configuration directory>';

/**
 * Writes `config`, with the shared defaults filled in, as YAML to `name` (default lk.yaml) in `dir`
 * (default: a fresh temporary directory); an existing file of that name is replaced. A backend
 * whose `cwd` is CONFIG_DIR (fixtureAgent's default) gets that directory.
 */
export function writeConfig(config: TestConfig, opts: { dir?: string; name?: string } = {}): WrittenConfig {
  const dir = opts.dir ?? tmpDir();
  const file = path.join(dir, opts.name ?? 'lk.yaml');
  const { store, width, schedule, resources, backends, ...rest } = config;
  // The preamble first, as the hand-written files had it.
  const full = {
    ...(store !== undefined && { store }),
    ...(width !== undefined && { width }),
    schedule: { interval: '1h', jitter: '0s', ...schedule },
    resources: resources ?? { enabled: false },
    ...rest,
    backends: backends.map((b) => (b.cwd === CONFIG_DIR ? { ...b, cwd: dir } : b)),
  };
  writeFileSync(file, toYaml(full));
  return { file, state: path.join(dir, 'state'), dir };
}

export interface FixtureAgentOptions {
  /** Default: fixture. */
  name?: string;
  /** The one model; default: ok. */
  model?: string;
  /** After the script in the command. */
  args?: string[];
  /** Default: the configuration's directory (CONFIG_DIR). */
  cwd?: string;
  /** Default: {}. */
  env?: Record<string, string>;
  quota?: BackendConfig['quota'];
  rest_after_failure?: Duration;
  [key: string]: unknown;
}

/**
 * A backend that runs one of test/fixtures/agents with node, `args` after the script; named
 * `fixture` with the model `ok` unless given (its arm is then `fixture:ok`), in the configuration's
 * directory unless `cwd` is given, `env` as given (values are strings). Other backend keys
 * (`quota`, `rest_after_failure`) are passed through.
 */
export function fixtureAgent(agent: string, opts: FixtureAgentOptions = {}): BackendConfig {
  const { name = 'fixture', model = 'ok', args = [], cwd = CONFIG_DIR, env = {}, ...more } = opts;
  return {
    name,
    command: ['{node}', path.join(AGENTS, agent), ...args],
    cwd,
    env,
    models: [{ name: model }],
    ...more,
  };
}

/**
 * YAML as the tests wrote it by hand: blocks at the top, and a collection that fits on a short
 * line in flow style (`schedule: { interval: 1h, jitter: 0s }`, `- { name: code, cooldown: 0s }`).
 * Long strings are not folded.
 */
function toYaml(value: object): string {
  const doc = new Document(value);
  visit(doc, {
    Collection(_key, node) {
      if (node !== doc.contents && stringify(node.toJSON(), { collectionStyle: 'flow', lineWidth: 0 }).length <= 90)
        node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0 });
}
