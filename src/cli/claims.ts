// lanekeeper claim | renew | release | complete | reopen | claims — the claim commands agents run
// from their shells. Loaded without commander or the configuration (see main.ts): arguments are
// parsed with node:util's parseArgs from the table in claims-spec.ts (which --help also prints, by
// way of commander, loaded only then), and the store is opened only once they are known to be good.
//
//   claim KEY [--holder ID] [--ttl 60m] [--keep]   exit 0, prints the token; denied: exit 1
//   renew KEY --token N [--holder ID] [--ttl D]    exit 0; stale or expired: exit 1
//   release KEY --token N [--holder ID] [--result TEXT]    exit 0 (expired: a no-op); stale: exit 1
//   complete KEY --token N [--holder ID] [--result TEXT]   exit 0; stale or expired: exit 1
//   reopen KEY
//   claims [--all]
// All take --state DIR and --json. Inside a session --holder defaults to $LANEKEEPER_SESSION_ID.
// With LANEKEEPER_STORE set (a postgres:// URL) the claims are those of that PostgreSQL store.
// A store still locked after the busy timeout: one "store busy: … (try again)" line, exit 75.
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ClaimRow, ClaimsPort, FencedResult } from '../ports/store.js';
import { openClaimsOnly } from '../adapters/store/open-store.js';
import { checkDurationFlag } from '../config/duration.js';
import { envStoreUrl, storeUrlProblem } from '../config/store-url.js';
import { ConfigError, isUserError, StoreBusyError } from '../errors.js';
import { claimKeyProblem } from '../policy/claim-key.js';
import { renderTable } from '../format/table.js';
import { isoSeconds } from '../format/time.js';
import {
  CLAIM_COMMANDS,
  parseArgsOptions,
  usageLine,
  type ClaimCommand,
  type ClaimCommandName,
} from './claims-spec.js';
import { err, EXIT, out } from './io.js';

/** Claims agents take default to an hour; the runtime renews them while their session lives. */
export const DEFAULT_AGENT_TTL_MS = 60 * 60_000;

class Usage extends Error {}

type Name = ClaimCommandName;
type Values = { [k: string]: string | boolean | undefined };

export async function claimsMain(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const name = argv[0] as Name;
  const spec: ClaimCommand = CLAIM_COMMANDS[name];
  let values: Values;
  let key = '';
  try {
    const parsed = parseArgs({
      args: argv.slice(1),
      options: parseArgsOptions(name),
      allowPositionals: true,
      strict: true,
    });
    values = parsed.values as Values;
    if (values.help) {
      out((await import('./claims-help.js')).claimHelp(name));
      return EXIT.ok;
    }
    if (spec.key) {
      if (parsed.positionals.length !== 1)
        throw new Usage(
          parsed.positionals.length ? `expected one KEY, got ${parsed.positionals.length}` : 'a KEY is required',
        );
      key = parsed.positionals[0]!;
      const problem = claimKeyProblem(key);
      if (problem) throw new Usage(`bad claim key ${JSON.stringify(key)}: ${problem}`);
    } else if (parsed.positionals.length) {
      throw new Usage(`unexpected argument ${JSON.stringify(parsed.positionals[0])}`);
    }
  } catch (e) {
    const message = e instanceof Usage ? e.message : (e as Error).message.split('\n')[0];
    err(`lanekeeper ${name}: ${message}\nusage: lanekeeper ${usageLine(name)} (see "lanekeeper ${name} --help")`);
    return EXIT.usage;
  }
  try {
    return await execute(name, key, values, env);
  } catch (e) {
    if (e instanceof Usage) {
      err(`lanekeeper ${name}: ${e.message}`);
      return EXIT.usage;
    }
    if (e instanceof ConfigError) {
      err(e.problems.map((p) => `${e.file}: ${p}`).join('\n'));
      return EXIT.usage;
    }
    // Not a denial (exit 1) and not a broken state directory (exit 2): nothing was decided.
    if (e instanceof StoreBusyError) {
      err(e.message);
      return EXIT.busy;
    }
    if (isUserError(e)) {
      err(`lanekeeper: ${e.message}`);
      return EXIT.usage;
    }
    throw e;
  }
}

/** The arguments of a claim command, checked: a holder, a token and a TTL where it takes them. */
interface Args {
  holder: string;
  token: number;
  ttlMs: number | undefined;
}

async function execute(name: Name, key: string, v: Values, env: NodeJS.ProcessEnv): Promise<number> {
  // Check every argument before touching the store.
  const args = checkArgs(name, v, env);
  const url = envStoreUrl(env);
  const urlProblem = url === null ? null : storeUrlProblem(url);
  if (urlProblem) throw new Usage(`LANEKEEPER_STORE: ${urlProblem}`);
  // A PostgreSQL store needs no state directory (and finding one may load the configuration).
  const stateDir = url ? '' : await claimsStateDir(v.state as string | undefined, env);
  const store = await openClaimsOnly({ stateDir, url });
  const json = v.json === true;
  try {
    switch (name) {
      case 'claim':
        return await claim(store.claims, key, args, v.keep === true, json);
      case 'renew':
        return fenced(
          await store.claims.renew({ key, holder: args.holder, token: args.token, ttlMs: args.ttlMs }),
          json,
          key,
          args.token,
          (r) => `renewed ${key} until ${isoSeconds(r.expiresAt!)}`,
        );
      case 'release':
      case 'complete': {
        // The same fenced call, one giving the claim back, the other marking its work done.
        const end = { key, holder: args.holder, token: args.token, result: v.result as string | undefined };
        const r = name === 'release' ? await store.claims.release(end) : await store.claims.complete(end);
        return fenced(r, json, key, args.token, () => `${name === 'release' ? 'released' : 'completed'} ${key}`);
      }
      case 'reopen':
        return await reopen(store.claims, key, json);
      case 'claims': {
        const rows = await store.claims.list({ all: v.all === true });
        out(json ? JSON.stringify({ claims: rows.map(claimJson) }) : renderClaims(rows));
        return EXIT.ok;
      }
    }
  } finally {
    await store.close();
  }
}

function checkArgs(name: Name, v: Values, env: NodeJS.ProcessEnv): Args {
  const holder = () => {
    const h = (v.holder as string | undefined) ?? env.LANEKEEPER_SESSION_ID;
    if (!h)
      throw new Usage(
        '--holder is required outside a lanekeeper session (inside one it defaults to $LANEKEEPER_SESSION_ID)',
      );
    return h;
  };
  const token = () => {
    const t = Number(v.token);
    if (v.token === undefined) throw new Usage('--token is required (the number "claim" printed)');
    if (!Number.isSafeInteger(t) || t < 1)
      throw new Usage(`--token: expected a positive whole number, got ${JSON.stringify(v.token)}`);
    return t;
  };
  const ttl = (fallback: number | undefined) => {
    if (v.ttl === undefined) return fallback;
    const r = checkDurationFlag('--ttl', v.ttl as string);
    if ('problem' in r) throw new Usage(r.problem);
    return r.ms;
  };
  return {
    holder: name === 'reopen' || name === 'claims' ? '' : holder(),
    token: name === 'renew' || name === 'release' || name === 'complete' ? token() : 0,
    ttlMs: name === 'claim' ? ttl(DEFAULT_AGENT_TTL_MS)! : name === 'renew' ? ttl(undefined) : undefined,
  };
}

/** `claim KEY`: prints the token when granted (exit 0); a denial says who holds it (exit 1). */
async function claim(claims: ClaimsPort, key: string, args: Args, keep: boolean, json: boolean): Promise<number> {
  const r = await claims.acquire({ key, holder: args.holder, ttlMs: args.ttlMs!, keep });
  if (r.granted) {
    out(
      json
        ? JSON.stringify({
            granted: true,
            key,
            holder: args.holder,
            token: r.token,
            expires_at: isoSeconds(r.expiresAt),
            renewed: r.renewed,
          })
        : String(r.token),
    );
    return EXIT.ok;
  }
  const text =
    r.state === 'completed'
      ? `DENIED — ${key} already completed by ${r.holder}`
      : `DENIED — ${key} held by ${r.holder} (expires ${isoSeconds(r.expiresAt!)})`;
  if (json)
    out(
      JSON.stringify({
        granted: false,
        key,
        holder: r.holder,
        state: r.state,
        expires_at: r.expiresAt === null ? null : isoSeconds(r.expiresAt),
      }),
    );
  err(text);
  return EXIT.failed;
}

/** `reopen KEY`: a completed claim may be taken again (exit 0); anything else: exit 1. */
async function reopen(claims: ClaimsPort, key: string, json: boolean): Promise<number> {
  const r = await claims.reopen({ key });
  if (json) out(JSON.stringify({ key, ...r }));
  if (r.reopened) {
    if (!json) out(`reopened ${key}`);
    return EXIT.ok;
  }
  err(`${key} is not completed (${r.state ? `it is ${r.state}` : 'no claim on it'}); nothing to reopen`);
  return EXIT.failed;
}

async function claimsStateDir(flag: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  if (flag) return path.resolve(flag);
  if (env.LANEKEEPER_STATE) return path.resolve(env.LANEKEEPER_STATE);
  // Rare outside a session: only then load the configuration to find the state directory.
  const { stateDirForReaders } = await import('./state-dir.js');
  return stateDirForReaders({}, env);
}

/**
 * Prints the answer to renew, release or complete. After the claim's expiry (swept or not) a
 * release is a no-op, exit 0; a renewal or completion is EXPIRED, exit 1, like a STALE token.
 */
function fenced(
  r: FencedResult,
  json: boolean,
  key: string,
  token: number,
  ok: (r: FencedResult & { ok: true }) => string,
): number {
  const expiredAt = r.expiredAt === undefined ? undefined : isoSeconds(r.expiredAt);
  if (json)
    out(
      JSON.stringify({
        key,
        ...r,
        ...(r.ok && r.expiresAt !== undefined ? { expiresAt: isoSeconds(r.expiresAt) } : {}),
        ...(expiredAt ? { expiredAt } : {}),
      }),
    );
  if (r.ok) {
    if (!json) out(expiredAt ? `${key} had expired at ${expiredAt} (token ${token}); nothing to release` : ok(r));
    return EXIT.ok;
  }
  err(expiredAt ? `EXPIRED — ${key} expired at ${expiredAt} (token ${token}); claim it again` : `STALE — ${r.reason}`);
  return EXIT.failed;
}

function claimJson(c: ClaimRow) {
  return {
    key: c.key,
    slot: c.slot,
    holder: c.holder,
    token: c.epoch,
    state: c.state,
    acquired_at: isoSeconds(c.acquired_at),
    expires_at: isoSeconds(c.expires_at),
    attempt: c.attempt,
    result: c.result,
  };
}

function renderClaims(rows: ClaimRow[]): string {
  if (!rows.length) return 'no claims held';
  return renderTable([
    ['KEY', 'SLOT', 'HOLDER', 'TOKEN', 'STATE', 'EXPIRES', 'RESULT'],
    ...rows.map((c) => [
      c.key,
      String(c.slot),
      c.holder,
      String(c.epoch),
      c.state,
      isoSeconds(c.expires_at),
      c.result ?? '',
    ]),
  ]);
}
