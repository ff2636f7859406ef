#!/usr/bin/env node
// The simulated agent of the demo. It behaves like a real session: it works for a few seconds in
// its working directory (a scratch git repository), may commit, writes a grade to
// $LANEKEEPER_GRADE_FILE and exits. Quality differs per lane and model, so a learning selector has
// something to learn. Options: --lane NAME --model NAME [--work 2s-6s] [--fail-rate 0.05]
import { execFileSync } from 'node:child_process';
import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const QUALITY: Record<string, number> = {
  code: 0.74,
  triage: 0.58,
  content: 0.46,
  research: 0.66,
  infrastructure: 0.62,
  cleanup: 0.4,
};
const MODEL_BONUS: Record<string, number> = { large: 0.08, small: -0.02 };

const { values } = parseArgs({
  options: {
    lane: { type: 'string', default: process.env.LANEKEEPER_LANE ?? 'code' },
    model: { type: 'string', default: 'small' },
    work: { type: 'string', default: process.env.DEMO_AGENT_WORK ?? '2s-6s' },
    'fail-rate': { type: 'string', default: process.env.DEMO_AGENT_FAIL_RATE ?? '0.05' },
  },
});

function seconds(text: string): number {
  return Number(text.replace(/s$/, ''));
}

const [lo, hi] = values.work.split('-').map(seconds) as [number, number];
const workMs = 1000 * (lo + Math.random() * ((hi ?? lo) - lo));
const quality = Math.min(0.95, Math.max(0.05, (QUALITY[values.lane] ?? 0.5) + (MODEL_BONUS[values.model] ?? 0)));
const session = process.env.LANEKEEPER_SESSION_ID ?? 'manual';

console.log(
  `[demo agent] ${session}: working on ${values.lane} with ${values.model} for ${(workMs / 1000).toFixed(1)}s`,
);

setTimeout(() => {
  if (Math.random() < Number(values['fail-rate'])) {
    console.error(`[demo agent] ${session}: simulated crash`);
    process.exit(3);
  }
  // A good session more often leaves a commit behind.
  if (Math.random() < quality + 0.15) {
    try {
      appendFileSync('WORK.md', `- ${new Date().toISOString()} ${session} (${values.model})\n`);
      execFileSync('git', ['add', 'WORK.md']);
      execFileSync('git', [
        '-c',
        'user.name=demo agent',
        '-c',
        'user.email=demo@lanekeeper.invalid',
        'commit',
        '-q',
        '-m',
        `${values.lane}: ${session}`,
      ]);
      console.log(`[demo agent] ${session}: committed`);
    } catch (err) {
      console.error(`[demo agent] ${session}: could not commit: ${(err as Error).message}`);
    }
  }
  const grade = Math.min(1, Math.max(0, quality + (Math.random() - 0.5) * 0.3));
  const file = process.env.LANEKEEPER_GRADE_FILE;
  if (file) {
    // Write then rename, so a reader never sees half a file.
    writeFileSync(
      `${file}.tmp`,
      JSON.stringify({ grade: Number(grade.toFixed(3)), dimensions: { quality: Number(quality.toFixed(2)) } }),
    );
    renameSync(`${file}.tmp`, file);
  }
  console.log(`[demo agent] ${session}: done, grade ${grade.toFixed(2)}`);
}, workMs);
