// The resolved configuration every other module reads: complete, validated, frozen.

export interface LaneConfig {
  readonly name: string;
  readonly enabled: boolean;
  readonly concurrency: number;
  readonly cooldownMs: number;
  readonly respawnThreshold: number;
  readonly chainLimit: number;
  readonly timeoutMs: number;
  readonly targetShare: number | null;
  readonly parallel: boolean;
  /** Arm ids (`backend:model`) this lane may run on. */
  readonly arms: readonly string[];
  /** Arms outside these tiers are not eligible for the lane. */
  readonly minTier: number | null;
  readonly maxTier: number | null;
  /** Restricts the arm choice to the highest tier or the cheapest arms among the eligible ones. */
  readonly prefer: 'top-tier' | 'cheapest' | null;
  readonly prompt: string;
  readonly cwd: string | null;
  /** A file also taken with flock(2), non-blocking, so legacy `flock` scripts and lanekeeper never run this lane at once. */
  readonly lockFile: string | null;
}

export interface ArmConfig {
  /** `backend:model` */
  readonly id: string;
  readonly backend: string;
  readonly model: string;
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string | null;
  readonly tier: number;
  readonly cost: number;
  /** The arm (`backend:old-model`) whose evidence this one starts from, at a reduced weight. */
  readonly replaces: string | null;
  /** The backend's quota probe (JSON on stdout), or null: then failed sessions block it a while. */
  readonly quota: {
    readonly command: readonly string[];
    readonly everyMs: number;
    readonly timeoutMs: number;
    readonly shortTimeoutMs: number;
  } | null;
  /** Without a usable quota report, how long a failed session blocks the backend (0: never). */
  readonly restAfterFailureMs: number;
}

export interface ResolvedConfig {
  /** Where it came from: a file path, or "<demo>" for the embedded demo. */
  readonly source: string;
  readonly demo: boolean;
  readonly stateDir: string;
  /** A PostgreSQL URL (the `store:` key, overridden by LANEKEEPER_STORE), or null for the SQLite file in stateDir. */
  readonly store: string | null;
  /**
   * This host in a fleet sharing one PostgreSQL store: its journal, lanes and sessions are its own
   * (LANEKEEPER_HOST, the `host:` key, else the machine's host name).
   */
  readonly host: string;
  readonly width: number;
  /** Events between checkpoints of the actor system. */
  readonly checkpointEvery: number;
  readonly schedule: { readonly intervalMs: number; readonly jitterMs: number; readonly tickOnStart: boolean };
  readonly sessions: {
    readonly killGraceMs: number;
    readonly drainGraceMs: number;
    /** After a crash, a session the dead runtime left running is adopted (watched to its end) or killed. */
    readonly onRestart: 'adopt' | 'kill';
  };
  readonly claims: { readonly laneTtlMs: number; readonly sweepEveryMs: number };
  readonly hooks: {
    /** argv run before each session under a mutex per repository, e.g. git pull --rebase --autostash. */
    readonly beforeSession: readonly string[] | null;
    readonly timeoutMs: number;
    /** How long a session waits for another session's hook before it fails. */
    readonly waitMs: number;
  };
  readonly selector: SelectorConfig;
  readonly resources: ResourceGateConfig;
  readonly grading: GradingConfig;
  /** Journal retention; `keepMs` null: off (the journal is kept whole). */
  readonly journal: JournalRetentionConfig;
  /** Markdown task files (YAML front matter) that back sessions with tasks; null when not used. */
  readonly tasks: { readonly dir: string } | null;
  readonly lanes: readonly LaneConfig[];
  readonly arms: readonly ArmConfig[];
}

export interface JournalRetentionConfig {
  /**
   * Keep this much of the journal (ms back from now): older events, effects and transitions go,
   * down to the newest checkpoint at least this old, which stays so replay and restarts fold from
   * it. null: the journal is kept whole (the default).
   */
  readonly keepMs: number | null;
  /** Where pruned events are archived first, as `journal export` writes them; null: not archived. */
  readonly archiveDir: string | null;
}

export interface SelectorConfig {
  readonly model: 'npts' | 'beta';
  /** Overrides of the default forgetting; absent keys keep the defaults. */
  readonly forgetting: {
    readonly pullDecay?: number;
    readonly idleDecay?: number;
    /** Graded sessions after which a lane left alone is tried again; null: never. */
    readonly staleAfter?: number | null;
    /** false: no change detector; a number: its alarm threshold. */
    readonly detector?: boolean | { readonly threshold: number };
  };
  readonly shareWeight: number;
  readonly monotony: { readonly streak: number; readonly penalty: number };
  readonly neglect: {
    readonly share: number;
    readonly windowMs: number;
    readonly minSessions: number;
    readonly bonus: number;
  };
  readonly signals: { readonly file: string; readonly weight: number } | null;
  /** An external selector program (argv) whose JSON replaces the built-in order; null for none. */
  readonly command: readonly string[] | null;
  readonly timeoutMs: number;
  readonly allowlist: readonly string[];
  /** What takes the width the external selector's lanes leave: the built-in ranking of the other lanes, or nothing. */
  readonly fill: 'builtin' | 'none';
}

export interface GradingConfig {
  /** A grader program (argv) that reads a session record on stdin and prints its grade; null for none. */
  readonly command: readonly string[] | null;
  readonly timeoutMs: number;
  /** Weights of grade dimensions; a grade with dimensions becomes their weighted mean. null: grades stand as reported. */
  readonly weights: Readonly<Record<string, number>> | null;
}

export interface ResourceGateConfig {
  readonly enabled: boolean;
  readonly skipLoad: number;
  readonly width1Load: number;
  readonly width2Load: number;
  readonly minMemory: number;
}

/** The facts from the environment that configuration may depend on; passed in, never read here. */
export interface ConfigEnv {
  readonly LANEKEEPER_STATE?: string | undefined;
  readonly LANEKEEPER_STORE?: string | undefined;
  readonly LANEKEEPER_HOST?: string | undefined;
  readonly XDG_STATE_HOME?: string | undefined;
  readonly HOME?: string | undefined;
}
