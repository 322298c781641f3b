// The web console in a real browser: headless Chromium (Debian's, through puppeteer-core)
// against a running kanri serve on the fixture data centre. The page shows the machines;
// a change started from the page (after its confirmation) runs as a job whose progress
// appears; an operator sees no action and the server refuses its change; Japanese for a
// Japanese browser; the token of the URL fragment is never sent to the server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'puppeteer-core';
import { waitFor } from './support/daemon.js';
import { requirePeer } from './support/peers.js';
import { fixtureStore, queryAll } from './support/store.js';
import { startServe, token, type Served } from './support/serve.js';

const CHROMIUM = '/usr/bin/chromium';
const have = requirePeer('chromium', 'web console in Chromium');

describe.runIf(have)('kanri serve: the web console in Chromium', () => {
  let db: string;
  let srv: Served;
  let browser: Browser;
  let admin: string;
  let oper: string;

  beforeAll(async () => {
    db = fixtureStore();
    admin = token(db, 'alice', 'administrator');
    oper = token(db, 'otto', 'operator');
    srv = await startServe(db);
    const { launch } = await import('puppeteer-core');
    browser = await launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage'], timeout: 60_000 });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await srv?.stop();
  });

  async function open(tok: string, lang = 'en-US', hash = '#/'): Promise<Page> {
    const ctx = await browser.createBrowserContext();
    const page = await ctx.newPage();
    await page.setExtraHTTPHeaders({ 'accept-language': lang });
    await page.evaluateOnNewDocument((l: string) => { Object.defineProperty(navigator, 'language', { get: () => l }); }, lang);
    await page.goto(`${srv.url}/${hash}token=${encodeURIComponent(tok)}`.replace('#/token', '#token'), { waitUntil: 'domcontentloaded' });
    return page;
  }

  it('shows the groups and their machines, and the token never reaches the server', async () => {
    const page = await open(admin);
    await page.waitForSelector('tr[data-machine]', { timeout: 30_000 });
    const names = await page.$$eval('tr[data-machine]', (rows) => rows.map((r) => r.getAttribute('data-machine')));
    const inStore = queryAll<{ name: string }>(db, 'SELECT name FROM machines').map((r) => r.name);
    expect(names.sort()).toEqual(inStore.sort());
    expect(await page.$eval('#who', (e) => e.textContent)).toContain('alice');
    // The fragment was taken into session storage and removed from the address.
    expect(page.url()).not.toContain('token=');
    expect(await page.evaluate(() => sessionStorage.getItem('kanri.token'))).toBe(admin);
    // The server's view: every request it received is in the audit (path and query), and its log.
    await waitFor(() => queryAll(db, "SELECT 1 FROM audit WHERE command LIKE 'serve GET /api/v1/machines%'").length > 0, 10_000, () => 'no audit row yet');
    expect(srv.d.log()).not.toContain(admin);
    const audit = queryAll<{ command: string }>(db, 'SELECT command FROM audit');
    expect(audit.some((a) => a.command.includes(admin))).toBe(false);
    await page.browserContext().close();
  }, 60_000);

  it('runs a change started from the page as a job, after a confirmation naming it, and shows its progress', async () => {
    const page = await open(admin);
    const button = await page.waitForSelector('button.act-add[data-group="Shop\\\\Web"]', { timeout: 30_000 });
    const jobsBefore = queryAll(db, 'SELECT id FROM jobs').length;
    await button!.click();
    await page.waitForSelector('dialog#confirm[open]');
    const text = await page.$eval('#confirm-text', (e) => e.textContent);
    expect(text).toContain('Add a machine');
    expect(text).toContain('Shop\\Web');
    // Nothing runs before it is confirmed.
    expect(queryAll(db, 'SELECT id FROM jobs').length).toBe(jobsBefore);
    await page.click('#confirm-yes');
    const row = await page.waitForSelector('p.job[data-status="completed"]', { timeout: 60_000 });
    const id = Number(await row!.evaluate((e) => e.getAttribute('data-job')));
    const job = queryAll<{ status: string; origin: string; command: string }>(db, 'SELECT status, origin, command FROM jobs WHERE id = ?', id)[0]!;
    expect(job.status).toBe('completed');
    expect(job.origin).toBe('api');
    expect(job.command).toContain('token alice');
    expect(await row!.evaluate((e) => e.textContent)).toContain('100%');
    await page.browserContext().close();
  }, 90_000);

  it('a canceled confirmation changes nothing', async () => {
    const page = await open(admin);
    const button = await page.waitForSelector('button.act-add[data-group="Shop\\\\Web"]', { timeout: 30_000 });
    const before = queryAll(db, 'SELECT id FROM jobs').length;
    await button!.click();
    await page.waitForSelector('dialog#confirm[open]');
    await page.click('#confirm-no');
    await page.waitForFunction(() => !document.querySelector('dialog#confirm[open]'));
    expect(queryAll(db, 'SELECT id FROM jobs').length).toBe(before);
    await page.browserContext().close();
  }, 60_000);

  it('an operator sees no action and cannot change anything, even by calling the API from the page', async () => {
    const page = await open(oper);
    await page.waitForSelector('tr[data-machine]', { timeout: 30_000 });
    expect(await page.$$('button[class^="act-"]')).toHaveLength(0);
    const web = queryAll<{ name: string }>(db, "SELECT m.name FROM machines m JOIN groups g ON g.id = m.group_id WHERE g.name = 'Web' LIMIT 1")[0]!.name;
    await page.goto(`${srv.url}/#/machine/${web}`);
    await page.waitForSelector('#machine', { timeout: 30_000 });
    expect(await page.$$('button[class^="act-"]')).toHaveLength(0);
    const before = queryAll(db, 'SELECT id FROM jobs').length;
    const status = await page.evaluate(async () => {
      const r = await fetch('/api/v1/changes', { method: 'POST', headers: { authorization: 'Bearer ' + sessionStorage.getItem('kanri.token'), 'content-type': 'application/json' }, body: JSON.stringify({ action: 'add', group: 'Shop/Web' }) });
      return r.status;
    });
    expect(status).toBe(403);
    expect(queryAll(db, 'SELECT id FROM jobs').length).toBe(before);
    await page.browserContext().close();
  }, 60_000);

  it('speaks Japanese to a Japanese browser and takes a token from the login form', async () => {
    const ctx = await browser.createBrowserContext();
    const page = await ctx.newPage();
    await page.evaluateOnNewDocument(() => { Object.defineProperty(navigator, 'language', { get: () => 'ja-JP' }); });
    await page.goto(`${srv.url}/`);
    await page.waitForSelector('form#login');
    await page.type('#token', oper);
    await page.click('form#login button');
    await page.waitForSelector('#groups h2', { timeout: 30_000 });
    expect(await page.$eval('#groups h2', (e) => e.textContent)).toContain('グループとマシン');
    expect(await page.$eval('#who', (e) => e.textContent)).toContain('オペレータ');
    await ctx.close();
  }, 60_000);

  it('shows a job started elsewhere after the page opened, with its progress to the end', async () => {
    const { call } = await import('./support/serve.js');
    const page = await open(oper);
    await page.waitForSelector('#event-log', { timeout: 30_000 });
    const r = await call(srv.url, 'POST', '/api/v1/changes', { token: admin, body: { action: 'delete', group: 'Shop/Web' } });
    expect(r.status, r.text).toBe(202);
    const id = r.json.jobs[0];
    await page.waitForSelector(`#jobs p.job[data-job="${id}"][data-status="completed"]`, { timeout: 60_000 });
    await page.browserContext().close();
  }, 90_000);

  it('shows a job started elsewhere in the running jobs with its progress', async () => {
    const { call } = await import('./support/serve.js');
    const { run } = await import('./support/cli.js');
    expect(run('kanri', ['sim', 'delay', '800'], { db }).code).toBe(0);
    try {
      const r = await call(srv.url, 'POST', '/api/v1/changes', { token: admin, body: { action: 'delete', group: 'Shop/Web' } });
      expect(r.status, r.text).toBe(202);
      const id = r.json.jobs[0];
      const page = await open(oper);
      await page.waitForSelector(`#jobs p.job[data-job="${id}"]`, { timeout: 30_000 });
      await waitFor(async () => (await page.$eval(`#jobs p.job[data-job="${id}"]`, (e) => e.getAttribute('data-status'))) === 'completed', 120_000, () => `job ${id} not shown completed`);
      await page.browserContext().close();
    } finally {
      run('kanri', ['sim', 'delay', '0'], { db });
    }
  }, 150_000);
});
