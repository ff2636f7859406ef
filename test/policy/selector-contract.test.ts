import { describe, expect, test } from 'vitest';
import {
  interpretSelectorRun,
  selectorClaimProblem,
  type SelectorRun,
  type SelectorVerdict,
} from '../../src/policy/selector-contract.js';

const LANES = ['code', 'triage', 'content', 'research'];
const ok = (stdout: string): SelectorRun => ({
  exitCode: 0,
  signal: null,
  timedOut: false,
  stdout,
  stderr: '',
  durationMs: 120,
});
const judge = (payload: unknown, allowlist: string[] = [], lanes = LANES) =>
  interpretSelectorRun(ok(typeof payload === 'string' ? payload : JSON.stringify(payload)), lanes, allowlist);

type Good = Extract<SelectorVerdict, { ok: true }>;
function good(v: SelectorVerdict): Good {
  if (!v.ok) throw new Error(`expected ok, got violation: ${v.reason}`);
  return v;
}
function reasonOf(v: SelectorVerdict): string {
  if (v.ok) throw new Error(`expected a violation, got ok: ${JSON.stringify(v.order)}`);
  return v.reason;
}

describe('scores payloads', () => {
  test('lanes in score order, ties by name, each with its rank and score', () => {
    const v = good(judge({ all_scores: { triage: 0.42, code: 0.9, research: 0.42, content: 0.1 } }));
    expect(v).toMatchObject({ shape: 'scores', tier: null, task: null, ignored: [] });
    expect(v.scores).toEqual({ triage: 0.42, code: 0.9, research: 0.42, content: 0.1 });
    expect(v.order).toEqual([
      { lane: 'code', step: 'all_scores', reason: 'all_scores rank 1 (0.9)' },
      { lane: 'research', step: 'all_scores', reason: 'all_scores rank 2 (0.42)' },
      { lane: 'triage', step: 'all_scores', reason: 'all_scores rank 3 (0.42)' },
      { lane: 'content', step: 'all_scores', reason: 'all_scores rank 4 (0.1)' },
    ]);
  });

  test('unknown fields, top level and nested, are kept and ignored', () => {
    const v = good(
      judge({
        all_scores: { code: 1, triage: -2 },
        selector_mode: 'scored',
        supply_drought_consecutive_dry: 12,
        extra: { deep: [1] },
      }),
    );
    expect(v.order.map((o) => o.lane)).toEqual(['code', 'triage']);
  });

  test('scores for categories that are not lanes are ignored with the reason; the rank counts them', () => {
    const v = good(judge({ all_scores: { novelty: 0.99, code: 0.5 } }));
    expect(v.order).toEqual([{ lane: 'code', step: 'all_scores', reason: 'all_scores rank 2 (0.5)' }]);
    expect(v.ignored).toEqual([
      { value: 'novelty', step: 'all_scores', reason: 'all_scores key "novelty" is not a configured lane' },
    ]);
  });
});

describe('tiered payloads', () => {
  const cascade = {
    tier: 1,
    recommended_scope: 'standard',
    selector_mode: 'task_backed',
    blocked_tasks: ['task-a'],
    selected: {
      id: 'session-grading',
      category: 'code',
      label: '…',
      state: 'backlog',
      entry_actions: ['Open task file'],
      execution_surface: { category: 'cleanup' },
    },
    diversity_alternatives: [{ category: 'novelty' }, { category: 'content', why: 'unknown field' }],
    alternatives: [{ category: 'triage' }, { category: 'code' }],
    all_scores: { research: 0.3, triage: 0.8 },
    supply_drought_repair_needed: true,
  };

  test('the order: selected, diversity alternatives, alternatives, then the all_scores ranking; each lane once', () => {
    const v = good(judge(cascade));
    expect(v).toMatchObject({ shape: 'tiered', tier: 1, scores: { research: 0.3, triage: 0.8 } });
    expect(v.order).toEqual([
      { lane: 'code', step: 'selected', reason: 'selected lane (tier 1, task session-grading)' },
      { lane: 'content', step: 'diversity_alternatives', reason: 'diversity alternative 2' },
      { lane: 'triage', step: 'alternatives', reason: 'alternative 1' },
      { lane: 'research', step: 'all_scores', reason: 'all_scores rank 2 (0.3)' },
    ]);
    expect(v.ignored).toEqual([
      {
        value: 'novelty',
        step: 'diversity_alternatives',
        reason: 'diversity_alternatives[0].category "novelty" is not a configured lane',
      },
    ]);
  });

  test('with no all_scores the selected lane is dispatched first', () => {
    const v = good(judge({ tier: 3, selected: { category: 'triage' }, alternatives: [{ category: 'code' }] }));
    expect(v.order).toEqual([
      { lane: 'triage', step: 'selected', reason: 'selected lane (tier 3)' },
      { lane: 'code', step: 'alternatives', reason: 'alternative 1' },
    ]);
    expect(v).toMatchObject({ scores: null, task: null, tier: 3 });
  });

  test('selected may be null or missing: the alternatives carry the tick', () => {
    expect(good(judge({ tier: 3, selected: null, diversity_alternatives: [{ category: 'research' }] })).order).toEqual([
      { lane: 'research', step: 'diversity_alternatives', reason: 'diversity alternative 1' },
    ]);
    expect(good(judge({ tier: 2, alternatives: [{ category: 'content' }] })).order.map((o) => o.lane)).toEqual([
      'content',
    ]);
  });

  test('a selected id makes the tick task-backed: the suggested claim, else task:<id>', () => {
    expect(good(judge(cascade)).task).toEqual({ id: 'session-grading', lane: 'code', claim: 'task:session-grading' });
    const suggested = good(
      judge({ tier: 1, selected: { id: 'task-x', category: 'content', suggested_claim: 'cascade:task:task-x' } }),
    );
    expect(suggested.task).toEqual({ id: 'task-x', lane: 'content', claim: 'cascade:task:task-x' });
    // A suggested claim without an id is no task: there is nothing to run under it.
    expect(
      good(judge({ tier: 3, selected: { category: 'content', suggested_claim: 'lane:content' } })).task,
    ).toBeNull();
  });

  test('a selected category that is not a lane: no task, ignored with the reason, the rest still counts', () => {
    const v = good(
      judge({ tier: 0, selected: { id: 'gh-42', category: 'cross-repo' }, alternatives: [{ category: 'code' }] }),
    );
    expect(v.task).toBeNull();
    expect(v.order).toEqual([{ lane: 'code', step: 'alternatives', reason: 'alternative 1' }]);
    expect(v.ignored).toEqual([
      { value: 'cross-repo', step: 'selected', reason: 'selected.category "cross-repo" is not a configured lane' },
    ]);
  });
});

describe('the allowlist, last resort only', () => {
  test('used when the payload named no configured lane; its own unknown entries are ignored too', () => {
    const v = good(
      judge({ tier: 3, selected: { category: 'novelty' }, alternatives: [{ category: 'strategic' }] }, [
        'ghost',
        'research',
        'code',
      ]),
    );
    const why = 'the payload named no configured lane (named: novelty, strategic); selector.allowlist stands in';
    expect(v.order).toEqual([
      { lane: 'research', step: 'allowlist', reason: why },
      { lane: 'code', step: 'allowlist', reason: why },
    ]);
    expect(v.ignored.map((g) => g.reason)).toEqual([
      'selected.category "novelty" is not a configured lane',
      'alternatives[0].category "strategic" is not a configured lane',
      'allowlist entry "ghost" is not a configured lane',
    ]);
  });

  test('not used when the payload named one configured lane', () => {
    const v = good(judge({ all_scores: { novelty: 1, triage: 0 } }, ['code']));
    expect(v.order.map((o) => [o.lane, o.step])).toEqual([['triage', 'all_scores']]);
  });

  test('no configured lane from the payload nor the allowlist is a violation, not an empty plan', () => {
    expect(reasonOf(judge({ all_scores: { novelty: 1 } }))).toBe(
      'payload named no configured lane (named: novelty; known: code, triage, content, research) and the allowlist is empty',
    );
    expect(reasonOf(judge({ tier: 3, selected: null }, ['ghost']))).toBe(
      'payload named no configured lane (it named none; known: code, triage, content, research) and no allowlist entry is a configured lane either',
    );
    expect(reasonOf(judge({ all_scores: {} }))).toMatch(/^payload named no configured lane \(it named none;/);
  });
});

describe('violations', () => {
  const run = (over: Partial<SelectorRun>): SelectorRun => ({ ...ok('{"all_scores": {"code": 1}}'), ...over });
  test.each<[string, Partial<SelectorRun>, string]>([
    [
      'could not start',
      { exitCode: null, error: 'could not start: command not found: cascade' },
      'could not start: command not found: cascade',
    ],
    ['time-out', { exitCode: null, signal: 'SIGKILL', timedOut: true, durationMs: 5003.4 }, 'timed out after 5003 ms'],
    ['killed by a signal', { exitCode: null, signal: 'SIGSEGV', stderr: '' }, 'killed by SIGSEGV (stderr empty)'],
    [
      'non-zero exit, first stderr line',
      { exitCode: 3, stderr: '\n  Traceback (most recent call last):  \n  File "x"\n' },
      'exited with code 3: Traceback (most recent call last):',
    ],
    ['non-zero exit, no stderr', { exitCode: 1 }, 'exited with code 1 (stderr empty)'],
    [
      'non-zero exit, long stderr is cut',
      { exitCode: 2, stderr: 'e'.repeat(500) },
      `exited with code 2: ${'e'.repeat(200)}…`,
    ],
    ['no exit code at all', { exitCode: null }, 'ended without an exit code'],
  ])('%s', (_name, over, reason) => {
    expect(reasonOf(interpretSelectorRun(run(over), LANES, ['code']))).toBe(reason);
  });

  test.each<[string, string, string | RegExp]>([
    ['empty stdout', '', 'printed nothing on stdout (expected a JSON object)'],
    ['whitespace only', ' \n\t', 'printed nothing on stdout (expected a JSON object)'],
    ['truncated JSON', '{"tier": 3, "selected": {"category": "co', /^stdout is not valid JSON \(.+\)$/],
    ['not JSON at all', 'code triage', /^stdout is not valid JSON \(.*Unexpected token.*\)$/],
    ['a list', '[{"category": "code"}]', 'stdout JSON is a list, expected an object with "all_scores" or "tier"'],
    ['a number', '0.7', 'stdout JSON is 0.7, expected an object with "all_scores" or "tier"'],
    ['null', 'null', 'stdout JSON is null, expected an object with "all_scores" or "tier"'],
    [
      'an empty object',
      '{}',
      'payload matches neither selector shape; read as scores (it has no tier, selected or alternatives): all_scores: required a mapping is missing',
    ],
    [
      'a score that is a string',
      '{"all_scores": {"code": "high"}}',
      'payload matches neither selector shape; read as scores (it has no tier, selected or alternatives): all_scores.code: expected a number, got "high"',
    ],
    [
      'scores that are a list',
      '{"all_scores": [0.1, 0.2]}',
      /read as scores .*: all_scores: expected a mapping, got a list$/,
    ],
    ['a score of 1e999', '{"all_scores": {"code": 1e999}}', 'all_scores.code: expected a finite number, got Infinity'],
    [
      'a tier that is a string',
      '{"tier": "3", "selected": {"category": "code"}}',
      'payload matches neither selector shape; read as tiered (it has "tier"): tier: expected a number, got "3"',
    ],
    [
      'a fractional tier',
      '{"tier": 1.5, "selected": {"category": "code"}}',
      /read as tiered \(it has "tier"\): tier: /,
    ],
    [
      'tiered fields without a tier',
      '{"selected": {"category": "code"}, "all_scores": {"code": 1}}',
      'payload matches neither selector shape; read as tiered (it has "selected"): tier: required a number is missing',
    ],
    [
      'selected without a category',
      '{"tier": 1, "selected": {"id": "t1"}}',
      /read as tiered \(it has "tier"\): selected\.category: required a string is missing$/,
    ],
    ['selected that is a string', '{"tier": 1, "selected": "code"}', /: selected: expected a mapping, got "code"$/],
    [
      'an alternative without a category',
      '{"tier": 3, "alternatives": [{"category": "code"}, {"name": "x"}]}',
      /: alternatives\[1\]\.category: required a string is missing$/,
    ],
    [
      'alternatives that are strings',
      '{"tier": 3, "diversity_alternatives": ["code"]}',
      /: diversity_alternatives\[0\]: expected a mapping, got "code"$/,
    ],
    [
      'an empty category',
      '{"tier": 3, "selected": {"category": ""}}',
      /: selected\.category: expected a non-empty string, got ""$/,
    ],
    [
      'an empty id',
      '{"tier": 3, "selected": {"category": "code", "id": " "}}',
      /: selected\.id: expected a non-empty string, got " "$/,
    ],
    [
      'a tiered score of the wrong type',
      '{"tier": 3, "all_scores": {"code": null}}',
      /: all_scores\.code: expected a number, got null$/,
    ],
    [
      'a suggested claim with whitespace',
      '{"tier": 1, "selected": {"id": "t", "category": "code", "suggested_claim": "task:a b"}}',
      'selected.suggested_claim "task:a b" is not a claim key: a claim key cannot hold whitespace',
    ],
    [
      'a suggested claim without a namespace',
      '{"tier": 1, "selected": {"id": "t", "category": "code", "suggested_claim": "just-a-name"}}',
      /^selected\.suggested_claim "just-a-name" is not a claim key: expected NAMESPACE:REST/,
    ],
    [
      'a suggested claim that is too long',
      `{"tier": 1, "selected": {"id": "t", "category": "code", "suggested_claim": "task:${'a'.repeat(200)}"}}`,
      /is not a claim key: a claim key has at most 200 characters, this one has 205$/,
    ],
    [
      'a suggested claim with a control character',
      '{"tier": 1, "selected": {"id": "t", "category": "code", "suggested_claim": "task:a\\u0007"}}',
      /is not a claim key: a claim key must be printable/,
    ],
    [
      'an id that makes no claim key',
      '{"tier": 1, "selected": {"id": "has space", "category": "code"}}',
      /^selected\.id "has space" makes the claim key "task:has space", which is not one: /,
    ],
  ])('%s', (_name, stdout, reason) => {
    const r = reasonOf(interpretSelectorRun(ok(stdout), LANES, ['code']));
    if (typeof reason === 'string') expect(r).toBe(reason);
    else expect(r).toMatch(reason);
  });

  test("an issue reference from CASCADE's tier 0 is claimed as github:owner/repo#N", () => {
    const v = interpretSelectorRun(
      ok('{"tier": 0, "selected": {"id": "owner/repo#42", "category": "code"}}'),
      LANES,
      [],
    );
    expect(v).toMatchObject({ ok: true, task: { id: 'owner/repo#42', lane: 'code', claim: 'github:owner/repo#42' } });
  });

  test('a failed run is a violation even when its stdout holds a good payload', () => {
    expect(reasonOf(interpretSelectorRun(run({ exitCode: 3, stderr: 'boom' }), LANES, []))).toBe(
      'exited with code 3: boom',
    );
  });
});

describe('claim keys from a selector', () => {
  test.each([
    ['task:x', null],
    ['cascade:task:task-x', null],
    ['github:org/repo#5', null],
    ['task:', /^expected task:SLUG/],
    ['a b:c', 'a claim key cannot hold whitespace'],
    [':x', /^expected NAMESPACE:REST/],
  ])('%j', (key, expected) => {
    const p = selectorClaimProblem(key);
    if (expected === null || typeof expected === 'string') expect(p).toBe(expected);
    else expect(p).toMatch(expected);
  });
});
