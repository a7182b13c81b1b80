// The search page of `pubmine serve`: a client of the same origin's JSON API (/search,
// /documents/{id}). The URL holds the whole state, so that a search can be bookmarked, reloaded
// and shared, and back/forward work. Every text from the API goes into the page as a text node,
// never as markup.

const PAGE_SIZE = 10;
const FACET_LIMIT = 10;
/** Snippets shown per paper before "show more". */
const SNIPPETS_SHOWN = 3;
/** The deepest page the API serves (offset + limit). */
const MAX_DEPTH = 10000;
/** The state's keys, as the URL and the API name them (`paper` is the page's own). */
const KEYS = ['query', 'type', 'year_from', 'year_to', 'with', 'offset', 'paper'];

// ---------------------------------------------------------------------------------------------
// Small helpers

const $ = (id) => document.getElementById(id);

/**
 * A new element. `props`: `class`, `text`, `dataset` (an object), `style` (custom properties
 * and style properties), `on` (event handlers), and attributes. `children`: nodes or strings
 * (strings become text nodes).
 */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'style') {
      for (const [p, v] of Object.entries(value)) node.style.setProperty(p, v);
    } else if (key === 'on') {
      for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    } else node.setAttribute(key, value === true ? '' : String(value));
  }
  node.append(...children.flat(Infinity).filter((c) => c !== undefined && c !== null && c !== false));
  return node;
}

const plural = (n, one, many = `${one}s`) => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

const formatScore = (score) => (typeof score === 'number' ? score.toFixed(2) : '?');

/** A document id in a path: `pmid:1` and `pmc:PMC1` hold a colon, which stays encoded. */
const documentPath = (id) => `/documents/${encodeURIComponent(id)}`;

// ---------------------------------------------------------------------------------------------
// Colours of entity types: a fixed palette for the common ones, a hash of the name for others.

const PALETTE = {
  disease: ['#fde0dd', '#c0392b'],
  chemical: ['#d8f3dc', '#2d7d46'],
  drug: ['#d8f3dc', '#2d7d46'],
  gene: ['#dbe8fd', '#2f62c4'],
  protein: ['#dbe8fd', '#2f62c4'],
  geneorgeneproduct: ['#dbe8fd', '#2f62c4'],
  species: ['#fdeccb', '#a86b00'],
  organism: ['#fdeccb', '#a86b00'],
  mutation: ['#ece0fb', '#7b44c2'],
  proteinmutation: ['#ece0fb', '#7b44c2'],
  dnamutation: ['#ece0fb', '#7b44c2'],
  snp: ['#ece0fb', '#7b44c2'],
  sequencevariant: ['#ece0fb', '#7b44c2'],
  cellline: ['#d3f1f0', '#16807c'],
  celltype: ['#fce1ef', '#b3307a'],
};
/** The order of the palette's types in the legend; other types follow by name. */
const PALETTE_ORDER = ['disease', 'chemical', 'gene', 'species', 'mutation', 'cellline', 'celltype'];

const typeKey = (type) => String(type).toLowerCase().replace(/[\s_-]+/g, '');

/** FNV-1a, 32 bits: a stable hash of a type's name. */
function hash(text) {
  let h = 0x811c9dc5;
  for (const ch of text) {
    h ^= ch.codePointAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The type's colours: `bg` for the highlight, `fg` for its border and swatch. */
function typeColour(type) {
  const fixed = PALETTE[typeKey(type)];
  if (fixed) return { bg: fixed[0], fg: fixed[1] };
  const hue = hash(typeKey(type)) % 360;
  return { bg: `hsl(${hue} 80% 90%)`, fg: `hsl(${hue} 60% 35%)` };
}

const colourStyle = (type) => {
  const c = typeColour(type);
  return { '--bg': c.bg, '--fg': c.fg };
};

// ---------------------------------------------------------------------------------------------
// State <-> URL <-> API

/** The state the URL holds. */
function readState(search = location.search) {
  const params = new URLSearchParams(search);
  const state = {};
  for (const key of KEYS) state[key] = (params.get(key) ?? '').trim();
  state.offset = Math.max(0, Number.parseInt(state.offset, 10) || 0);
  return state;
}

/** The URL of a state: empty values left out. */
function stateUrl(state) {
  const params = new URLSearchParams();
  for (const key of KEYS) {
    const value = state[key];
    if (key === 'offset' ? value > 0 : value) params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : location.pathname;
}

/** The /search request of a state: empty parameters left out (the API refuses unknown ones). */
function searchUrl(state) {
  const params = new URLSearchParams({ query: state.query });
  for (const key of ['type', 'year_from', 'year_to', 'with']) {
    if (state[key]) params.set(key, state[key]);
  }
  params.set('limit', String(PAGE_SIZE));
  if (state.offset > 0) params.set('offset', String(state.offset));
  params.set('facets', 'true');
  params.set('facet_limit', String(FACET_LIMIT));
  return `/search?${params}`;
}

/** Moves to `state`: a new history entry (or a replaced one), then renders it. */
function navigate(state, { replace = false, fromResults = false } = {}) {
  const url = stateUrl(state);
  const entry = { fromResults };
  if (replace) history.replaceState(entry, '', url);
  else history.pushState(entry, '', url);
  render();
}

// ---------------------------------------------------------------------------------------------
// The API

class ApiFailure extends Error {
  /** `status` 0 when the server could not be reached. */
  constructor(status, reason) {
    super(reason);
    this.status = status;
    this.reason = reason;
  }
}

async function fetchJson(url, signal) {
  let response;
  try {
    response = await fetch(url, { headers: { Accept: 'application/json' }, signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiFailure(0, 'The server could not be reached. Check that `pubmine serve` is running.');
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON: a proxy's error page, or an empty body.
  }
  if (!response.ok) {
    const reason = body && typeof body.error === 'string' ? body.error : response.statusText;
    throw new ApiFailure(response.status, reason || `HTTP ${response.status}`);
  }
  if (body === null) throw new ApiFailure(response.status, 'The server sent a response that is not JSON.');
  return body;
}

// ---------------------------------------------------------------------------------------------
// Errors

function showError(failure, what) {
  const box = $('error');
  box.replaceChildren();
  let heading;
  if (failure.status === 0) heading = 'No connection';
  else if (failure.status === 400) heading = what === 'search' ? 'The query is not valid' : 'Bad request';
  else if (failure.status === 404) heading = 'Not found';
  else if (failure.status >= 500) heading = `The server failed (HTTP ${failure.status})`;
  else heading = `The request failed (HTTP ${failure.status})`;
  box.append(el('strong', { class: 'error-title', text: heading }), ' ',
    el('span', { class: 'error-reason', id: 'error-reason', text: failure.reason }));
  if (failure.status === 400 && what === 'search') {
    box.append(' ', el('button', {
      type: 'button', class: 'link-button',
      on: { click: () => { $('syntax-hint').open = true; $('syntax-hint').querySelector('summary').focus(); } },
    }, 'Show the query syntax'));
  }
  box.hidden = false;
}

function clearError() {
  $('error').hidden = true;
  $('error').replaceChildren();
}

// ---------------------------------------------------------------------------------------------
// Highlighting: text with possibly overlapping spans

/**
 * `text` with `spans` ({start, end} in code points, plus what `decorate` needs) marked up. The
 * text is cut at every span boundary; each piece is wrapped in the elements of all spans that
 * cover it, outermost (earliest start, then longest) first. Nested spans become nested elements;
 * a span that crosses another's end is continued in a second element (class `cont`), so every
 * span stays findable. `decorate(span, continued)` makes a span's element.
 */
function highlight(text, spans, decorate) {
  const chars = Array.from(text);
  const n = chars.length;
  const order = spans
    .filter((s) => Number.isInteger(s.start) && Number.isInteger(s.end) && s.start >= 0 && s.start < s.end && s.end <= n)
    .map((s, i) => ({ s, i }))
    .sort((a, b) => a.s.start - b.s.start || b.s.end - a.s.end || a.i - b.i)
    .map(({ s }) => s);
  const cuts = new Set([0, n]);
  for (const s of order) cuts.add(s.start).add(s.end);
  const bounds = [...cuts].sort((a, b) => a - b);
  const root = document.createDocumentFragment();
  const stack = []; // [{span, node}], outermost first
  const started = new Set();
  for (let b = 0; b + 1 < bounds.length; b++) {
    const [from, to] = [bounds[b], bounds[b + 1]];
    const covering = order.filter((s) => s.start <= from && s.end >= to);
    let keep = 0;
    while (keep < stack.length && keep < covering.length && stack[keep].span === covering[keep]) keep++;
    stack.length = keep;
    for (const span of covering.slice(keep)) {
      const node = decorate(span, started.has(span));
      started.add(span);
      (stack.length ? stack[stack.length - 1].node : root).append(node);
      stack.push({ span, node });
    }
    (stack.length ? stack[stack.length - 1].node : root).append(chars.slice(from, to).join(''));
  }
  return { fragment: root, placed: started.size, total: spans.length };
}

/**
 * The element of mention `m` (an API mention; `index` its position in the hit's or the
 * document's list): class `mention`, its type's colours, and hooks for tests and the tooltip.
 * `data-start`/`data-end` are always the mention's offsets in its passage.
 */
function mentionElement(m, index, continued, extra = {}) {
  const node = el('mark', {
    class: `mention${continued ? ' cont' : ''}${m.matched === 'with' ? ' with' : ''}`,
    style: colourStyle(m.type),
    dataset: {
      mention: String(index),
      type: m.type,
      passage: String(m.passage),
      start: String(m.start),
      end: String(m.end),
      model: m.model ?? '',
      score: formatScore(m.score),
      ...extra,
    },
  });
  if (m.matched) node.dataset.matched = m.matched;
  // A document's mentions carry `concept: {id, name, ...}`, a search hit's `concept` (the id)
  // and `concept_name`.
  const concept = typeof m.concept === 'object' && m.concept ? m.concept.id : m.concept;
  const conceptName = typeof m.concept === 'object' && m.concept ? m.concept.name : m.concept_name;
  if (concept) {
    node.dataset.concept = concept;
    node.dataset.conceptName = conceptName ?? '';
  }
  return node;
}

// ---------------------------------------------------------------------------------------------
// Tooltip: type, model, score and concept of the mentions under the pointer or focus

function mentionChain(target) {
  const chain = [];
  for (let node = target.closest?.('.mention'); node; node = node.parentElement?.closest('.mention')) {
    chain.push(node);
  }
  return chain;
}

function showTooltip(target) {
  const chain = mentionChain(target);
  const tip = $('tooltip');
  if (!chain.length) {
    tip.hidden = true;
    return;
  }
  tip.replaceChildren(...chain.map((m) => el('div', { class: 'tip-line' },
    el('span', { class: 'swatch', style: colourStyle(m.dataset.type) }),
    el('strong', { text: m.dataset.type }),
    ` · ${m.dataset.model || 'unknown model'} · score ${m.dataset.score}`,
    m.dataset.concept ? ` · ${m.dataset.concept} ${m.dataset.conceptName}` : '')));
  tip.hidden = false;
  const box = chain[0].getBoundingClientRect();
  const width = tip.offsetWidth;
  const left = Math.min(Math.max(8, box.left), window.innerWidth - width - 8);
  const above = box.top - tip.offsetHeight - 6;
  tip.style.left = `${left + window.scrollX}px`;
  tip.style.top = `${(above > 0 ? above : box.bottom + 6) + window.scrollY}px`;
}

function hideTooltip() {
  $('tooltip').hidden = true;
}

// ---------------------------------------------------------------------------------------------
// Entity types: the select and the legend

const knownTypes = new Set();

function noteTypes(types) {
  let added = false;
  for (const t of types) {
    if (t && !knownTypes.has(t)) {
      knownTypes.add(t);
      added = true;
    }
  }
  if (added) renderLegend();
}

function sortedTypes() {
  const rank = (t) => {
    const i = PALETTE_ORDER.indexOf(typeKey(t));
    return i < 0 ? PALETTE_ORDER.length : i;
  };
  return [...knownTypes].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function renderLegend() {
  const list = $('legend');
  const types = sortedTypes();
  list.replaceChildren(...types.map((t) => el('li', { dataset: { type: t } },
    el('span', { class: 'swatch', style: colourStyle(t) }), t)));
  if (!types.length) list.append(el('li', { class: 'muted', text: 'No types seen yet.' }));
}

/** Fills the type select from the facets of a search for every paper. */
async function loadTypes() {
  try {
    const resp = await fetchJson('/search?query=*&limit=1&facets=true&facet_limit=1');
    const types = (resp.facets ?? []).map((g) => g.type);
    noteTypes(types);
    fillTypeSelect(types);
  } catch {
    // No index, or no connection: the search itself reports it.
  }
}

function fillTypeSelect(types) {
  const select = $('type');
  const present = new Set([...select.options].map((o) => o.value));
  for (const t of types) {
    if (!present.has(t)) {
      select.append(el('option', { value: t, text: t }));
      present.add(t);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The form

function fillForm(state) {
  $('q').value = state.query;
  fillTypeSelect(state.type ? [state.type] : []);
  $('type').value = state.type;
  $('year-from').value = state.year_from;
  $('year-to').value = state.year_to;
  $('with').value = state.with;
}

function formState() {
  return {
    query: $('q').value.trim(),
    type: $('type').value.trim(),
    year_from: $('year-from').value.trim(),
    year_to: $('year-to').value.trim(),
    with: $('with').value.trim(),
    offset: 0,
    paper: '',
  };
}

function onSubmit(event) {
  event.preventDefault();
  hideTooltip();
  const state = formState();
  if (!state.query) {
    showError(new ApiFailure(400, 'Type an entity to search for, or * for every paper.'), 'search');
    $('q').focus();
    return;
  }
  lastSearch = null; // a submit searches again even when nothing changed
  navigate(state, { replace: stateUrl(state) === stateUrl(readState()) });
}

/** `"name"` added to the "mentioned with" filter: AND-ed to what is there. */
function combineWith(current, name) {
  const phrase = `"${name.replace(/["\\]/g, ' ').trim()}"`;
  const existing = (current ?? '').trim();
  if (!existing) return phrase;
  if (existing.includes(phrase)) return existing;
  const wrapped = /\b(OR)\b/.test(existing) ? `(${existing})` : existing;
  return `${wrapped} AND ${phrase}`;
}

// ---------------------------------------------------------------------------------------------
// Search results

let lastSearch = null; // {url, response} of the search on show
let searchController = null;

async function renderSearch(state) {
  const hasQuery = Boolean(state.query);
  $('welcome').hidden = hasQuery || Boolean(state.paper);
  if (!hasQuery) {
    searchController?.abort();
    searchController = null;
    delete $('main').dataset.searched;
    $('main').removeAttribute('aria-busy');
    $('results').hidden = true;
    $('facets-panel').hidden = true;
    $('years-panel').hidden = true;
    lastSearch = null;
    return;
  }
  const url = searchUrl(state);
  if (lastSearch?.url === url) return; // on show already (e.g. a paper was closed)
  searchController?.abort();
  const controller = new AbortController();
  searchController = controller;
  const main = $('main');
  // `data-searched` names the request whose outcome is on show: none while one is running.
  delete main.dataset.searched;
  main.setAttribute('aria-busy', 'true');
  $('status').textContent = 'Searching…';
  try {
    const response = await fetchJson(url, controller.signal);
    if (controller.signal.aborted) return;
    lastSearch = { url, response };
    clearError();
    renderResults(state, response);
  } catch (e) {
    if (e.name === 'AbortError') return;
    lastSearch = null;
    $('results').hidden = true;
    $('facets-panel').hidden = true;
    $('years-panel').hidden = true;
    showError(e instanceof ApiFailure ? e : new ApiFailure(0, String(e)), 'search');
  } finally {
    if (searchController === controller) {
      main.dataset.searched = url;
      main.removeAttribute('aria-busy');
    }
  }
}

function renderResults(state, resp) {
  const types = new Set();
  for (const hit of resp.hits) for (const m of hit.mentions) types.add(m.type);
  for (const g of resp.facets ?? []) types.add(g.type);
  noteTypes(types);

  $('results').hidden = false;
  renderStatus(state, resp);
  renderFilters(state);
  $('hits').replaceChildren(...resp.hits.map((hit) => renderHit(hit, state)));
  renderPager(state, resp);
  renderFacets(state, resp.facets ?? [], resp.facets_sampled);
  renderYears(state, resp.years ?? []);
}

function renderStatus(state, resp) {
  const status = $('status');
  const total = el('span', { id: 'total', text: String(resp.total) });
  if (resp.total === 0) {
    status.replaceChildren(total, ' papers match. Try fewer filters, another spelling, or a prefix (', el('code', { text: 'diabet*' }), ').');
  } else if (resp.hits.length === 0) {
    status.replaceChildren('No papers on this page; there are ', total, ' in all.');
  } else {
    const from = resp.offset + 1;
    const to = resp.offset + resp.hits.length;
    status.replaceChildren(`Results ${from}–${to} of `, total, resp.total === 1 ? ' paper' : ' papers');
  }
}

/** The filters in force, each with a button that removes it. */
function renderFilters(state) {
  const chips = [];
  const chip = (label, value, without) => chips.push(el('span', { class: 'chip' },
    el('span', { class: 'chip-label', text: `${label}: ` }), value,
    el('button', {
      type: 'button', class: 'chip-remove', 'aria-label': `Remove the filter ${label}: ${value}`,
      on: { click: () => navigate({ ...state, ...without, offset: 0, paper: '' }) },
    }, '×')));
  if (state.type) chip('Type', state.type, { type: '' });
  if (state.year_from || state.year_to) {
    const years = state.year_from === state.year_to ? state.year_from : `${state.year_from || '…'}–${state.year_to || '…'}`;
    chip(state.year_from === state.year_to ? 'Year' : 'Years', years, { year_from: '', year_to: '' });
  }
  if (state.with) chip('With', state.with, { with: '' });
  $('active-filters').replaceChildren(...chips);
}

function paperHref(state, id) {
  return stateUrl({ ...state, paper: id });
}

function renderHit(hit, state) {
  const title = hit.title || `(untitled: ${hit.id})`;
  const link = el('a', {
    class: 'paper-link', href: paperHref(state, hit.id), dataset: { id: hit.id },
    on: { click: (e) => openPaperFromLink(e, hit.id) },
  }, title);
  const meta = [hit.journal, hit.year, hit.id].filter((x) => x !== undefined && x !== null && x !== '');
  const matching = hit.mentions.length;
  return el('li', { class: `hit${hit.retracted ? ' retracted' : ''}`, dataset: { id: hit.id } },
    el('h3', { class: 'hit-title' }, link,
      hit.retracted ? el('span', { class: 'badge retracted-flag', title: 'This paper was retracted' }, 'Retracted') : null),
    el('p', { class: 'hit-meta' },
      meta.map((m, i) => [i ? el('span', { class: 'sep', 'aria-hidden': 'true', text: '·' }) : null, el('span', { text: String(m) })]),
      el('span', { class: 'sep', 'aria-hidden': 'true', text: '·' }),
      el('span', { text: `${plural(matching, 'matching mention')} of ${hit.mention_count}` })),
    renderSnippets(hit));
}

/**
 * A snippet line: the snippet of its first mention, and every later mention of the same passage
 * that lies within it (so that neighbouring mentions do not repeat one sentence).
 */
function snippetGroup(m, index) {
  const chars = Array.from(m.snippet);
  return {
    snippet: m.snippet, chars, kind: m.passage_kind, passage: m.passage,
    // The snippet is `…` + passage[from..to] + `…`, the ellipses only where it was cut: a
    // character of the passage at `start` lies in the snippet at `start + shift`.
    shift: m.snippet_start - m.start,
    lead: chars[0] === '…' ? 1 : 0,
    trail: chars.length > 1 && chars[chars.length - 1] === '…' ? 1 : 0,
    spans: [{ start: m.snippet_start, end: m.snippet_end, mention: m, index }],
  };
}

/** Where mention `m` lies in group `g`'s snippet, when it lies there (its text checks it). */
function placeIn(g, m) {
  if (g.passage !== m.passage) return null;
  const start = m.start + g.shift;
  const end = m.end + g.shift;
  if (start < g.lead || end > g.chars.length - g.trail || start >= end) return null;
  return g.chars.slice(start, end).join('') === m.text ? { start, end } : null;
}

/** The matching mentions of a hit in their snippets, in document order. */
function renderSnippets(hit) {
  const all = [];
  hit.mentions.forEach((m, index) => {
    const last = all[all.length - 1];
    const at = last && placeIn(last, m);
    if (at) last.spans.push({ ...at, mention: m, index });
    else all.push(snippetGroup(m, index));
  });
  const shown = pickShown(all, SNIPPETS_SHOWN);
  const list = el('ul', { class: 'snippets' });
  all.forEach((g, i) => {
    const { fragment } = highlight(g.snippet, g.spans, (span, continued) =>
      mentionElement(span.mention, span.index, continued, { snippetStart: String(span.start), snippetEnd: String(span.end) }));
    const item = el('li', { class: 'snippet', hidden: !shown.has(i) },
      g.kind ? el('span', { class: 'snippet-kind', text: g.kind.replace(/_/g, ' ') }) : null,
      el('span', { class: 'snippet-text' }, fragment));
    if (g.spans.some((s) => s.mention.matched === 'with')) item.classList.add('with');
    list.append(item);
  });
  const hidden = all.length - shown.size;
  if (hidden <= 0) return list;
  const more = el('button', {
    type: 'button', class: 'link-button more', 'aria-expanded': 'false',
    on: {
      click: () => {
        const open = more.getAttribute('aria-expanded') !== 'true';
        all.forEach((_, i) => { list.children[i].hidden = !open && !shown.has(i); });
        more.setAttribute('aria-expanded', String(open));
        more.textContent = open ? 'Show fewer snippets' : `Show ${plural(hidden, 'more snippet')}`;
      },
    },
  }, `Show ${plural(hidden, 'more snippet')}`);
  return el('div', { class: 'snippet-block' }, list, more);
}

/** Which snippet groups to show at first: the first ones, but one of "with" if there is one. */
function pickShown(groups, n) {
  const shown = new Set(groups.slice(0, n).map((_, i) => i));
  const isWith = (g) => g.spans.some((s) => s.mention.matched === 'with');
  const firstWith = groups.findIndex(isWith);
  if (firstWith >= n && !groups.slice(0, n).some(isWith)) {
    shown.delete(n - 1);
    shown.add(firstWith);
  }
  return shown;
}

function renderPager(state, resp) {
  const pager = $('pager');
  const last = resp.offset + resp.hits.length;
  const canNext = last < resp.total && resp.offset + 2 * resp.limit <= MAX_DEPTH;
  const canPrev = resp.offset > 0;
  pager.hidden = !canNext && !canPrev;
  $('prev').disabled = !canPrev;
  $('next').disabled = !canNext;
  $('range').textContent = resp.hits.length
    ? `Page ${Math.floor(resp.offset / resp.limit) + 1} of ${Math.ceil(resp.total / resp.limit)}`
    : '';
}

function goPage(delta) {
  const state = readState();
  const offset = Math.max(0, state.offset + delta * PAGE_SIZE);
  navigate({ ...state, offset, paper: '' });
  $('main').focus({ preventScroll: true });
  window.scrollTo({ top: 0 });
}

// ---------------------------------------------------------------------------------------------
// Facets and the year histogram

function renderFacets(state, groups, sampled) {
  const panel = $('facets-panel');
  const withEntities = groups.filter((g) => g.entities.length);
  panel.hidden = withEntities.length === 0;
  // Over many matching papers the server counts the best-scoring ones only, and says how many.
  const note = $('facets-sampled');
  note.hidden = !sampled;
  note.textContent = sampled ? `Counted in the ${sampled.toLocaleString('en')} best-matching papers.` : '';
  $('facets').replaceChildren(...withEntities.map((g) => el('section', { class: 'facet-group', dataset: { type: g.type } },
    el('h3', {},
      el('span', { class: 'swatch', style: colourStyle(g.type) }), g.type,
      el('span', { class: 'count', text: plural(g.papers, 'paper') })),
    el('ul', { class: 'facet-list' }, g.entities.map((e) => el('li', {},
      el('button', {
        type: 'button', class: 'facet', dataset: { type: g.type, name: e.name },
        title: `Only papers that also mention "${e.name}"`,
        on: { click: () => navigate({ ...state, with: combineWith(state.with, e.name), offset: 0, paper: '' }) },
      }, el('span', { class: 'facet-name', text: e.name }), el('span', { class: 'count', text: String(e.papers) }))))))));
}

/** Bars per year (or per span of years when there are many) from the response's `years`. */
function renderYears(state, years) {
  const panel = $('years-panel');
  panel.hidden = years.length === 0;
  const bars = $('years');
  const axis = $('years-axis');
  if (!years.length) {
    bars.replaceChildren();
    axis.replaceChildren();
    return;
  }
  const first = years[0].year;
  const lastYear = years[years.length - 1].year;
  const width = [1, 2, 5, 10, 20, 50, 100].find((w) => (lastYear - first + 1) / w <= 40) ?? 100;
  const start = width === 1 ? first : Math.floor(first / width) * width;
  const bins = [];
  for (let y = start; y <= lastYear; y += width) bins.push({ from: y, to: y + width - 1, papers: 0 });
  for (const { year, papers } of years) bins[Math.floor((year - start) / width)].papers += papers;
  const max = Math.max(...bins.map((b) => b.papers));
  bars.replaceChildren(...bins.map((b) => {
    const label = b.from === b.to ? String(b.from) : `${b.from}–${b.to}`;
    const text = `${label}: ${plural(b.papers, 'paper')}`;
    return el('button', {
      type: 'button', class: 'bar', title: text, 'aria-label': `${text}; show only these years`,
      dataset: { from: String(b.from), to: String(b.to), papers: String(b.papers) },
      disabled: b.papers === 0,
      on: { click: () => navigate({ ...state, year_from: String(b.from), year_to: String(b.to), offset: 0, paper: '' }) },
    }, el('span', { class: 'bar-fill', style: { height: `${Math.max(b.papers ? 4 : 0, (100 * b.papers) / max)}%` } }));
  }));
  axis.replaceChildren(el('span', { text: String(start) }),
    el('span', { text: `${plural(years.reduce((n, y) => n + y.papers, 0), 'paper')} with a year` }),
    el('span', { text: String(bins[bins.length - 1].to) }));
}

// ---------------------------------------------------------------------------------------------
// The paper view

let paperController = null;
let paperShown = ''; // the id of the paper on show

function openPaperFromLink(event, id) {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate({ ...readState(), paper: id }, { fromResults: true });
}

function closePaper() {
  const state = readState();
  if (!state.paper) return;
  const id = state.paper;
  if (history.state?.fromResults) history.back();
  else navigate({ ...state, paper: '' });
  // Back to the paper's link in the results, once they are on show again; unless the reader
  // has moved on to something else (the search box) in the meantime.
  setTimeout(() => {
    const focused = document.activeElement;
    if (focused && focused !== document.body && !$('paper').contains(focused)) return;
    const link = [...document.querySelectorAll('#hits a.paper-link')].find((a) => a.dataset.id === id);
    link?.focus();
  }, 50);
}

async function renderPaper(state) {
  const article = $('paper');
  document.body.classList.toggle('paper-open', Boolean(state.paper));
  if (!state.paper) {
    paperController?.abort();
    article.hidden = true;
    article.replaceChildren();
    paperShown = '';
    return;
  }
  if (paperShown === state.paper && !article.hidden) return;
  paperController?.abort();
  const controller = new AbortController();
  paperController = controller;
  article.hidden = false;
  article.removeAttribute('data-id');
  article.replaceChildren(paperToolbar(state.paper), el('p', { class: 'muted', text: 'Loading the paper…' }));
  try {
    const annotations = await fetchJson(documentPath(state.paper), controller.signal);
    if (controller.signal.aborted) return;
    paperShown = state.paper;
    clearError();
    article.replaceChildren(...paperView(annotations));
    article.dataset.id = annotations.id;
    $('paper-title').focus();
  } catch (e) {
    if (e.name === 'AbortError') return;
    paperShown = '';
    article.replaceChildren(paperToolbar(state.paper));
    showError(e instanceof ApiFailure ? e : new ApiFailure(0, String(e)), 'paper');
  }
}

function paperToolbar(id) {
  const label = readState().query ? '← Back to the results' : '← Close';
  return el('div', { class: 'paper-toolbar' },
    el('button', { type: 'button', id: 'close-paper', class: 'quiet', on: { click: closePaper } }, label),
    el('span', { class: 'muted', text: id }));
}

function paperView(a) {
  const doc = a.document ?? null;
  const mentions = a.mentions ?? [];
  noteTypes(mentions.map((m) => m.type));
  const title = doc?.title || a.id;
  const year = doc?.pub_date?.year ?? doc?.pub_date?.text;
  const journal = doc?.journal?.title ?? doc?.journal?.iso_abbreviation;
  const header = el('header', { class: 'paper-head' },
    el('h2', { id: 'paper-title', tabindex: '-1', text: title }),
    doc?.retracted ? el('p', { class: 'retraction-banner retracted-flag', role: 'note' },
      el('strong', { text: 'Retracted. ' }), 'This paper has been retracted; treat its findings with care.') : null,
    el('p', { class: 'hit-meta' }, [journal, year].filter(Boolean).map((x, i) =>
      [i ? el('span', { class: 'sep', 'aria-hidden': 'true', text: '·' }) : null, el('span', { text: String(x) })])));
  const body = el('div', { class: 'paper-body' }, renderPassages(doc, mentions));
  const side = el('aside', { class: 'paper-side', 'aria-label': 'About this paper' },
    paperLinks(a, doc), renderRelations(a.relations ?? [], mentions), renderModels(a.models ?? []));
  return [paperToolbar(a.id), header, el('div', { class: 'paper-grid' }, body, side)];
}

function paperLinks(a, doc) {
  const links = [];
  const link = (href, text, cls) => links.push(el('li', {}, el('a', { href, class: cls, rel: 'noopener', text })));
  if (doc?.pmid) link(`https://pubmed.ncbi.nlm.nih.gov/${encodeURIComponent(doc.pmid)}/`, `PubMed ${doc.pmid}`, 'external pubmed');
  if (doc?.pmcid) link(`https://www.ncbi.nlm.nih.gov/pmc/articles/${encodeURIComponent(doc.pmcid)}/`, `PMC ${doc.pmcid}`, 'external pmc');
  if (doc?.doi) link(`https://doi.org/${doc.doi.split('/').map(encodeURIComponent).join('/')}`, `DOI ${doc.doi}`, 'external doi');
  link(`${documentPath(a.id)}/pubtator`, 'PubTator export', 'export pubtator');
  link(`${documentPath(a.id)}/bioc`, 'BioC JSON export', 'export bioc');
  return el('section', { class: 'panel' }, el('h3', { text: 'Links' }), el('ul', { class: 'links' }, links));
}

/** Every passage with every mention of it highlighted. */
function renderPassages(doc, mentions) {
  if (!doc || !Array.isArray(doc.passages)) {
    return [el('p', { class: 'muted', text: 'The text of this paper is not stored; only its annotations are.' })];
  }
  const byPassage = new Map();
  mentions.forEach((m, index) => {
    if (!byPassage.has(m.passage)) byPassage.set(m.passage, []);
    byPassage.get(m.passage).push({ start: m.start, end: m.end, mention: m, index });
  });
  let unplaced = mentions.filter((m) => !(m.passage < doc.passages.length)).length;
  const sections = doc.passages.map((p, i) => {
    const spans = byPassage.get(i) ?? [];
    const { fragment, placed } = highlight(p.text, spans, (span, continued) => {
      const node = mentionElement(span.mention, span.index, continued);
      if (!continued) node.tabIndex = 0;
      return node;
    });
    unplaced += spans.length - placed;
    const heading = [p.kind.replace(/_/g, ' '), p.section].filter(Boolean).join(' — ');
    return el('section', { class: `passage kind-${p.kind}`, dataset: { passage: String(i), kind: p.kind } },
      el('h4', { class: 'passage-kind', text: heading }),
      el('p', { class: 'passage-text' }, fragment));
  });
  if (unplaced > 0) {
    sections.unshift(el('p', { class: 'warning', text: `${plural(unplaced, 'mention')} did not fit the text and are not shown.` }));
  }
  return sections;
}

function renderRelations(relations, mentions) {
  const chip = (m, fallback) => (m
    ? el('span', { class: 'entity-chip', style: colourStyle(m.type), title: m.type }, m.text)
    : el('span', { class: 'entity-chip', text: fallback }));
  const list = el('ol', { id: 'relations', class: 'relations' }, relations.map((r) => {
    const subject = mentions[r.subject];
    const object = mentions[r.object];
    return el('li', { class: 'relation', dataset: { subject: String(r.subject), object: String(r.object), type: r.type } },
      el('button', {
        type: 'button', class: 'relation-button',
        'aria-label': `${subject?.text ?? r.subject} ${r.type} ${object?.text ?? r.object}, score ${formatScore(r.score)}: show in the text`,
        on: { click: () => showRelation(r) },
      },
      chip(subject, `#${r.subject}`), el('span', { class: 'relation-type', text: r.type }), chip(object, `#${r.object}`)),
      el('span', { class: 'relation-meta', text: `score ${formatScore(r.score)} · ${r.model}` }));
  }));
  return el('section', { class: 'panel' },
    el('h3', {}, 'Relations ', el('span', { class: 'count', text: String(relations.length) })),
    relations.length ? list : [list, el('p', { class: 'muted', text: 'No relations were found in this paper.' })]);
}

/** Marks a relation's two mentions in the text and brings the subject into view. */
function showRelation(r) {
  for (const node of document.querySelectorAll('#paper .mention.related')) node.classList.remove('related');
  const first = (i) => document.querySelector(`#paper .mention[data-mention="${i}"]:not(.cont)`);
  for (const i of [r.subject, r.object]) {
    for (const node of document.querySelectorAll(`#paper .mention[data-mention="${i}"]`)) node.classList.add('related');
  }
  const subject = first(r.subject);
  subject?.scrollIntoView({ block: 'center', behavior: 'smooth' });
  subject?.focus({ preventScroll: true });
}

function renderModels(models) {
  if (!models.length) return null;
  return el('section', { class: 'panel' }, el('h3', { text: 'Models' }),
    el('ul', { class: 'models' }, models.map((m) => el('li', {},
      el('span', { class: 'model-name', text: m.name }), ' ',
      el('span', { class: 'muted', text: `${m.task}${m.labels?.length ? `: ${m.labels.join(', ')}` : ''}` })))));
}

// ---------------------------------------------------------------------------------------------
// Rendering the URL's state, and the page's events

function render() {
  const state = readState();
  fillForm(state);
  hideTooltip();
  document.title = [state.paper, state.query, 'pubmine'].filter(Boolean).join(' · ');
  clearError();
  renderPaper(state);
  renderSearch(state);
}

function setHighlighting(on) {
  document.body.classList.toggle('plain', !on);
  $('highlight').checked = on;
  try {
    localStorage.setItem('pubmine.highlight', on ? '1' : '0');
  } catch {
    // Storage may be off; the switch still works for this page.
  }
}

function isTyping(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

function onKeydown(event) {
  if (event.key === '/' && !isTyping(event.target) && !event.ctrlKey && !event.metaKey && !event.altKey) {
    event.preventDefault();
    $('q').focus();
    $('q').select();
  } else if (event.key === 'Escape') {
    if (!$('tooltip').hidden) hideTooltip();
    if (readState().paper) {
      event.preventDefault();
      closePaper();
    }
  }
}

/** Links within the page (`?query=...`) move without reloading it. */
function onClick(event) {
  const link = event.target.closest?.('a[href^="?"], a.brand');
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(readState(new URL(link.href).search));
}

function start() {
  let stored = null;
  try {
    stored = localStorage.getItem('pubmine.highlight');
  } catch {
    // See setHighlighting.
  }
  setHighlighting(stored !== '0');
  renderLegend();
  $('search-form').addEventListener('submit', onSubmit);
  $('clear-filters').addEventListener('click', () => {
    const state = readState();
    navigate({ ...state, type: '', year_from: '', year_to: '', with: '', offset: 0, paper: '' });
  });
  $('highlight').addEventListener('change', (e) => setHighlighting(e.target.checked));
  $('prev').addEventListener('click', () => goPage(-1));
  $('next').addEventListener('click', () => goPage(1));
  document.addEventListener('keydown', onKeydown);
  document.addEventListener('click', onClick);
  document.addEventListener('mouseover', (e) => showTooltip(e.target));
  document.addEventListener('focusin', (e) => showTooltip(e.target));
  document.addEventListener('focusout', hideTooltip);
  window.addEventListener('scroll', hideTooltip, { passive: true });
  window.addEventListener('popstate', render);
  loadTypes();
  render();
}

start();
