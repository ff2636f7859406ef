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
}

export interface ResolvedConfig {
  /** Where it came from: a file path, or "<demo>" for the embedded demo. */
  readonly source: string;
  readonly demo: boolean;
  readonly stateDir: string;
  readonly width: number;
  readonly schedule: { readonly intervalMs: number; readonly jitterMs: number; readonly tickOnStart: boolean };
  readonly sessions: { readonly killGraceMs: number; readonly drainGraceMs: number };
  readonly claims: { readonly laneTtlMs: number; readonly sweepEveryMs: number };
  readonly hooks: {
    /** argv run before each session under a mutex per repository, e.g. git pull --rebase --autostash. */
    readonly beforeSession: readonly string[] | null;
    readonly timeoutMs: number;
    /** How long a session waits for another session's hook before it fails. */
    readonly waitMs: number;
  };
  readonly lanes: readonly LaneConfig[];
  readonly arms: readonly ArmConfig[];
}

/** The facts from the environment that configuration may depend on; passed in, never read here. */
export interface ConfigEnv {
  readonly LANEKEEPER_STATE?: string | undefined;
  readonly XDG_STATE_HOME?: string | undefined;
  readonly HOME?: string | undefined;
}
