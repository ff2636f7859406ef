// Runs policies against synthetic lanes in virtual time: no processes, no clock. Each seed fixes
// the grades every policy will see (common random numbers), so differences between policies are
// differences of choice, not of luck.
import { deriveSeed, rngFromSeed } from '../policy/prng.js';
import { normal } from '../policy/random.js';
import { meansAt, type Environment } from './environments.js';
import { makePolicy, type PolicyId } from './policies.js';

export interface SimResult {
  env: string;
  policy: PolicyId;
  sessions: number;
  seeds: number;
  /** Mean grade per session. */
  mean_grade: number;
  /** Cumulative pseudo-regret against the best available choice, mean over seeds. */
  regret: number;
  /** Half-width of the 95% interval of `regret`. */
  regret_ci95: number;
  /** Regret from the first change point on (environments with one). */
  regret_after_change?: number;
  /** Decisions after the first change until half of the last 50 picks go to the new best lane. */
  t50?: number | null;
  /** Share of seeds in which t50 was reached before the run ended. */
  t50_reached?: number;
}

const WINDOW = 50;

export function simulate(
  env: Environment,
  policies: readonly PolicyId[],
  sessions: number,
  seeds: number,
): SimResult[] {
  const k = env.lanes.length;
  const decisions = Math.ceil(sessions / env.width);
  const changeAt = [...env.changes.map((c) => c.at), ...env.droughts.map((d) => d.from)].sort((a, b) => a - b)[0];
  const means = Array.from({ length: decisions }, (_, t) => meansAt(env, t));
  const best = means.map((m) =>
    [...m]
      .sort((a, b) => b - a)
      .slice(0, env.width)
      .reduce((a, b) => a + b, 0),
  );
  const newBest =
    changeAt === undefined
      ? -1
      : means[Math.min(changeAt, decisions - 1)]!.indexOf(Math.max(...means[Math.min(changeAt, decisions - 1)]!));

  return policies.map((id) => {
    const regrets: number[] = [];
    let afterSum = 0;
    const t50s: (number | null)[] = [];
    let gradeSum = 0;
    for (let s = 0; s < seeds; s++) {
      const world = rngFromSeed(deriveSeed(s + 1, `world:${env.id}`));
      const noise = new Float64Array(decisions * k);
      for (let i = 0; i < noise.length; i++) noise[i] = normal(world);
      const policy = makePolicy(id, k);
      const rng = rngFromSeed(deriveSeed(s + 1, `policy:${id}`));
      let regret = 0;
      const recent: boolean[] = [];
      let t50: number | null = null;
      for (let t = 0; t < decisions; t++) {
        const chosen = policy.choose(env.width, t, rng);
        const m = means[t]!;
        let got = 0;
        for (const lane of chosen) {
          got += m[lane]!;
          const grade =
            m[lane] === 0 ? 0 : Math.min(1, Math.max(0, m[lane]! + env.lanes[lane]!.sd * noise[t * k + lane]!));
          gradeSum += grade;
          policy.update(lane, grade);
        }
        regret += best[t]! - got;
        if (changeAt !== undefined && t >= changeAt) afterSum += best[t]! - got;
        if (changeAt !== undefined && t >= changeAt && t50 === null) {
          recent.push(chosen.includes(newBest));
          if (recent.length > WINDOW) recent.shift();
          if (recent.length === WINDOW && recent.filter(Boolean).length >= WINDOW / 2) t50 = t - changeAt - WINDOW / 2;
        }
      }
      regrets.push(regret);
      t50s.push(t50);
    }
    const avg = regrets.reduce((a, b) => a + b, 0) / seeds;
    const sd = Math.sqrt(regrets.reduce((a, r) => a + (r - avg) ** 2, 0) / Math.max(1, seeds - 1));
    const result: SimResult = {
      env: env.id,
      policy: id,
      sessions: decisions * env.width,
      seeds,
      mean_grade: round(gradeSum / (seeds * decisions * env.width)),
      regret: round(avg),
      regret_ci95: round((1.96 * sd) / Math.sqrt(seeds)),
    };
    if (changeAt !== undefined) {
      const reached = t50s.filter((x): x is number => x !== null);
      result.regret_after_change = round(afterSum / seeds);
      result.t50 = reached.length ? Math.round(reached.reduce((a, b) => a + b, 0) / reached.length) : null;
      result.t50_reached = round(reached.length / seeds);
    }
    return result;
  });
}

const round = (x: number) => Math.round(x * 1000) / 1000;
