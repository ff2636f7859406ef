// Reads lanekeeper.yaml (or the embedded demo) and resolves it. Problems come back as one
// ConfigError naming the file and, for each problem, the line and the key path.
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError } from '../errors.js';
import { demoConfigYaml } from './demo.js';
import { formatPath, type Problem } from './problems.js';
import { resolveConfig } from './resolve.js';
import type { ConfigEnv, ResolvedConfig } from './types.js';
import { DEFAULT_CONFIG_FILE } from './config-file.js';

export { DEFAULT_CONFIG_FILE };

export interface LoadOptions {
  /** --config; defaults to lanekeeper.yaml in the working directory. */
  file?: string | undefined;
  demo?: boolean | undefined;
  stateDir?: string | undefined;
  env: ConfigEnv;
}

/** A configuration, and where in its file a path stands, for messages about it found later (validate's warnings). */
export interface PlacedConfig {
  config: ResolvedConfig;
  /** "line 14: lanes[2].cwd: …", as the problems of an invalid file read. */
  place(p: Problem): string;
}

export function loadConfig(opts: LoadOptions): ResolvedConfig {
  return loadPlacedConfig(opts).config;
}

export function loadPlacedConfig(opts: LoadOptions): PlacedConfig {
  if (opts.demo && !opts.file) return parsePlacedConfig(demoConfigYaml(), '<demo>', opts);
  const file = opts.file ?? DEFAULT_CONFIG_FILE;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? opts.file
          ? 'no such file'
          : `no such file (create one with "lanekeeper init", pass --config FILE, or try --demo)`
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory, not a file'
            : String((err as Error).message);
    throw new ConfigError(file, [`cannot read configuration: ${why}`]);
  }
  return parsePlacedConfig(text, file, opts);
}

export function parseConfigText(text: string, source: string, opts: Omit<LoadOptions, 'file'>): ResolvedConfig {
  return parsePlacedConfig(text, source, opts).config;
}

function parsePlacedConfig(text: string, source: string, opts: Omit<LoadOptions, 'file'>): PlacedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return `${pos ? `line ${pos.line}, column ${pos.col}: ` : ''}invalid YAML: ${e.message.split('\n')[0]!.split(' at line ')[0]}`;
      }),
    );
  }
  const data: unknown = doc.toJS();
  if (data !== null && data !== undefined && (typeof data !== 'object' || Array.isArray(data))) {
    throw new ConfigError(source, ['the file must hold a mapping of settings (lanes:, backends:, …)']);
  }
  const result = resolveConfig(data, { source, env: opts.env, stateDir: opts.stateDir });
  if (!result.ok)
    throw new ConfigError(
      source,
      result.problems.map((p) => withLine(p, doc, lineCounter)),
    );
  return { config: result.config, place: (p) => withLine(p, doc, lineCounter) };
}

/** "line 14: lanes[2].cooldown: expected …" where the YAML node of the path can be found. */
function withLine(p: Problem, doc: Document, lines: LineCounter): string {
  const where = formatPath(p.path);
  const node = nearestNode(doc, p.path);
  const offset = node?.range?.[0];
  const prefix = offset !== undefined ? `line ${lines.linePos(offset).line}: ` : '';
  return `${prefix}${where}: ${p.message}`;
}

type Ranged = { range?: [number, number, number] | null };

/** The YAML node of a path, or of its closest existing ancestor (an unknown key points at itself). */
function nearestNode(doc: Document, path: readonly (string | number)[]): Ranged | null {
  for (let n = path.length; n > 0; n--) {
    const parent = doc.getIn(path.slice(0, n - 1), true);
    const last = path[n - 1];
    if (isMap(parent)) {
      const pair = parent.items.find((it) => isScalar(it.key) && it.key.value === last);
      // A scalar is shown where it stands; a list or mapping at its key, where the user looks.
      if (pair) return (isScalar(pair.value) ? pair.value : pair.key) as Ranged;
    } else if (isSeq(parent) && typeof last === 'number' && parent.items[last]) {
      return parent.items[last] as Ranged;
    }
  }
  return doc.contents as Ranged | null;
}
