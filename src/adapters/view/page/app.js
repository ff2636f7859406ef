// The local view in the browser. Plain JavaScript, no framework, nothing fetched but from the
// lanekeeper that served it. Two modes:
//  - Live: polls /api/live every second and lights each lane's current state in its chart.
//  - Journal: steps through /api/journal/steps (the journal replayed by the server) and lights each
//    lane's state after the selected event, with the transition it just took.
// Each lane's chart is a copy of /api/chart; every state element's id (its path, e.g.
// `running.grading`) is moved to data-state so the copies do not clash.
/* global document, window, fetch, DOMParser */
'use strict';

const POLL_MS = 1000;
const PAGE = 200;

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('data-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
};
const svgEl = (tag, attrs) => {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
};
const time = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });
const fixed = (x, d = 2) => (typeof x === 'number' ? x.toFixed(d) : '');

/** 950ms, 12s, 3m 5s, 2h 10m: the same short form the command line prints. */
function duration(ms) {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${Math.floor(ms / 1000)}s`;
  if (ms < 3_600_000) {
    const m = Math.floor(ms / 60_000);
    const s = Math.floor((ms % 60_000) / 1000);
    return s ? `${m}m ${s}s` : `${m}m`;
  }
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  return m ? `${h}h ${m}m` : `${h}h`;
}

async function getJson(url) {
  const res = await fetch(url, { cache: 'no-store' });
  const body = await res.json();
  if (!res.ok) throw Object.assign(new Error(body.error || `${url}: HTTP ${res.status}`), { status: res.status });
  return body;
}

const state = {
  mode: 'live',
  chart: null, // the parsed SVG element, cloned per lane
  live: null,
  liveAt: 0, // Date.now() when `live` arrived, to advance elapsed times between polls
  journal: null, // /api/journal
  pages: new Map(), // page number → steps
  index: 0,
};

// ---- lane cards and their charts -----------------------------------------------------------

const cards = new Map();

function card(laneId) {
  let c = cards.get(laneId);
  if (c) return c;
  const chart = state.chart.cloneNode(true);
  for (const node of chart.querySelectorAll('[id]')) {
    if (node.classList.contains('state')) node.setAttribute('data-state', node.id);
    else if (node.classList.contains('transition')) node.setAttribute('data-transition', node.id);
    node.removeAttribute('id');
  }
  const name = el('span', { class: 'state-name' });
  const since = el('span', { class: 'since' });
  const root = el(
    'article',
    { class: 'lane', 'data-lane': laneId },
    el('h3', {}, el('span', { textContent: laneId }), name, since),
    el('div', { class: 'chart' }, chart),
  );
  c = { root, chart, name, since };
  cards.set(laneId, c);
  // Cards keep the order lanes were first seen in.
  $('lanes').append(root);
  return c;
}

/** Lights `path` in a lane's chart (and the compound states around it); `from`: the path before, to light the transition taken. */
function light(c, path, from) {
  for (const node of c.chart.querySelectorAll('.current, .active, .taken'))
    node.classList.remove('current', 'active', 'taken');
  c.root.setAttribute('data-path', path);
  const parts = path.split('.');
  for (let i = 1; i <= parts.length; i++) {
    const node = c.chart.querySelector(`[data-state="${parts.slice(0, i).join('.')}"]`);
    if (node) node.classList.add(i === parts.length ? 'current' : 'active');
  }
  if (from && from !== path) {
    const within = (p, s) => p === s || p.startsWith(`${s}.`);
    for (const edge of c.chart.querySelectorAll('[data-transition]')) {
      const [src, dst] = edge.getAttribute('data-transition').split('->');
      if (within(from, src) && within(path, dst)) edge.classList.add('taken');
    }
  }
}

function showLanes(lanes, describe) {
  const shown = new Set();
  for (const l of lanes) {
    const c = card(l.laneId);
    shown.add(l.laneId);
    c.root.hidden = false;
    const { path, name, since, from } = describe(l);
    c.name.textContent = name;
    c.since.textContent = since;
    light(c, path, from);
  }
  for (const [id, c] of cards) if (!shown.has(id)) c.root.hidden = true;
}

// ---- live mode ------------------------------------------------------------------------------

function renderLive() {
  const v = state.live;
  const now = v.now + (Date.now() - state.liveAt);
  $('status').className = '';
  const stopped = v.lastStop
    ? ` (${v.lastStop.clean ? 'stopped cleanly' : 'the last run ended without draining'} at ${time(v.lastStop.at)})`
    : '';
  $('status').textContent =
    `${v.stateDir} · ${v.running ? 'lanekeeper is running' : `lanekeeper is not running${stopped}`} · updated ${time(v.now)}`;
  if (state.mode === 'live') {
    showLanes(v.lanes, (l) => ({
      path: l.state,
      name: l.state,
      since: `for ${duration(now - l.since)}${l.session ? ` · ${l.session}` : ''}${l.slot > 1 ? ` · slot ${l.slot}` : ''}`,
    }));
    $('lanes-note').textContent = v.lanes.length
      ? ''
      : 'no lanes recorded yet: has lanekeeper run with this state directory?';
  }
  rows(
    'sessions',
    v.sessions.map((s) => [
      s.id,
      s.laneId,
      s.arm,
      s.dispatch,
      s.task ?? '',
      { text: duration(now - s.startedAt), num: true },
    ]),
    'no session is running',
  );
  rows(
    'claims',
    v.claims.map((c) => [
      c.key,
      { text: c.slot, num: true },
      c.holder,
      { text: c.epoch, num: true },
      { text: duration(c.expiresAt - now), num: true },
    ]),
    'no claims held',
  );
  rows(
    'events',
    v.events.map((e) => [{ text: e.seq, num: true }, time(e.at), e.type, e.summary]),
    'the journal is empty',
  );
  renderDecisions(v.decisions);
  renderFallbacks(v.fallbacks);
  renderPosteriors(v.posteriors);
}

function rows(tableId, data, empty) {
  const body = $(tableId).tBodies[0];
  const cols = $(tableId).tHead.rows[0].cells.length;
  if (!data.length) {
    body.replaceChildren(el('tr', {}, el('td', { class: 'empty', colSpan: cols, textContent: empty })));
    return;
  }
  body.replaceChildren(
    ...data.map((cells) =>
      el(
        'tr',
        {},
        ...cells.map((c) =>
          typeof c === 'object'
            ? el('td', { class: c.num ? 'num' : '', textContent: String(c.text) })
            : el('td', { textContent: String(c) }),
        ),
      ),
    ),
  );
}

const COMPONENTS = [
  'sample',
  'mean',
  'evidence',
  'deficit',
  'monotony',
  'neglect',
  'signal',
  'tier',
  'streak',
  'windowShare',
];

function renderDecisions(decisions) {
  const list = $('decisions');
  if (!decisions.length) {
    list.replaceChildren(el('li', { class: 'empty', textContent: 'no decisions yet' }));
    return;
  }
  list.replaceChildren(
    ...decisions.map((d) =>
      el(
        'li',
        {},
        el('p', { class: 'line', textContent: d.line }),
        ...d.chosen
          .filter((c) => c.components)
          .map((c) =>
            el(
              'div',
              { class: 'components' },
              el('b', { textContent: `${c.laneId}${c.task ? ` [${c.task}]` : ''} ${fixed(c.score)}` }),
              ...COMPONENTS.filter(
                (k) => typeof c.components[k] === 'number' && (c.components[k] !== 0 || k === 'sample' || k === 'mean'),
              ).map((k) =>
                el('span', {
                  textContent: `${k} ${Number.isInteger(c.components[k]) ? c.components[k] : fixed(c.components[k])}`,
                }),
              ),
              ...(c.components.plateau && c.components.plateau.length
                ? [el('span', { textContent: `plateau: ${c.components.plateau.join(', ')}` })]
                : []),
            ),
          ),
      ),
    ),
  );
}

/** Each distinct fallback of the recent decisions once, with how many decisions recorded it. */
function renderFallbacks(fallbacks) {
  $('fallbacks-note').textContent = fallbacks.length ? 'each once, with the number of decisions that recorded it' : '';
  if (!fallbacks.length) {
    $('fallbacks').replaceChildren(el('li', { class: 'empty', textContent: 'none in the recent decisions' }));
    return;
  }
  $('fallbacks').replaceChildren(
    ...fallbacks.map((f) =>
      el(
        'li',
        {},
        el('b', { class: 'count', textContent: `×${f.count}` }),
        ` ${f.step}: ${f.reason} `,
        el('span', {
          class: 'ticks',
          textContent: `· ${f.count === 1 ? `tick at event ${f.lastSeq}` : `ticks at events ${f.firstSeq}–${f.lastSeq}`}`,
        }),
      ),
    ),
  );
}

/** One row per belief: a band for the ±2 sd interval and a tick at the mean, on a 0–1 axis. */
function posteriorRow(label, b) {
  const svg = svgEl('svg', {
    viewBox: '0 0 100 10',
    preserveAspectRatio: 'none',
    role: 'img',
    'aria-label': `${label}: mean ${fixed(b.mean)}`,
  });
  svg.append(
    svgEl('line', { class: 'axis', x1: 0, x2: 100, y1: 5, y2: 5 }),
    svgEl('rect', { class: 'band', x: b.low * 100, y: 2, width: Math.max(0.5, (b.high - b.low) * 100), height: 6 }),
    svgEl('line', { class: 'mean', x1: b.mean * 100, x2: b.mean * 100, y1: 0, y2: 10 }),
  );
  return el(
    'div',
    {
      class: 'posterior',
      title: `mean ${fixed(b.mean, 3)}, interval ${fixed(b.low)}–${fixed(b.high)}, evidence ${fixed(b.evidence, 1)} sessions`,
    },
    el('span', { textContent: label }),
    svg,
    el('span', { class: 'figures', textContent: `${fixed(b.mean)} · n ${fixed(b.evidence, 1)}` }),
  );
}

function renderPosteriors(p) {
  const box = $('posteriors');
  if (!p || (!p.lanes.length && !p.arms.length)) {
    $('posterior-note').textContent = '';
    box.replaceChildren(el('p', { class: 'empty', textContent: 'nothing learned yet' }));
    return;
  }
  $('posterior-note').textContent = `${p.model}, ${p.clock} graded session${p.clock === 1 ? '' : 's'}; bands are ±2 sd`;
  const parts = [
    el('div', { class: 'posterior-group', textContent: 'lanes' }),
    ...p.lanes.map((b) => posteriorRow(b.lane, b)),
  ];
  const byLane = new Map();
  for (const a of p.arms) byLane.set(a.lane, [...(byLane.get(a.lane) ?? []), a]);
  for (const [lane, arms] of byLane) {
    parts.push(
      el('div', { class: 'posterior-group', textContent: lane === '*' ? 'arms, all lanes' : `arms in ${lane}` }),
    );
    parts.push(...arms.map((a) => posteriorRow(a.arm, a)));
  }
  box.replaceChildren(...parts);
}

async function poll() {
  try {
    state.live = await getJson('/api/live');
    state.liveAt = Date.now();
    renderLive();
  } catch (err) {
    $('status').className = 'down';
    $('status').textContent = `cannot reach lanekeeper inspect (${err.message}); retrying`;
  }
}

// ---- journal mode ---------------------------------------------------------------------------

async function stepAt(index) {
  const page = Math.floor(index / PAGE);
  if (!state.pages.has(page)) {
    const body = await getJson(`/api/journal/steps?from=${page * PAGE}&limit=${PAGE}`);
    state.pages.set(page, body.steps);
  }
  return state.pages.get(page)[index - page * PAGE];
}

async function openJournal(reload = false) {
  $('step-position').textContent = 'replaying the journal…';
  $('step-event').replaceChildren();
  state.pages.clear();
  try {
    state.journal = await getJson(`/api/journal${reload ? '?reload=1' : ''}`);
  } catch (err) {
    $('step-position').textContent = `cannot open the journal: ${err.message}`;
    return;
  }
  const j = state.journal;
  const notes = [...j.notes];
  if (j.firstDivergence)
    notes.unshift(
      `${j.divergences} divergence(s); the first at seq ${j.firstDivergence.seq} (${j.firstDivergence.event}: ${j.firstDivergence.what})`,
    );
  $('journal-note').textContent = notes.join(' · ');
  $('journal-note').hidden = !notes.length;
  $('step-slider').max = String(Math.max(0, j.total - 1));
  await go(Math.min(state.index, Math.max(0, j.total - 1)));
}

async function go(index) {
  const j = state.journal;
  if (!j || !j.total) {
    $('step-position').textContent = j ? `${j.name}: no events to step through` : '';
    for (const id of ['step-first', 'step-prev', 'step-next', 'step-last']) $(id).disabled = true;
    showLanes([], () => ({}));
    return;
  }
  index = Math.max(0, Math.min(j.total - 1, index));
  state.index = index;
  const step = await stepAt(index);
  const before = index > 0 ? await stepAt(index - 1) : null;
  if (state.mode !== 'journal' || state.index !== index) return;
  $('step-slider').value = String(index);
  $('step-first').disabled = $('step-prev').disabled = index === 0;
  $('step-next').disabled = $('step-last').disabled = index === j.total - 1;
  $('step-position').textContent = `event ${index + 1} of ${j.total} · ${j.name}`;
  $('step-event').replaceChildren(
    el(
      'div',
      {},
      el('span', { textContent: `#${step.seq} · ${time(step.at)} · ` }),
      el('span', { class: 'type', textContent: step.type }),
      el('span', { textContent: ` — ${step.summary}` }),
    ),
    step.intents.length
      ? el('ul', {}, ...step.intents.map((i) => el('li', { textContent: i })))
      : el('ul', {}, el('li', { textContent: 'no intents' })),
  );
  const prior = new Map((before?.lanes ?? []).map((l) => [l.laneId, l.path]));
  showLanes(step.lanes, (l) => ({
    path: l.path,
    name: l.path,
    since: `after #${step.seq}`,
    from: prior.get(l.laneId),
  }));
}

// ---- modes and controls -----------------------------------------------------------------------

function setMode(mode) {
  state.mode = mode;
  $('mode-live').setAttribute('aria-pressed', String(mode === 'live'));
  $('mode-journal').setAttribute('aria-pressed', String(mode === 'journal'));
  $('stepper').hidden = mode !== 'journal';
  $('live-panels').hidden = mode !== 'live';
  if (mode === 'journal') {
    if (!state.journal) void openJournal();
    else void go(state.index);
  } else if (state.live) renderLive();
}

async function start() {
  const res = await fetch('/api/chart');
  const doc = new DOMParser().parseFromString(await res.text(), 'image/svg+xml');
  state.chart = document.importNode(doc.documentElement, true);
  state.chart.removeAttribute('width');
  state.chart.removeAttribute('height');

  $('mode-live').addEventListener('click', () => setMode('live'));
  $('mode-journal').addEventListener('click', () => setMode('journal'));
  $('step-first').addEventListener('click', () => go(0));
  $('step-prev').addEventListener('click', () => go(state.index - 1));
  $('step-next').addEventListener('click', () => go(state.index + 1));
  $('step-last').addEventListener('click', () => go((state.journal?.total ?? 1) - 1));
  $('step-slider').addEventListener('input', (e) => go(Number(e.target.value)));
  $('step-reload').addEventListener('click', () => openJournal(true));
  document.addEventListener('keydown', (e) => {
    if (state.mode !== 'journal' || e.target instanceof window.HTMLInputElement) return;
    if (e.key === 'ArrowRight') void go(state.index + 1);
    else if (e.key === 'ArrowLeft') void go(state.index - 1);
    else if (e.key === 'Home') void go(0);
    else if (e.key === 'End') void go((state.journal?.total ?? 1) - 1);
  });

  const about = await getJson('/api/about');
  if (about.stateDir === null) {
    // Started with --journal and no state directory: there is nothing live to show.
    $('mode-live').disabled = true;
    $('status').textContent = `journal ${about.journal} (no state directory)`;
    setMode('journal');
    return;
  }
  window.setInterval(poll, POLL_MS);
  await poll();
  if (window.location.hash === '#journal') setMode('journal');
}

start().catch((err) => {
  $('status').className = 'down';
  $('status').textContent = `the view could not start: ${err.message}`;
});
