// Runs the machines' code once before a tick needs it, while the main thread would only wait
// for the quota probes (they run before every tick whose reports are stale). Code that has never
// run is compiled on its first call and runs slowly until the engine has seen it a few times: in
// a fresh process, the machines took about 15 ms over the first tick of six lanes and its six
// grants, and 2 ms once this warm-up (about 8 ms, spent while the probes run) had gone first.
//
// A throwaway copy of the fleet folds a tick and its claims granted: the code the
// real tick runs before its agents are spawned. Nothing of it reaches the journal, the store or
// the real actors (the machines do no I/O), so it changes no decision and replay is unaffected.
import type { BusEvent, StampedEvent } from '../machines/events.js';
import type { FleetInput } from '../machines/fleet.js';
import { Fold } from '../streams/fold.js';

/**
 * Folds a tick and the claims it asks for into a throwaway copy of `fleet` (the one fold,
 * streams/fold.ts). Never throws: what it could not run goes to `onError`, and the real tick runs
 * that code cold, as it always did.
 */
export function warmUpMachines(fleet: FleetInput, now: number, onError: (err: unknown) => void): void {
  let f: Fold | null = null;
  try {
    f = Fold.of(fleet);
    let seq = 0;
    const step = (event: BusEvent, seed?: number) =>
      f!.step({ ...event, seq: ++seq, now, seed } as StampedEvent)?.intents ?? [];
    const dispatched = step(
      { type: 'TICK', reason: 'manual', inputs: { resources: null, signals: null, blocked: [], external: null } },
      1,
    );
    for (const claim of dispatched) {
      if (claim.type !== 'requestClaim') continue;
      step(
        {
          type: 'CLAIM_GRANTED',
          laneId: claim.laneId,
          sessionId: claim.sessionId,
          key: claim.key,
          slot: 0,
          token: 1,
          expiresAt: now + 60_000,
        },
        1,
      );
    }
  } catch (err) {
    onError(err);
  } finally {
    f?.result.host?.stop();
  }
}
