// Saanjh's pages in Debian's chromium, driven by playwright-core.
// Run by crates/saanjh-web/tests/browser.rs, which starts the server with a
// fresh seeded database and sets SAANJH_URL, SAANJH_INITIATIVE,
// SAANJH_PASSWORD, CHROMIUM and SCREENSHOTS.
//
// Scenario (issue 4): a community treasurer, an NGO social organiser and a
// municipal engineer — each holding only their own position — take a
// component-sharing scheme from request to handover through the pages
// alone, each seeing only their own acts, with the lane manager and the
// NGO's engineer signing in for the steps the arrangement gives them; then
// the same in Urdu, with no English arrangement text left on the pages. A citizen without a login sees the public statement and
// cannot reach any form. axe-core checks the main pages.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { launch, phone as phoneOf } from './chromium.js';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const BASE = process.env.SAANJH_URL;
const INIT = process.env.SAANJH_INITIATIVE;
const PASSWORD = process.env.SAANJH_PASSWORD;
const SHOTS = process.env.SCREENSHOTS || '../../target/browser-screenshots';

if (!BASE) throw new Error('SAANJH_URL is not set: run via `cargo test -p saanjh-web --test browser`');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const phone = (lang = 'en') => phoneOf(browser, lang);

async function shot(page, name) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

// axe-core needs script, so it runs in a separate JS-enabled page on the same URL.
async function axe(url, cookies = []) {
  const ctx = await browser.newContext({ viewport: { width: 360, height: 740 } });
  if (cookies.length) await ctx.addCookies(cookies);
  const page = await ctx.newPage();
  await page.goto(url);
  await page.addScriptTag({ path: AXE });
  const r = await page.evaluate(async () => await window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  await ctx.close();
  const v = r.violations.map((x) => `${x.id}: ${x.help} (${x.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')})`);
  assert.deepEqual(v, [], `accessibility violations on ${url}`);
}

async function login(page, user) {
  await page.goto(`${BASE}/login`);
  await page.fill('#username', user);
  await page.fill('#password', PASSWORD);
  // An administrator without a person is sent on from /work to /admin.
  await Promise.all([page.waitForURL(/\/(work|admin)/), page.click('form[action="/login"] button[type=submit]')]);
}

async function logout(page) {
  await Promise.all([page.waitForURL(`${BASE}/`), page.click('form[action="/logout"] button')]);
}

// The acts this user is offered on a scheme right now.
async function offered(page, scheme) {
  await page.goto(`${BASE}/schemes/${scheme}/acts`);
  return page.$$eval('form.act', (fs) => fs.map((f) => f.id.replace(/^form-/, '')));
}

// Submit one act's form, after filling the given fields, and check it was done.
async function act(page, scheme, action, fields = {}, files = {}) {
  const have = await offered(page, scheme);
  assert.ok(have.includes(action), `${action} not offered; offered: ${have.join(', ')}`);
  for (const [name, value] of Object.entries(fields)) {
    const sel = `#form-${action} [name="${name}"]`;
    const tag = await page.$eval(sel, (e) => e.tagName);
    if (tag === 'SELECT') await page.selectOption(sel, value);
    else await page.fill(sel, String(value));
  }
  for (const [name, file] of Object.entries(files)) {
    await page.setInputFiles(`#form-${action} [name="${name}"]`, file);
  }
  await Promise.all([
    page.waitForLoadState('load'),
    page.click(`#form-${action} button[type=submit]`),
  ]);
  const done = await page.$('#done');
  if (!done) {
    const body = await page.textContent('main');
    assert.fail(`${action} was not done: ${body}`);
  }
}

async function stage(page, scheme) {
  await page.goto(`${BASE}/schemes/${scheme}`);
  return page.$eval('html', (h) => h.innerHTML.match(/id="stage">([^<]*)</)[1]);
}

// A 1600×1200 gradient PNG: the server must shrink it to 960 px.
const PHOTO = new URL('./fixtures/site.png', import.meta.url).pathname;

// No fragment of the page is marked English (the link that switches to
// English is, rightly, in English): on Urdu pages every arrangement text
// (rules in plain words, names, refusals) is in Urdu.
async function noEnglish(page, what) {
  const left = await page.$$eval('[lang="en"]:not([hreflang])', (l) => l.map((e) => e.outerHTML.slice(0, 120)));
  assert.deepEqual(left, [], `English fragments on the Urdu ${what}`);
}

// The whole lifecycle through the pages. The three users hold only
// their own positions: the lane's treasurer (community.treasurer), the
// NGO's social organiser (ngo.social_organiser) and the TMA's municipal
// engineer (government.municipal_engineer). The component-sharing
// arrangement gives some steps to two more people, as the field does, and
// they sign in for those steps: the lane manager (confirms the lane's money,
// buys materials and starts the works, completes the internal works, signs
// the handover) and the NGO's engineer (survey, estimate, inspection).
async function lifecycle(lang, name) {
  const t = await phone(lang); const o = await phone(lang); const e = await phone(lang);
  const m = await phone(lang); const n = await phone(lang);
  const all = [t, o, e, m, n];
  if (lang === 'ur') {
    // Switch with the link every page carries; the choice is remembered.
    for (const p of all) {
      await p.goto(`${BASE}/lang/ur?back=/initiatives`);
      assert.equal(await p.getAttribute('html', 'dir'), 'rtl');
      assert.equal(await p.getAttribute('html', 'lang'), 'ur');
    }
  }
  await login(t, 'treasurer'); await login(o, 'organiser'); await login(e, 'engineer');
  await login(m, 'manager'); await login(n, 'ngo-engineer');
  if (lang === 'ur') assert.equal(await t.getAttribute('html', 'dir'), 'rtl');

  // The lane asks first: the treasurer starts the scheme from the initiative page.
  await t.goto(`${BASE}/initiatives/${INIT}`);
  if (lang === 'ur') { await noEnglish(t, 'initiative page'); await shot(t, 'initiative-ur'); }
  await Promise.all([t.waitForURL(/\/new$/), t.click(`a[href="/initiatives/${INIT}/new"]`)]);
  await t.fill('#form-request [name="name"]', name);
  await Promise.all([t.waitForURL(/\/acts\?done=request/), t.click('#form-request button[type=submit]')]);
  const scheme = t.url().match(/\/schemes\/([^/]+)\/acts/)[1];

  // Each sees only their own acts: only the NGO's engineer surveys.
  for (const p of [e, t, o, m]) assert.ok(!(await offered(p, scheme)).includes('survey'));
  const refused = await e.$$eval('#refused li', (l) => l.length);
  assert.ok(refused > 0, 'the municipal engineer is told why other acts are not theirs');
  if (lang === 'en') await shot(e, 'acts-engineer-requested');
  if (lang === 'ur') { await noEnglish(e, 'acts page'); await shot(e, 'acts-engineer-requested-ur'); }

  await act(n, scheme, 'survey');
  await act(n, scheme, 'estimate', {
    est_house_connections: '60000', est_lane_sewer: '1,40,000', est_collector_sewer: '50000',
    est_trunk_sewer: '2400000', est_paving: '900000',
  });
  if (lang === 'en') await shot(n, 'acts-ngo-engineer');
  // The social organiser convenes the lane: households, the meeting, its resolution.
  assert.ok(!(await offered(t, scheme)).includes('organise_lane'));
  await act(o, scheme, 'register_household', { house: '1', head: 'Muhammad Aslam', members: '6' });
  await act(o, scheme, 'register_household', { house: '2', head: 'Parveen Akhtar', members: '5' });
  await act(o, scheme, 'record_meeting', {
    body: 'community', women: '4', men: '5', motion: 'Accept the estimate and select the lane manager',
    motion_action: 'organise_lane', votes_for: '8', votes_against: '1',
  });
  const meeting = await o.$eval('#form-organise_lane [name="resolution_meeting"] option', (x) => x.value).catch(() => null);
  assert.ok(meeting, 'the meeting is offered as the resolution');
  await act(o, scheme, 'organise_lane', { resolution_meeting: meeting });
  if (lang === 'en') await shot(o, 'acts-organiser');

  // The treasurer collects the lane's whole share, with a receipt; the NGO
  // posts no contributions, and confirming the money is the lane manager's.
  assert.ok(!(await offered(o, scheme)).includes('record_contribution'), 'the NGO does not post contributions');
  await act(t, scheme, 'record_contribution', { role: 'community', amount: '2,50,000', receipt: `${lang}-R-001`, purpose: 'lane share, collected door to door' });
  const mine = await offered(t, scheme);
  for (const a of ['confirm_funds', 'start_works', 'record_expenditure', 'survey', 'record_release']) {
    assert.ok(!mine.includes(a), `the treasurer is not offered ${a}`);
  }
  if (lang === 'en') await shot(t, 'acts-treasurer');
  await act(m, scheme, 'confirm_funds');
  await act(m, scheme, 'start_works');
  await act(m, scheme, 'record_expenditure', { role: 'community', amount: '1,20,000', receipt: `${lang}-M-001`, payee: 'Pak Cement & Pipe Store', purpose: 'RCC pipes and cement', component: 'lane_sewer' });

  // Progress with a photo: the NGO's engineer inspects on site.
  await act(n, scheme, 'inspect', { note: 'Levels checked, curing fine', caption: 'Lane sewer laid' }, { photo: PHOTO });
  await act(m, scheme, 'complete_internal');
  // The NGO mobilises the line department for the external works.
  await act(o, scheme, 'request_external');
  for (const p of [t, o, m, n]) assert.ok(!(await offered(p, scheme)).includes('complete_external'));
  await act(e, scheme, 'record_release', { role: 'government', amount: '33,00,000', receipt: `${lang}-TMA-1`, component: 'trunk_sewer', purpose: 'ADP allocation' });
  await act(e, scheme, 'complete_external');
  // Handover needs both signatures: the lane manager's and the engineer's.
  await act(m, scheme, 'hand_over');
  assert.notEqual(await stage(m, scheme), lang === 'ur' ? 'چالو' : 'in operation');
  await act(e, scheme, 'hand_over');
  assert.equal(await stage(e, scheme), lang === 'ur' ? 'چالو' : 'in operation');
  if (lang === 'en') {
    await shot(e, 'scheme-in-operation');
    await e.goto(`${BASE}/work`); await shot(e, 'work-engineer');
  } else {
    await noEnglish(e, 'scheme page');
    await shot(e, 'scheme-in-operation-ur');
    await t.goto(`${BASE}/schemes/${scheme}/acts`); await noEnglish(t, 'acts page'); await shot(t, 'acts-treasurer-ur');
    await t.goto(`${BASE}/arrangements/component-sharing/1`); await shot(t, 'arrangement-ur');
    await o.goto(`${BASE}/work`); await noEnglish(o, 'work page'); await shot(o, 'work-organiser-ur');
  }
  await logout(t);
  for (const p of all) await p.context().close();
  return scheme;
}

let englishScheme;

test('three partners take a scheme from request to handover (English)', async () => {
  englishScheme = await lifecycle('en', 'Street 12, lane A');
});

test('the same in Urdu, right to left', async () => {
  await lifecycle('ur', 'گلی نمبر 12، حصہ ب');
});

test('a citizen sees the public statement and cannot reach any form', async () => {
  assert.ok(englishScheme, 'runs after the English lifecycle');
  const p = await phone('en');
  await p.goto(`${BASE}/schemes/${englishScheme}`);
  const text = await p.textContent('main');
  assert.match(text, /Rs 2,50,000/, 'the contribution in lakh grouping');
  assert.match(text, /en-R-001/, 'the receipt number, so a paper receipt can be found');
  assert.match(text, /Pak Cement & Pipe Store|RCC pipes and cement/);
  assert.equal(await p.$$eval('form[method=post]', (f) => f.length), 0, 'no form on the public page');
  await shot(p, 'scheme-public');
  // The inspection photo was shrunk and re-encoded on the server.
  const src = await p.getAttribute('figure img[src^="/photos/"]', 'src');
  const photo = await p.request.get(`${BASE}${src}`);
  assert.equal(photo.headers()['content-type'], 'image/jpeg');
  // Its size from the JPEG's frame header (SOF0: FF C0, length, precision, height, width).
  const jpg = await photo.body();
  const sof = jpg.findIndex((b, i) => b === 0xff && jpg[i + 1] === 0xc0);
  assert.ok(sof > 0, 'a baseline JPEG');
  assert.deepEqual([jpg.readUInt16BE(sof + 7), jpg.readUInt16BE(sof + 5)], [960, 720], 'the 1600×1200 upload shrunk to 960 px');
  // The act forms are behind sign-in.
  await p.goto(`${BASE}/schemes/${englishScheme}/acts`);
  assert.match(p.url(), /\/login\?next=/);
  // Posting directly changes nothing: without a session it is sent to sign in.
  const r = await p.request.post(`${BASE}/schemes/${englishScheme}/acts/abandon`, { multipart: { csrf: 'x' }, maxRedirects: 0 });
  assert.equal(r.status(), 303);
  // CSV export uses plain figures.
  const csv = await (await p.request.get(`${BASE}/schemes/${englishScheme}/statement.csv`)).text();
  assert.match(csv, /250000\.00/);
  // The chain check runs in the request and passes.
  await p.goto(`${BASE}/initiatives/${INIT}/verify`);
  assert.equal(await p.getAttribute('#verdict', 'class'), 'ok');
  await shot(p, 'verify');
  await p.goto(`${BASE}/map`); await shot(p, 'map');
  await p.goto(`${BASE}/initiatives`); await shot(p, 'initiatives');
  await p.goto(`${BASE}/initiatives/${INIT}`); await shot(p, 'initiative');
  await p.context().close();
});

test('a form without the session CSRF token is refused', async () => {
  const p = await phone('en');
  await login(p, 'treasurer');
  const r = await p.request.post(`${BASE}/schemes/${englishScheme}/acts/record_meeting`, {
    multipart: { csrf: 'forged', body: 'community', held_on: '2026-01-01', women: '1', men: '1' }, maxRedirects: 0,
  });
  assert.equal(r.status(), 403);
  await p.context().close();
});

test('Urdu from Accept-Language when no language was chosen', async () => {
  const p = await phone('ur');
  await p.goto(`${BASE}/initiatives`);
  assert.equal(await p.getAttribute('html', 'dir'), 'rtl');
  assert.equal(await p.textContent('h1'), 'منصوبے');
  await shot(p, 'initiatives-ur');
  // The choice made with the switch link wins over Accept-Language, and stays.
  await Promise.all([p.waitForURL(/\/initiatives$/), p.click('a[hreflang="en"]')]);
  assert.equal(await p.getAttribute('html', 'dir'), 'ltr');
  await p.goto(`${BASE}/map`);
  assert.equal(await p.getAttribute('html', 'lang'), 'en');
  await p.context().close();
});

test('the administrator registers partners and starts an initiative through the pages', async () => {
  const p = await phone('en');
  await p.goto(`${BASE}/login?next=/admin`);
  await p.fill('#username', 'admin');
  await p.fill('#password', PASSWORD);
  await Promise.all([p.waitForURL(/\/admin/), p.click('form[action="/login"] button[type=submit]')]);
  const submit = async (action, fill) => {
    for (const [sel, v] of Object.entries(fill)) {
      const tag = await p.$eval(sel, (e) => e.tagName);
      if (tag === 'SELECT') await p.selectOption(sel, v); else await p.fill(sel, v);
    }
    await Promise.all([p.waitForLoadState('load'), p.click(`form[action="${action}"] button[type=submit]`)]);
  };
  await submit('/admin/organisations', { '#org-name': 'Street 40 lane organisation', '#org-kind': 'community', '#org-district': 'Faisalabad' });
  assert.match(await p.textContent('main'), /organisation is registered/);
  await submit('/admin/people', { '#p-name': 'Shahida Parveen', '#p-gender': 'female' });
  assert.match(await p.textContent('main'), /person is registered/);
  const person = await p.$eval('#m-person', (s) => [...s.options].find((o) => o.text === 'Shahida Parveen').value);
  const org = await p.$eval('#m-org', (s) => [...s.options].find((o) => o.text === 'Street 40 lane organisation').value);
  await submit('/admin/memberships', { '#m-person': person, '#m-org': org, '#m-position': 'treasurer' });
  assert.match(await p.textContent('main'), /position is given/);
  await shot(p, 'admin');
  // Five members are needed for a lane organisation: the page says which rule refused.
  const tma = await p.$eval('#i-partner-government', (s) => [...s.options].find((o) => o.text.startsWith('Rawalpindi TMA')).value);
  const ngo = await p.$eval('#i-partner-ngo', (s) => [...s.options].find((o) => o.text.startsWith('AHKMT')).value);
  await submit('/admin/initiatives', {
    '#i-name': 'Street 40 sanitation', '#i-locality': 'Ghulam Muhammadabad', '#i-district': 'Faisalabad',
    '#i-arr': 'component-sharing@1', '#i-partner-community': org, '#i-partner-government': tma, '#i-partner-ngo': ngo,
  });
  assert.match(await p.textContent('main'), /boundary rule/);
  await p.goto(`${BASE}/arrangements/component-sharing/1`);
  assert.match(await p.textContent('main'), /lane organisation/);
  await p.context().close();
});

test('every main page passes axe-core (WCAG 2.1 A and AA)', async () => {
  for (const path of ['/initiatives', `/initiatives/${INIT}`, `/schemes/${englishScheme}`, `/initiatives/${INIT}/verify`, '/map', '/login', '/arrangements/component-sharing/1',
    `/initiatives/${INIT}/diagnosis`, `/compare?initiatives=${INIT}`, `/compare/report?initiatives=${INIT}`, '/qca']) {
    await axe(`${BASE}${path}`);
  }
  // Signed-in pages: carry the session cookie into the checking context.
  const p = await phone('en');
  await login(p, 'engineer');
  const cookies = await p.context().cookies();
  await axe(`${BASE}/work`, cookies);
  await axe(`${BASE}/schemes/${englishScheme}/acts`, cookies);
  const a = await phone('en');
  await login(a, 'admin');
  await axe(`${BASE}/admin`, await a.context().cookies());
  await a.context().close();
  // And in Urdu.
  await axe(`${BASE}/schemes/${englishScheme}`, [{ name: 'lang', value: 'ur', url: BASE }]);
  await p.context().close();
});

test('the main pages are under 30 KB compressed as the browser receives them', async () => {
  const p = await phone('en');
  for (const path of ['/initiatives', `/initiatives/${INIT}`, `/schemes/${englishScheme}`, '/map']) {
    const resp = await p.goto(`${BASE}${path}`);
    const enc = (await resp.allHeaders())['content-encoding'];
    assert.ok(enc === 'gzip' || enc === 'br' || enc === 'zstd', `${path} is compressed (${enc})`);
    const sizes = await resp.request().sizes();
    assert.ok(sizes.responseBodySize < 30 * 1024, `${path}: ${sizes.responseBodySize} bytes`);
  }
  await p.context().close();
});
