/**
 * A real browser for the HTML report's tests: Debian's chromium, headless, driven over the DevTools
 * protocol by puppeteer-core (no browser download). Every request the page makes is recorded, so a
 * test can assert that nothing but the file itself was loaded.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(chromiumPath)) throw new Error(`chromium not found at ${chromiumPath}: apt-get install chromium (or set CHROMIUM)`);
  // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start
  return puppeteer.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

export interface OpenedPage {
  page: Page;
  /** Every URL the page requested, the document included. */
  requests: string[];
  /** Uncaught errors and console errors. */
  errors: string[];
  url: string;
}

/** The page of `file` opened at a fixed size, once its script has drawn everything. */
export async function openPage(browser: Browser, file: string, width = 1280, height = 900): Promise<OpenedPage> {
  const page = await browser.newPage();
  await page.setViewport({ width, height });
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  const url = pathToFileURL(file).href;
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('body[data-ready]', { timeout: 30_000 });
  return { page, requests, errors, url };
}
