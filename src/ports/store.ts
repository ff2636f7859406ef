// The store's ports. Every method returns a Promise even though better-sqlite3 is synchronous,
// so the PostgreSQL store can implement the same interface. Times are integer milliseconds.
import type { Fairness } from '../policy/fairness.js';
import type { Learning } from '../policy/learning.js';
import type { GradedList, GradeUpdate } from '../policy/graded.js';
import type { StampedEvent } from '../machines/events.js';
import type { Intent } from '../machines/intents.js';
import type { FleetInput } from '../machines/fleet.js';
import type { Outcome } from '../policy/outcome.js';

export interface JournalPort {
  append(event: StampedEvent): Promise<void>;
  /**
   * The machines took an event: the intents they produced, in order, and the lane state paths
   * that changed (laneId → path). What replay compares against; also the mark that the event was taken.
   */
  recordEffects(seq: number, intents: readonly Intent[], changed: Readonly<Record<string, string>>): Promise<void>;
  lastSeq(): Promise<number>;
  read(opts?: { fromSeq?: number; limit?: number }): Promise<StampedEvent[]>;
  effects(seq: number): Promise<Intent[]>;
  /** Events from `fromSeq` on, with what was recorded of each (for replay and export). */
  entries(fromSeq: number, limit: number): Promise<JournalEntry[]>;
  /** The seq of the last RUNTIME_STARTED at or before `seq`, or null. */
  runStart(seq: number): Promise<number | null>;
  /** A checkpoint of the actor system after event `seq`. */
  saveCheckpoint(checkpoint: Checkpoint): Promise<void>;
  /** The latest checkpoint at or before `seq`, or null. */
  checkpoint(seq: number): Promise<Checkpoint | null>;
  /** The first seq journaled at or after `since` (ms since the epoch), or null. */
  firstSeqSince(since: number): Promise<number | null>;
  /**
   * Retention, step 1: where a prune of what is older than `before` (ms since the epoch) may cut.
   * The checkpoint it keeps is the newest one whose event is at or before `before` (and, with
   * `version`, written by those machines, so a fold can resume from it): the oldest checkpoint
   * kept. null when no checkpoint is that old; `first` is the journal's first seq now (nothing to
   * delete when it is not below the checkpoint's seq).
   */
  pruneFloor(before: number, opts?: { version?: string }): Promise<PruneFloor | null>;
  /**
   * Retention, step 2: deletes the journal below the checkpoint at `seq`: every event, effect and
   * transition row and every checkpoint with a lower seq. The checkpoint itself and everything
   * after it stay, so a fold from it needs nothing that went. Deletes nothing and returns null when
   * no checkpoint is at `seq`. Deleted in short transactions from the oldest up (a writer waits
   * one of them at most; a prune cut off part way leaves a journal that starts later, never a
   * hole); on SQLite the freed pages are then given back to the file system (incremental vacuum).
   * `rewrite` (SQLite, default true): a file made before retention, which cannot vacuum
   * incrementally, may be rewritten once to switch it (VACUUM holds the write lock while it copies
   * what is kept: about ten seconds per million events); false leaves it as it is (its freed pages
   * are reused, it stops growing but does not shrink).
   */
  pruneBelow(seq: number, opts?: { rewrite?: boolean }): Promise<Pruned | null>;
}

/** Where a prune may cut the journal (JournalPort.pruneFloor). */
export interface PruneFloor {
  /** The journal's first seq now (0: empty). */
  first: number;
  /** The checkpoint kept, and the time of its event: everything below its seq may go. */
  checkpoint: { seq: number; at: number };
}

/** What JournalPort.pruneBelow deleted. */
export interface Pruned {
  events: number;
  effects: number;
  transitions: number;
  checkpoints: number;
  /**
   * Bytes the database file gave back (SQLite); null where the store does not shrink its files
   * itself (PostgreSQL: autovacuum makes the space reusable, the files keep their size).
   */
  freedBytes: number | null;
  /**
   * How the file shrank (SQLite): 'incremental', by incremental vacuum; 'rewritten', a file made
   * before retention was switched to incremental vacuum by rewriting it once (VACUUM); 'deferred',
   * such a file left as it is (`rewrite: false`); null: not at all (PostgreSQL, or nothing was
   * deleted).
   */
  vacuum: 'incremental' | 'rewritten' | 'deferred' | null;
}

/** One journaled event and what the runtime recorded when it took it. */
export interface JournalEntry {
  event: StampedEvent;
  /** Each intent as JSON, in order. */
  effects: string[];
  /** Lane state paths that changed; null when the event was journaled but never taken. */
  changed: Record<string, string> | null;
}

/** The actor system after event `seq`, as the machines of `version` persisted it. */
export interface Checkpoint {
  seq: number;
  version: string;
  /** The fleet the actors were built for (RUNTIME_STARTED's) and their persisted snapshot. */
  state: { fleet: FleetInput; actors: unknown };
}

export interface SessionRow {
  id: string;
  lane: string;
  lane_id: string;
  arm: string;
  dispatch: string;
  parent: string | null;
  pid: number | null;
  /** The agent's start time as /proc gives it (clock ticks since boot), to recognise it after a crash. */
  pid_start: string | null;
  started_at: number;
  ended_at: number | null;
  exit_code: number | null;
  signal: string | null;
  outcome: Outcome | null;
  reason: string | null;
  grade: number | null;
  grade_source: string | null;
  dimensions: Record<string, number> | null;
  log_path: string | null;
  /** The task the session worked on (task files), or null. */
  task: string | null;
}

export interface SessionsPort {
  insert(
    row: Pick<SessionRow, 'id' | 'lane' | 'lane_id' | 'arm' | 'dispatch' | 'parent' | 'started_at' | 'log_path'> & {
      task?: string | null;
    },
  ): Promise<void>;
  update(id: string, patch: Partial<Omit<SessionRow, 'id'>>): Promise<void>;
  list(opts?: { since?: number; limit?: number }): Promise<SessionRow[]>;
  get(id: string): Promise<SessionRow | null>;
  /** Sessions with no recorded end, oldest first (what a crashed runtime left behind). */
  open(): Promise<SessionRow[]>;
}

export interface LaneStateRow {
  lane_id: string;
  lane: string;
  slot: number;
  state: string;
  since: number;
  session: string | null;
  /**
   * What a cooling down or waiting lane waits for (ms), or null. Kept after lanekeeper stops, since
   * the next start resumes the lane from where it was: `plan` and `status` say how long is left.
   */
  deadline?: number | null;
  /** The lane's configured target share, for stats. */
  target_share?: number | null;
  /** The host whose runtime runs this lane slot (a store shared by several hosts). */
  host?: string;
}

export interface LanesPort {
  set(row: LaneStateRow): Promise<void>;
  list(): Promise<LaneStateRow[]>;
  /** Forget lanes no longer configured (after a config change). */
  retain(laneIds: readonly string[]): Promise<void>;
}

export interface DecisionRow {
  seq: number;
  at: number;
  kind: string;
  chosen: string[];
  detail: unknown;
}

export interface DecisionsPort {
  record(row: DecisionRow): Promise<void>;
  list(opts?: { limit?: number; since?: number }): Promise<DecisionRow[]>;
}

/** The selector's learned state: posteriors per lane, share deficits, recent session starts. */
export interface SelectorMemory {
  learning: Learning;
  fairness: Fairness;
  /** Arm posteriors (`lane|arm`, `*|arm`); absent in stores written before arms were learned. */
  arms?: Learning;
  /** Recently learned sessions with their grade (a late grade replaces, never adds). */
  graded?: GradedList;
}

/** A grade given after the fact (`lanekeeper grade`), waiting for the runtime to learn it. */
export interface LateGradeRow {
  id: number;
  session: string;
  grade: number;
  dimensions: Record<string, number> | null;
  at: number;
}

export interface LateGradesPort {
  add(row: Omit<LateGradeRow, 'id'>): Promise<void>;
  /** Not yet applied, oldest first. */
  pending(): Promise<LateGradeRow[]>;
  applied(id: number): Promise<void>;
}

export interface LearningPort {
  save(memory: SelectorMemory, at: number): Promise<void>;
  /**
   * Folds one grade into the stored posteriors in one transaction (read, apply, write), so hosts
   * sharing the store never lose each other's grades; a grade of a session already learned changes
   * nothing (a regrade replaces it). `fresh`: what to begin from when nothing was learned yet.
   */
  applyGrade(update: GradeUpdate, fresh: SelectorMemory, at: number): Promise<void>;
  /** null when nothing has been learned yet. */
  load(): Promise<SelectorMemory | null>;
}

export type ClaimState = 'claimed' | 'released' | 'completed';

export interface ClaimRow {
  key: string;
  slot: number;
  holder: string;
  epoch: number;
  state: ClaimState;
  acquired_at: number;
  renewed_at: number;
  expires_at: number;
  ttl_ms: number;
  /** 1: left to expire when the holding session ends, instead of released. */
  keep: number;
  attempt: number;
  result: string | null;
}

export type AcquireResult =
  | { granted: true; key: string; slot: number; token: number; expiresAt: number; renewed: boolean }
  | { granted: false; key: string; holder: string; expiresAt: number | null; state: ClaimState };

/**
 * What renew, release and complete answer. `expiredAt` says the claim's lease ran out at that time
 * (whether or not the sweeper has been by): a release of it is a no-op (ok, nothing to give back), a
 * renewal or completion is refused. A refusal without it is a stale token (re-granted since,
 * another holder's, or already ended).
 */
export type FencedResult =
  { ok: true; expiresAt?: number; expiredAt?: number } | { ok: false; reason: string; expiredAt?: number };

/** One lock telemetry record: a grant, renewal, release, completion or expiry. Denials write nothing. */
export interface LockRecord {
  at: number;
  key: string;
  slot: number | null;
  slots: number | null;
  holder: string;
  epoch: number | null;
  event: 'acquired' | 'renewed' | 'released' | 'completed' | 'expired';
}

export interface OrphanRow {
  at: number;
  op: 'release' | 'complete';
  key: string;
  holder: string;
  token: number;
  result: string | null;
  reason: string;
}

export interface ClaimsPort {
  /**
   * Take one of `slots` slots of `key` (default 1) for `holder`. The store's clock decides expiry.
   * `keep`: when the holding session ends, leave the claim to expire instead of releasing it.
   */
  acquire(req: { key: string; holder: string; ttlMs: number; slots?: number; keep?: boolean }): Promise<AcquireResult>;
  /** Extend a held claim by `ttlMs` (default: the TTL it was granted with). */
  renew(req: { key: string; holder: string; token: number; ttlMs?: number }): Promise<FencedResult>;
  /**
   * Give a claim back. A stale token is refused and its result kept as an orphan. An expired claim
   * has nothing to give back: ok with `expiredAt`, and its result is not kept.
   */
  release(req: { key: string; holder: string; token: number; result?: string }): Promise<FencedResult>;
  /**
   * Mark the work done: the key is denied to everyone until reopened. A stale token, or a claim that
   * expired (`expiredAt`), is refused and its result kept as an orphan.
   */
  complete(req: { key: string; holder: string; token: number; result?: string }): Promise<FencedResult>;
  /** Make a completed key claimable again. */
  reopen(req: { key: string }): Promise<{ reopened: boolean; state: ClaimState | null }>;
  /**
   * Renew a holder's live claims that have used a third of their TTL, each by its own TTL; returns
   * how many were renewed, the keys already expired, and the keys it holds now (a claim released
   * by someone else's sweep is simply not among them). Cheap enough to call every few seconds.
   */
  renewHolder(holder: string): Promise<{ renewed: number; lost: string[]; held: string[] }>;
  /**
   * Release a holder's claims at the end of its session, except those it asked to keep and `except`;
   * returns the keys released. One that expired meanwhile is not released but settled as expired.
   */
  releaseHolder(holder: string, opts?: { except?: readonly string[] }): Promise<string[]>;
  /** Live claims; `all`: every row; `completed`: live claims and completed keys (what blocks work). */
  list(opts?: { all?: boolean; completed?: boolean; holder?: string }): Promise<ClaimRow[]>;
  /** Mark claims past their expiry released; returns how many. */
  sweep(): Promise<number>;
  lockRecords(opts?: { since?: number }): Promise<LockRecord[]>;
  orphans(opts?: { since?: number }): Promise<OrphanRow[]>;
}

/**
 * What the running lanekeeper publishes about itself for readers such as `status`: next_tick (ms);
 * started_at (ms), run_mode and enabled_lanes (a JSON list of names) of the last run, for liveness;
 * run_state: 'running' while a run is up, 'stopped' once it drained (a 'running' found at start
 * means the last run died without a drain: its sessions are reconciled with the processes alive);
 * stopped_at (ms): when the last run finished its drain; instance_lock: 'held', or 'none' when the
 * run went on without the state directory's lock (then readers cannot tell whether it runs).
 */
export type RuntimeInfoKey =
  'instance_lock' | 'next_tick' | 'started_at' | 'run_mode' | 'enabled_lanes' | 'run_state' | 'stopped_at';

/** A small key/value table the runtime writes and readers read; values are text. */
export interface RuntimeInfoPort {
  /** Sets a value, or with null removes it. */
  set(key: RuntimeInfoKey, value: string | null): Promise<void>;
  /** The value, or null when none is set. */
  get(key: RuntimeInfoKey): Promise<string | null>;
}

export interface Store {
  readonly location: string;
  /**
   * Several hosts may share it (PostgreSQL): what was learned is folded into it grade by grade
   * (LearningPort.applyGrade) rather than saved whole by one runtime.
   */
  readonly shared: boolean;
  readonly journal: JournalPort;
  readonly sessions: SessionsPort;
  readonly lanes: LanesPort;
  readonly decisions: DecisionsPort;
  readonly learning: LearningPort;
  readonly lateGrades: LateGradesPort;
  readonly claims: ClaimsPort;
  readonly runtimeInfo: RuntimeInfoPort;
  /**
   * A store shared by several hosts: hold this host's name for as long as the run lives, so two
   * runtimes never write one host's journal. Throws InstanceLockedError naming the holder;
   * `onLost`: it was lost with its connection and another runtime took the host meanwhile.
   */
  lockHost?(opts?: { onLost?: (reason: string) => void }): Promise<{ release(): Promise<void> }>;
  /** A shared store: whether a runtime holds `host`'s lock now (this store's host when absent); only reads. */
  hostRunning?(host?: string): Promise<boolean>;
  /** Housekeeping off the hot path (SQLite: a passive WAL checkpoint). */
  checkpoint(): Promise<void>;
  close(): Promise<void>;
}
