// A model version bump: the new arm starts from the old arm's evidence, cut to 5 sessions' worth.
import pino from 'pino';
import { expect, test } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { emptyFairness } from '../../src/policy/fairness.js';
import { learnArm } from '../../src/policy/arms.js';
import { emptyLearning, summary } from '../../src/policy/learning.js';
import { withModelBumps } from '../../src/runtime/model-bumps.js';

test('a model that replaces another starts from its evidence at a reduced weight, once', () => {
  const config = parseConfigText(
    `lanes: [{ name: code }]
backends: [{ name: cc, command: [x], models: [{ name: sonnet-5, replaces: sonnet-4 }] }]
`,
    'lk.yaml',
    { env: { HOME: '/home/u' } },
  );
  let arms = emptyLearning();
  for (let i = 0; i < 30; i++) arms = learnArm(arms, 'code', 'cc:sonnet-4', 0.8);
  const memory = { learning: emptyLearning(), fairness: emptyFairness(), arms };
  const bumped = withModelBumps(memory, config, pino({ level: 'silent' })).arms!;
  const old = summary(bumped, '*|cc:sonnet-4');
  const fresh = summary(bumped, '*|cc:sonnet-5');
  expect(old.weight).toBeCloseTo(30, 0);
  expect(fresh.weight).toBeCloseTo(5, 5);
  expect(summary(bumped, 'code|cc:sonnet-5').weight).toBeCloseTo(5, 5);
  expect(fresh.mean).toBeGreaterThan(0.75);
  // Once the new arm has evidence of its own, a restart leaves it alone.
  expect(withModelBumps({ ...memory, arms: bumped }, config, pino({ level: 'silent' })).arms).toBe(bumped);
});
