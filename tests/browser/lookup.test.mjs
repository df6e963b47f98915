// SPDX-License-Identifier: GPL-3.0-or-later
// The lookup page in a real browser: headless Chromium (Debian's package) driven by
// playwright-core. Run by tests/browser/run.sh, which starts `mautic-gdpr serve` on a synthetic
// Mautic and passes what this script needs in the environment:
//   MGDPR_BASE_URL         e.g. http://127.0.0.1:41234
//   MGDPR_USER, MGDPR_PASSWORD  a user with every role (lookup, export, erase)
//   MGDPR_LOOKUP_ONLY_USER     a user with the same password and the lookup role only
//   MGDPR_PROCESSED_EMAIL  the address of a contact the sweep processed
//   MGDPR_KEPT_VALUE       a value the policy kept for that contact (e.g. its city)
//   MGDPR_LIVE_EMAIL, MGDPR_LIVE_ID  a contactable contact: exported, then erased on request
//   MGDPR_SCREENSHOT_DIR   where the screenshots go
//   MGDPR_CHROMIUM         the browser (default /usr/bin/chromium)
// Exits non-zero, naming the step, when something is not as expected.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; run this through tests/browser/run.sh`);
  return value;
};
const base = env('MGDPR_BASE_URL');
const user = env('MGDPR_USER');
const password = env('MGDPR_PASSWORD');
const processedEmail = env('MGDPR_PROCESSED_EMAIL');
const keptValue = env('MGDPR_KEPT_VALUE');
const lookupOnlyUser = env('MGDPR_LOOKUP_ONLY_USER');
const liveEmail = env('MGDPR_LIVE_EMAIL');
const liveId = env('MGDPR_LIVE_ID');
const shots = env('MGDPR_SCREENSHOT_DIR');
mkdirSync(shots, { recursive: true });

const profile = mkdtempSync(join(tmpdir(), 'mgdpr-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.MGDPR_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
  viewport: { width: 1024, height: 800 },
  acceptDownloads: true,
});

let step = 'start';
const passed = [];
async function check(name, body) {
  step = name;
  await body();
  passed.push(name);
  console.log(`browser: ok   ${name}`);
}

try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15000);

  await check('no session: /lookup leads to the login, not the lookup form', async () => {
    await page.goto(`${base}/lookup`);
    assert.equal(new URL(page.url()).pathname, '/login');
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    assert.equal(await page.locator('#value').count(), 0, 'the lookup form is shown without a session');
  });

  await check('a wrong password is refused', async () => {
    await page.fill('#user', user);
    await page.fill('#password', `${password}-wrong`);
    await page.click('form[action="/login"] button');
    await page.getByText('Wrong user name or password.').waitFor();
    assert.equal(new URL(page.url()).pathname, '/login');
  });

  await check('log in', async () => {
    await page.fill('#user', user);
    await page.fill('#password', password);
    await Promise.all([page.waitForURL(`${base}/lookup`), page.click('form[action="/login"] button')]);
    await page.getByRole('heading', { name: 'Look up a person' }).waitFor();
  });

  await check('look up a processed contact and see its data', async () => {
    await page.selectOption('#field', 'email');
    // As a person would type it from a letter: other case, stray spaces.
    await page.fill('#value', `  ${processedEmail.toUpperCase()} `);
    await Promise.all([page.waitForLoadState('load'), page.click('form[action="/lookup"] button')]);
    const result = page.locator('section.result.found');
    await result.waitFor();
    const text = await result.innerText();
    assert.match(text, /Processed: 1 record/);
    assert.match(text, /Why\s+(unsubscribed|bounced) \(channel email\)/);
    assert.match(text, /Processed\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    assert.ok(text.includes(keptValue), `the kept value ${keptValue} is not shown`);
    const html = await page.content();
    assert.ok(!html.toLowerCase().includes(processedEmail.toLowerCase()), 'the looked-up value is echoed');
    assert.ok(!page.url().includes('@') && !page.url().includes('?'), `the value reached the URL: ${page.url()}`);
    await page.screenshot({ path: join(shots, 'lookup-found.png'), fullPage: true });
  });

  await check('look up a live contact: the page says so and offers export and erase', async () => {
    await page.selectOption('#field', 'email');
    await page.fill('#value', liveEmail);
    await Promise.all([page.waitForLoadState('load'), page.click('form[action="/lookup"] button')]);
    const result = page.locator('section.result.live');
    await result.waitFor();
    assert.match(await result.innerText(), /In Mautic: 1 live contact matches/);
    assert.equal(await page.getByRole('heading', { name: 'Not found' }).count(), 0);
    const link = result.locator(`a[href="https://mautic.example.org/s/contacts/view/${liveId}"]`);
    assert.equal(await link.count(), 1, 'the contact id does not link to Mautic');
    await result.getByRole('button', { name: 'Download export' }).waitFor();
    await result.getByRole('button', { name: 'Erase…' }).waitFor();
    assert.ok(!(await page.content()).toLowerCase().includes(liveEmail.toLowerCase()), 'the looked-up value is echoed');
    await page.screenshot({ path: join(shots, 'lookup-live.png'), fullPage: true });
  });

  await check('download the export of the live contact (a page for the person, then JSON)', async () => {
    const result = page.locator('section.result.live');
    await result.locator('select[name="format"]').selectOption('html');
    const [htmlDownload] = await Promise.all([
      page.waitForEvent('download'),
      result.getByRole('button', { name: 'Download export' }).click(),
    ]);
    assert.equal(htmlDownload.suggestedFilename(), `mautic-contact-${liveId}-export.html`);
    const htmlPath = join(profile, 'export.html');
    await htmlDownload.saveAs(htmlPath);
    const html = readFileSync(htmlPath, 'utf8');
    assert.match(html, /Personal data export/);
    assert.ok(html.includes(liveEmail), 'the export does not hold the person\'s address');
    // The downloaded page is readable on its own: open it and take its picture.
    const reader = await context.newPage();
    await reader.goto(`file://${htmlPath}`);
    await reader.getByRole('heading', { name: 'Personal data export' }).waitFor();
    await reader.screenshot({ path: join(shots, 'export-page.png'), fullPage: true });
    await reader.close();

    await result.locator('select[name="format"]').selectOption('json');
    const [jsonDownload] = await Promise.all([
      page.waitForEvent('download'),
      result.getByRole('button', { name: 'Download export' }).click(),
    ]);
    assert.equal(jsonDownload.suggestedFilename(), `mautic-contact-${liveId}-export.json`);
    const jsonPath = join(profile, 'export.json');
    await jsonDownload.saveAs(jsonPath);
    const exported = JSON.parse(readFileSync(jsonPath, 'utf8'));
    assert.equal(exported.contacts[0].contact_id, Number(liveId));
    assert.equal(exported.contacts[0].state, 'live');
    assert.ok(statSync(jsonPath).size > 0);
  });

  await check('erase the live contact after a confirmation; the lookup then proves it', async () => {
    await Promise.all([
      page.waitForLoadState('load'),
      page.locator('section.result.live').getByRole('button', { name: 'Erase…' }).click(),
    ]);
    await page.getByRole('heading', { name: `Erase contact ${liveId}?` }).waitFor();
    assert.match(await page.locator('main').innerText(), /This cannot be undone/);
    await page.screenshot({ path: join(shots, 'erase-confirm.png'), fullPage: true });
    // Cancel first: nothing happens.
    await Promise.all([page.waitForURL(`${base}/lookup`), page.getByRole('link', { name: 'Cancel' }).click()]);
    await page.fill('#value', liveEmail);
    await Promise.all([page.waitForLoadState('load'), page.click('form[action="/lookup"] button')]);
    await page.locator('section.result.live').waitFor();
    await Promise.all([
      page.waitForLoadState('load'),
      page.locator('section.result.live').getByRole('button', { name: 'Erase…' }).click(),
    ]);
    await Promise.all([
      page.waitForLoadState('load'),
      page.getByRole('button', { name: `Erase contact ${liveId} now` }).click(),
    ]);
    await page.getByRole('heading', { name: `Contact ${liveId} was erased` }).waitFor();
    await page.screenshot({ path: join(shots, 'erase-done.png'), fullPage: true });
    await page.click('nav >> text=Lookup');
    await page.fill('#value', liveEmail);
    await Promise.all([page.waitForLoadState('load'), page.click('form[action="/lookup"] button')]);
    const proof = await page.locator('section.result.found').innerText();
    assert.match(proof, /Processed: 1 record/);
    assert.match(proof, /on an erasure request/);
    assert.equal(await page.locator('section.result.live').count(), 0, 'the erased contact is still live');
  });

  await check('the audit page shows who looked up, exported and erased, never a value', async () => {
    await page.click('nav >> text=Audit');
    await page.waitForURL(`${base}/audit`);
    const table = await page.locator('table').innerText();
    for (const action of ['lookup', 'export', 'erase-dry-run', 'erase']) {
      assert.match(table, new RegExp(`web:${user}\\s+${action}\\s`), `no ${action} row of ${user}`);
    }
    const html = await page.content();
    assert.ok(!html.includes('@'), 'the audit page shows an address');
    // A contact's history, from its link.
    await Promise.all([page.waitForLoadState('load'), page.locator(`a[href="/audit?contact=${liveId}"]`).first().click()]);
    const history = await page.locator('table').innerText();
    assert.match(history, /erase/);
    assert.doesNotMatch(history, new RegExp(`web:${user}\\s+lookup\\s`), 'a lookup names no contact');
    await page.screenshot({ path: join(shots, 'audit.png'), fullPage: true });
  });

  await check('look up an unknown address and see "not found"', async () => {
    await page.click('nav >> text=Lookup');
    await page.fill('#value', `nobody-${Date.now()}@example.org`);
    await Promise.all([page.waitForLoadState('load'), page.click('form[action="/lookup"] button')]);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    assert.equal(await page.locator('section.result.found').count(), 0);
    await page.screenshot({ path: join(shots, 'lookup-not-found.png'), fullPage: true });
  });

  await check('the status page shows the chart and the numbers', async () => {
    await page.click('nav >> text=Status');
    await page.waitForURL(`${base}/status`);
    await page.locator('.chart svg rect').first().waitFor();
    const tiles = await page.locator('.tiles').innerText();
    assert.match(tiles, /Processed contacts\s+\d+/);
    assert.match(tiles, /Pending\s+\d+/);
    await page.screenshot({ path: join(shots, 'status.png'), fullPage: true });
  });

  await check('on a phone-sized screen the lookup form fits', async () => {
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${base}/lookup`);
    await phone.fill('#value', processedEmail);
    await Promise.all([phone.waitForLoadState('load'), phone.click('form[action="/lookup"] button')]);
    await phone.locator('section.result.found').waitFor();
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    assert.equal(overflow, false, 'the page scrolls sideways on a phone');
    await phone.screenshot({ path: join(shots, 'lookup-phone.png'), fullPage: true });
    await phone.close();
  });

  await check('on a phone-sized screen the status tiles fit and the chart labels are readable', async () => {
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 360, height: 740 });
    await phone.goto(`${base}/status`);
    await phone.locator('.chart svg').waitFor();
    // No tile's text runs out of its box ("1 min ago", "Last successful sweep").
    const overflowing = await phone.evaluate(() =>
      [...document.querySelectorAll('.tile')]
        .filter((tile) => tile.scrollWidth > tile.clientWidth + 1)
        .map((tile) => tile.innerText.split('\n')[0]));
    assert.deepEqual(overflowing, [], `tiles overflow: ${overflowing.join(', ')}`);
    // The axis labels render at least 10 px high on the phone.
    const smallest = await phone.evaluate(() =>
      Math.min(...[...document.querySelectorAll('.chart svg text')].map((t) => t.getBoundingClientRect().height)));
    assert.ok(smallest >= 10, `chart labels are ${smallest.toFixed(1)} px high`);
    await phone.screenshot({ path: join(shots, 'status-phone.png'), fullPage: true });
    await phone.close();
  });

  await check('after logging out the lookup needs a session again', async () => {
    await page.click('form[action="/logout"] button');
    await page.waitForURL(`${base}/login`);
    await page.goto(`${base}/lookup`);
    assert.equal(new URL(page.url()).pathname, '/login');
  });

  await check('a lookup-only user sees neither button and is refused by the forms', async () => {
    await page.fill('#user', lookupOnlyUser);
    await page.fill('#password', password);
    await Promise.all([page.waitForURL(`${base}/lookup`), page.click('form[action="/login"] button')]);
    await page.fill('#value', processedEmail);
    await Promise.all([page.waitForLoadState('load'), page.click('form[action="/lookup"] button')]);
    await page.locator('section.result.found').waitFor();
    assert.equal(await page.locator('form[action="/export"]').count(), 0, 'an export button is shown');
    assert.equal(await page.locator('form[action="/erase"]').count(), 0, 'an erase button is shown');
    // A hand-made form is refused too.
    const csrf = await page.locator('input[name="csrf"]').first().inputValue();
    const response = await page.request.post(`${base}/export`, {
      form: { csrf, contact_id: liveId, format: 'json' },
    });
    assert.equal(response.status(), 403);
    await page.click('nav >> text=Audit');
    await page.waitForURL(`${base}/audit`);
    await page.screenshot({ path: join(shots, 'lookup-only-audit.png'), fullPage: true });
    await page.click('form[action="/logout"] button');
    await page.waitForURL(`${base}/login`);
  });

  await check('a fresh browser without a session cannot reach the lookup', async () => {
    const stranger = await chromium.launch({
      executablePath: process.env.MGDPR_CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const other = await stranger.newPage();
      const response = await other.goto(`${base}/status`);
      assert.equal(new URL(other.url()).pathname, '/login');
      assert.equal(response.status(), 200);
      await other.getByRole('heading', { name: 'Log in' }).waitFor();
    } finally {
      await stranger.close();
    }
  });
  console.log(`browser: all ${passed.length} checks passed; screenshots in ${shots}`);
} catch (error) {
  console.error(`browser: FAILED at "${step}": ${error.message}`);
  try {
    const page = context.pages()[0];
    if (page) await page.screenshot({ path: join(shots, 'failure.png'), fullPage: true });
  } catch {}
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
