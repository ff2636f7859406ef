// The defaults of the quota settings a backend may leave out, here at the bottom of the layers so
// the configuration's schema and the policy that applies them read the same numbers.
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** How long a quota report stays fresh: the probe is run again after this (`quota.every`). */
export const QUOTA_CACHE_TTL_MS = 10 * MINUTE;
/** A backend without a quota report rests this long after a failed session (`rest_after_failure`)… */
export const NO_PROBE_BLOCK_MS = 30 * MINUTE;
/** …counting only the failures of this window (the longest rest allowed). */
export const NO_PROBE_LOOKBACK_MS = 6 * HOUR;
