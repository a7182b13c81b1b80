// Drives the search page of `pubmine serve` in headless Chromium and compares what it shows with
// what the JSON API answers for the same requests. Data-agnostic: give it a query that has
// results in the served index.
//
//   node tests/browser/page.mjs --base http://127.0.0.1:8080 --query cancer --shots DIR \
//     [--chromium /usr/bin/chromium] [--timeout-ms 15000]
//
// Exits 0 when every check passes; otherwise prints each failure (expected vs seen) and exits 1.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values: opts } = parseArgs({
  options: {
    base: { type: 'string' },
    query: { type: 'string' },
    shots: { type: 'string' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
    'timeout-ms': { type: 'string', default: '15000' },
  },
});
for (const required of ['base', 'query', 'shots']) {
  if (!opts[required]) {
    console.error(`usage: node page.mjs --base URL --query QUERY --shots DIR [--chromium PATH]; --${required} is missing`);
    process.exit(2);
  }
}
const BASE = opts.base.replace(/\/+$/, '');
const QUERY = opts.query;
const SHOTS = opts.shots;
const TIMEOUT = Number(opts['timeout-ms']);
fs.mkdirSync(SHOTS, { recursive: true });

// ---------------------------------------------------------------------------------------------
// Checks and their report

/** Failures of the step that is running. */
let failures = [];
const results = [];

function check(ok, what, expected, seen) {
  if (!ok) failures.push({ what, expected, seen });
  return ok;
}

const show = (v) => (typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v, null, 0));

function equal(seen, expected, what) {
  return check(JSON.stringify(seen) === JSON.stringify(expected), what, expected, seen);
}

/** A condition that no check can continue past. */
class Abort extends Error {}

function must(ok, what, expected, seen) {
  if (!check(ok, what, expected, seen)) throw new Abort(what);
}

async function step(name, body) {
  failures = [];
  let note = '';
  const started = Date.now();
  try {
    note = (await body()) ?? '';
  } catch (e) {
    if (!(e instanceof Abort)) failures.push({ what: `the step threw: ${e.stack ?? e}` });
  }
  const errors = drainPageErrors();
  for (const e of errors) failures.push({ what: `the page logged an error: ${e}` });
  const ok = failures.length === 0;
  results.push({ name, ok });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name} (${seconds} s)${note ? `: ${note}` : ''}`);
  for (const f of failures.slice(0, 25)) {
    console.log(`  - ${f.what}`);
    if ('expected' in f || 'seen' in f) {
      console.log(`      expected: ${show(f.expected)}`);
      console.log(`      seen:     ${show(f.seen)}`);
    }
  }
  if (failures.length > 25) console.log(`  ... and ${failures.length - 25} more`);
  return ok;
}

// ---------------------------------------------------------------------------------------------
// The API, from node

async function api(url) {
  const response = await fetch(new URL(url, BASE));
  const text = await response.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, body };
}

const codePoints = (s) => Array.from(s);
const slice = (s, from, to) => codePoints(s).slice(from, to).join('');

// ---------------------------------------------------------------------------------------------
// The page

let pageErrors = [];
function drainPageErrors() {
  const e = pageErrors;
  pageErrors = [];
  return e;
}

/** The search whose outcome is on show matches the URL's state, and nothing is loading. */
async function searchSettled(page) {
  await page.waitForFunction(() => {
    const main = document.querySelector('#main');
    const searched = main?.dataset.searched;
    if (!searched || main.hasAttribute('aria-busy')) return false;
    const a = new URL(searched, location.href).searchParams;
    const b = new URLSearchParams(location.search);
    return ['query', 'type', 'year_from', 'year_to', 'with'].every((k) => (a.get(k) ?? '') === (b.get(k) ?? ''))
      && (a.get('offset') ?? '0') === (b.get('offset') ?? '0');
  }, null, { timeout: TIMEOUT });
  return page.$eval('#main', (m) => m.dataset.searched);
}

/** What the results list shows: per paper its id, title, flag and highlighted mentions. */
function readHits(page) {
  return page.$$eval('#hits > li.hit', (items) => items.map((li) => {
    const mentions = {};
    for (const node of li.querySelectorAll('.mention')) {
      const i = node.dataset.mention;
      const snippet = node.closest('.snippet-text')?.textContent ?? '';
      const m = mentions[i] ??= {
        type: node.dataset.type, passage: node.dataset.passage, start: node.dataset.start, end: node.dataset.end,
        matched: node.dataset.matched ?? null, text: '', snippet,
        // The snippet's text where the page says the mention lies in it.
        at: Array.from(snippet).slice(Number(node.dataset.snippetStart), Number(node.dataset.snippetEnd)).join(''),
      };
      m.text += node.textContent;
    }
    return {
      id: li.dataset.id,
      title: li.querySelector('a.paper-link')?.textContent ?? null,
      retracted: Boolean(li.querySelector('.retracted-flag')),
      mentions,
    };
  }));
}

/** Compares the results on show with the API's answer to the page's own request. */
async function compareResults(page, what) {
  const searched = await searchSettled(page);
  const params = new URL(searched, BASE).searchParams;
  for (const [k, v] of params) check(v !== '', `${what}: the page's request has no empty parameter`, `${k}=<something>`, `${k}=`);
  const { status, body } = await api(searched);
  must(status === 200, `${what}: the API answers the page's request ${searched}`, 200, status);
  const total = await page.locator('#total').textContent();
  equal(total, String(body.total), `${what}: the total shown`);
  const hits = await readHits(page);
  equal(hits.map((h) => h.id), body.hits.map((h) => h.id), `${what}: the papers listed, in order`);
  body.hits.forEach((hit, i) => {
    const shown = hits[i];
    if (!shown) return;
    const label = `${what}: paper ${hit.id}`;
    if (hit.title) equal(shown.title, hit.title, `${label}: title`);
    equal(shown.retracted, Boolean(hit.retracted), `${label}: retraction flag`);
    equal(Object.keys(shown.mentions).length, hit.mentions.length, `${label}: highlighted mentions`);
    hit.mentions.forEach((m, j) => {
      const s = shown.mentions[j];
      if (!check(s, `${label}: mention ${j} (${m.text}) is highlighted`, m.text, null)) return;
      const expected = slice(m.snippet, m.snippet_start, m.snippet_end);
      equal(s.text, expected, `${label}: mention ${j}: highlighted text = snippet[snippet_start..snippet_end]`);
      equal(s.text, m.text, `${label}: mention ${j}: highlighted text = the mention's text`);
      equal(s.type, m.type, `${label}: mention ${j}: type`);
      equal(s.matched, m.matched, `${label}: mention ${j}: matched`);
      equal([s.passage, s.start, s.end], [String(m.passage), String(m.start), String(m.end)], `${label}: mention ${j}: passage and offsets`);
      // The page shows a mention in its own snippet or in the one of an earlier mention of the
      // same passage that holds it too: either way, an API snippet, with the mention where the
      // page says it is.
      check(hit.mentions.some((o) => o.snippet === s.snippet && o.passage === m.passage), `${label}: mention ${j}: shown in a snippet the API gave for its passage`, m.snippet, s.snippet);
      equal(s.at, m.text, `${label}: mention ${j}: the shown snippet at the mention's place`);
    });
  });
  return { searched, body, hits };
}

/** The facet buttons on show against the API's facets. */
async function compareFacets(page, body, what) {
  const shown = await page.$$eval('button.facet', (bs) => bs.map((b) => [b.dataset.type, b.dataset.name]));
  const expected = (body.facets ?? []).flatMap((g) => g.entities.map((e) => [g.type, e.name]));
  equal(shown, expected, `${what}: the facet entities (type, name)`);
  const bars = await page.$$eval('#years button.bar', (bs) => bs.reduce((n, b) => n + Number(b.dataset.papers), 0));
  const papers = (body.years ?? []).reduce((n, y) => n + y.papers, 0);
  equal(bars, papers, `${what}: the papers in the year histogram`);
}

async function screenshot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, name), fullPage: true });
}

// ---------------------------------------------------------------------------------------------
// The steps

const browser = await chromium.launch({ executablePath: opts.chromium, headless: true, args: ['--no-sandbox'] });
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
page.setDefaultTimeout(TIMEOUT);
page.on('pageerror', (e) => pageErrors.push(`uncaught: ${e.message}`));
page.on('console', (msg) => {
  // A response with an error status is logged by the browser itself; the steps check those.
  if (msg.type() === 'error' && !/^Failed to load resource/.test(msg.text())) pageErrors.push(`console: ${msg.text()}`);
});

const memo = {};

await step('1. search by keyboard', async () => {
  await page.goto(`${BASE}/`);
  await page.locator('#q').focus();
  await page.keyboard.type(QUERY);
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => u.searchParams.get('query') === QUERY);
  const r = await compareResults(page, 'search');
  must(r.body.total > 0, `the query ${show(QUERY)} has results`, '> 0', r.body.total);
  equal(new URL(r.searched, BASE).searchParams.get('query'), QUERY, 'the page searched for the typed query');
  await compareFacets(page, r.body, 'search');
  const legend = await page.$$eval('#legend li[data-type]', (ls) => ls.map((l) => l.dataset.type));
  const types = new Set(r.body.hits.flatMap((h) => h.mentions.map((m) => m.type)));
  for (const t of types) check(legend.includes(t), `the legend lists the type ${t}`, t, legend);
  memo.first = r;
  await screenshot(page, 'search.png');
  return `${r.body.total} papers, ${r.hits.length} on the page`;
});

await step('2. highlighting switch', async () => {
  const colours = () => page.$$eval('mark.mention', (ms) => ms.map((m) => {
    const s = getComputedStyle(m);
    return { bg: s.backgroundColor, border: s.borderBottomColor, type: m.dataset.type };
  }));
  const transparent = (c) => c === 'rgba(0, 0, 0, 0)' || c === 'transparent';
  const before = await colours();
  must(before.length > 0, 'mentions are highlighted', '> 0', 0);
  check(before.every((c) => !transparent(c.bg)), 'every mention has a background colour while highlighting is on', 'a colour', before.find((c) => transparent(c.bg)));
  await page.locator('#highlight').click();
  const off = await colours();
  const coloured = off.filter((c) => !transparent(c.bg) || !transparent(c.border));
  check(coloured.length === 0, 'no mention shows its type colour with highlighting off', 0, coloured.slice(0, 3));
  equal(await page.locator('#highlight').isChecked(), false, 'the switch is off');
  await page.locator('#highlight').focus();
  await page.keyboard.press('Space');
  const on = await colours();
  equal(on, before, 'the colours are back once highlighting is on again');
});

await step('3. click a facet entity', async () => {
  must(memo.first, 'step 1 passed', 'results', null);
  const facets = memo.first.body.facets ?? [];
  const first = facets.flatMap((g) => g.entities.map((e) => ({ type: g.type, name: e.name })))[0];
  must(first, 'the API gives at least one co-mentioned entity', 'a facet', facets);
  const button = page.locator('button.facet').first();
  equal([await button.getAttribute('data-type'), await button.getAttribute('data-name')], [first.type, first.name], 'the first facet button');
  await button.click();
  await page.waitForURL((u) => u.searchParams.has('with'));
  const url = new URL(page.url());
  check(url.searchParams.get('with').includes(first.name), 'the URL holds with= naming the entity', first.name, url.searchParams.get('with'));
  const r = await compareResults(page, 'search with facet');
  check(r.body.total <= memo.first.body.total, 'the total with the facet is at most the total without', `<= ${memo.first.body.total}`, r.body.total);
  check(r.body.total > 0, 'a facet entity has papers', '> 0', r.body.total);
  // A mention that matches both the query and `with` is labelled "query" by the API (the facet
  // "lung cancer" of the query "cancer"): such a mention counts as the "with" match.
  const name = first.name.toLowerCase();
  const isWith = (m) => m.matched === 'with' || (m.normalized ?? m.text.toLowerCase()).includes(name);
  let both = 0;
  r.body.hits.forEach((h, i) => {
    const withs = h.mentions.filter(isWith);
    check(withs.length > 0, `API hit ${h.id} has a mention matched "with"`, `matched=with or a mention of ${show(name)}`, h.mentions.map((m) => `${m.matched}: ${m.text}`));
    if (withs.length && !withs.some((m) => m.matched === 'with')) both += 1;
    const shown = r.hits[i];
    if (!shown) return;
    const indices = h.mentions.map((m, j) => (isWith(m) ? j : -1)).filter((j) => j >= 0);
    check(indices.some((j) => shown.mentions[j]?.matched === h.mentions[j].matched), `paper ${h.id} shows its "with" mention highlighted`, indices, Object.keys(shown.mentions));
  });
  await compareFacets(page, r.body, 'search with facet');
  memo.facet = r;
  await screenshot(page, 'facet.png');
  const note = both ? ` (${both} where the entity's mentions also match the query, labelled "query")` : '';
  return `with=${url.searchParams.get('with')}: ${r.body.total} papers${note}`;
});

await step('4. reload and back', async () => {
  must(memo.facet, 'step 3 passed', 'results', null);
  const url = page.url();
  await page.reload();
  equal(page.url(), url, 'the URL after reloading');
  const r = await compareResults(page, 'reloaded');
  equal(r.hits.map((h) => h.id), memo.facet.hits.map((h) => h.id), 'the same papers after reloading');
  equal(await page.locator('#with').inputValue(), new URL(url).searchParams.get('with'), 'the "mentioned with" box after reloading');
  await page.goBack();
  await page.waitForURL((u) => !u.searchParams.has('with') && u.searchParams.get('query') === QUERY);
  const back = await compareResults(page, 'back');
  equal(back.hits.map((h) => h.id), memo.first.hits.map((h) => h.id), 'the earlier papers after going back');
  equal(await page.locator('#with').inputValue(), '', 'the "mentioned with" box after going back');
});

await step('5. paper view', async () => {
  const listed = await page.locator('#hits > li.hit').count();
  must(listed > 0, 'a paper is listed', '> 0', listed);
  const link = page.locator('#hits > li.hit a.paper-link').first();
  const id = await page.locator('#hits > li.hit').first().getAttribute('data-id');
  await link.focus();
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => u.searchParams.get('paper') === id);
  await page.waitForSelector(`#paper[data-id="${id.replace(/"/g, '\\"')}"]`, { timeout: TIMEOUT });
  const { status, body: a } = await api(`/documents/${encodeURIComponent(id)}`);
  must(status === 200, `/documents/${id} answers`, 200, status);
  const shown = await page.$$eval('#paper .mention', (ms) => {
    const out = {};
    for (const m of ms) {
      const e = out[m.dataset.mention] ??= { type: m.dataset.type, passage: m.dataset.passage, start: m.dataset.start, end: m.dataset.end, concept: m.dataset.concept ?? null, text: '', pieces: 0 };
      e.text += m.textContent;
      e.pieces += 1;
    }
    return out;
  });
  const passages = a.document?.passages ?? [];
  equal(await page.locator('#paper section.passage').count(), passages.length, 'passages shown');
  const kinds = await page.$$eval('#paper section.passage', (ss) => ss.map((s) => s.dataset.kind));
  equal(kinds, passages.map((p) => p.kind), 'passage kinds');
  let pieces = 0;
  a.mentions.forEach((m, i) => {
    const s = shown[i];
    if (!check(s, `mention ${i} (${m.text}, ${m.type}) is highlighted`, m.text, null)) return;
    equal([s.passage, s.start, s.end, s.type], [String(m.passage), String(m.start), String(m.end), m.type], `mention ${i}: passage, offsets, type`);
    equal(s.text, m.text, `mention ${i}: the highlighted text`);
    equal(s.concept, m.concept?.id ?? null, `mention ${i}: its concept`);
    const p = passages[m.passage];
    if (p) equal(s.text, slice(p.text, m.start, m.end), `mention ${i}: the passage's text at its offsets`);
    pieces += s.pieces > 1 ? 1 : 0;
  });
  equal(Object.keys(shown).length, a.mentions.length, 'highlighted mentions in the paper');
  const withConcept = a.mentions.filter((m) => m.concept).length;
  check(withConcept > 0, 'some mentions of the paper have a concept (the default vocabulary)', '> 0', withConcept);
  equal(await page.locator('#relations li.relation').count(), (a.relations ?? []).length, 'relations listed');
  const rel = await page.$$eval('#relations li.relation', (ls) => ls.map((l) => [Number(l.dataset.subject), Number(l.dataset.object), l.dataset.type]));
  equal(rel, (a.relations ?? []).map((r) => [r.subject, r.object, r.type]), 'relations (subject, object, type)');
  equal(await page.locator('#paper-title').textContent(), a.document?.title || a.id, 'the paper title');
  equal(await page.locator('#paper .retracted-flag').count() > 0, Boolean(a.document?.retracted), 'the retraction flag');
  for (const kind of ['pubtator', 'bioc']) {
    const href = await page.locator(`#paper a.export.${kind}`).getAttribute('href').catch(() => null);
    if (!check(href, `a link to the ${kind} export`, `/documents/.../${kind}`, href)) continue;
    const r = await page.request.get(new URL(href, BASE).href);
    equal(r.status(), 200, `the ${kind} export answers`);
  }
  const doc = a.document ?? {};
  if (doc.pmid) equal(await page.locator('#paper a.pubmed').getAttribute('href'), `https://pubmed.ncbi.nlm.nih.gov/${doc.pmid}/`, 'the PubMed link');
  if (doc.pmcid) equal(await page.locator('#paper a.pmc').getAttribute('href'), `https://www.ncbi.nlm.nih.gov/pmc/articles/${doc.pmcid}/`, 'the PMC link');
  await screenshot(page, 'paper.png');
  await page.keyboard.press('Escape');
  await page.waitForURL((u) => !u.searchParams.has('paper'));
  equal(await page.locator('#paper').isVisible(), false, 'Escape closes the paper view');
  const refocused = await page.waitForFunction(
    (paperId) => document.activeElement?.matches?.(`#hits a.paper-link[data-id="${CSS.escape(paperId)}"]`),
    id, { timeout: 2000 }).then(() => true, () => false);
  check(refocused, 'closing the paper puts the focus back on its link in the results', true, refocused);
  equal(await page.locator('#hits > li.hit').first().getAttribute('data-id'), id, 'the results are back after closing the paper');
  return `${id}: ${a.mentions.length} mentions (${pieces} split around an overlap), ${(a.relations ?? []).length} relations, ${passages.length} passages`;
});

await step('6. malformed query', async () => {
  let bad = null;
  for (const q of ['(unclosed', '"unclosed', 'title:(']) {
    const r = await api(`/search?${new URLSearchParams({ query: q })}`);
    if (r.status === 400) {
      bad = { q, reason: r.body.error };
      break;
    }
  }
  must(bad, 'the API refuses a malformed query with 400', 400, null);
  await page.locator('#q').fill('');
  await page.locator('#q').focus();
  await page.keyboard.type(bad.q);
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => u.searchParams.get('query') === bad.q);
  await searchSettled(page);
  await page.locator('#error').waitFor({ state: 'visible' });
  const text = await page.locator('#error').textContent();
  check(text.includes(bad.reason), 'the error box shows the API\'s reason', bad.reason, text);
  equal(await page.locator('#hits > li.hit').filter({ visible: true }).count(), 0, 'no stale results under the error');
  await screenshot(page, 'error.png');
  return `${show(bad.q)}: ${bad.reason}`;
});

await step('7. paging', async () => {
  await page.goto(`${BASE}/?${new URLSearchParams({ query: QUERY })}`);
  const r = await compareResults(page, 'page 1');
  equal(await page.locator('#error').isVisible(), false, 'the error box is gone on a new search');
  if (r.body.total <= r.body.limit) {
    equal(await page.locator('#pager').isVisible(), false, 'no pager for one page');
    return `one page only (${r.body.total} papers): nothing to page`;
  }
  await page.locator('#next').click();
  await page.waitForURL((u) => u.searchParams.get('offset') === String(r.body.limit));
  const p2 = await compareResults(page, 'page 2');
  equal(p2.body.offset, r.body.limit, 'page 2 starts after page 1');
  const to = Math.min(r.body.total, 2 * r.body.limit);
  const status = await page.locator('#status').textContent();
  check(status.includes(`${r.body.limit + 1}–${to} of ${r.body.total}`), 'the range shown', `${r.body.limit + 1}–${to} of ${r.body.total}`, status);
  check(p2.hits.every((h) => !r.hits.some((x) => x.id === h.id)), 'page 2 holds other papers than page 1', 'disjoint', p2.hits.map((h) => h.id));
  await page.locator('#prev').click();
  await page.waitForURL((u) => !u.searchParams.has('offset'));
  const p1 = await compareResults(page, 'page 1 again');
  equal(p1.hits.map((h) => h.id), r.hits.map((h) => h.id), 'Previous returns to page 1');
  return `${r.body.total} papers, page 2 holds ${p2.hits.length}`;
});

await step('8. server and network failures', async () => {
  const url = `${BASE}/?${new URLSearchParams({ query: QUERY, year_from: '1900' })}`;
  await page.route('**/search?*', (route) => route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ error: 'internal error (the details are in the server\'s log)' }) }));
  await page.goto(url);
  await searchSettled(page);
  let text = await page.locator('#error').textContent();
  check(/500/.test(text) && text.includes('internal error'), 'a 500 is reported with its reason', 'HTTP 500 + reason', text);
  await page.unroute('**/search?*');
  await page.route('**/search?*', (route) => route.abort('connectionrefused'));
  await page.goto(`${url}&year_to=2100`);
  await searchSettled(page);
  text = await page.locator('#error').textContent();
  check(text.length > 0 && (await page.locator('#error').isVisible()), 'a network failure is reported', 'a message', text);
  await page.unroute('**/search?*');
});

await browser.close();
const failed = results.filter((r) => !r.ok);
console.log(failed.length ? `FAILED ${failed.length} of ${results.length} steps` : `all ${results.length} steps passed`);
process.exit(failed.length ? 1 : 0);
