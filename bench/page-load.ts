/** The HTML report opened in headless chromium: first contentful paint and the page's own "drawn" mark. */
import { pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';

export interface PageLoad {
  /** Navigation start to the first contentful paint. */
  firstPaintMs: number;
  /** Navigation start to the end of the page script: the treemap, layers and findings in the DOM. */
  drawnMs: number;
  /** Navigation start to the first frame after that (an upper bound of when the treemap is on screen). */
  paintedMs: number;
  /** Elements of the treemap. */
  drawn: number;
}

/** Median of `runs` cold opens (a new tab each time) at 1280x900. */
export async function pageLoad(file: string, runs = 3): Promise<PageLoad> {
  const browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const loads: PageLoad[] = [];
    for (let i = 0; i < runs; i++) {
      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 900 });
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      await page.waitForSelector('body[data-ready]', { timeout: 60_000 });
      // the paint entry is queued a frame after the load
      const firstPaintMs = await page.evaluate(
        () => new Promise<number>((resolve) => {
          const find = () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime;
          const poll = () => (find() !== undefined ? resolve(find()!) : requestAnimationFrame(poll));
          poll();
        }),
      );
      const drawnMs = Number(await page.$eval('body', (b) => b.dataset.ready));
      const paintedMs = await page.evaluate(() => new Promise<number>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now())))));
      loads.push({ firstPaintMs, drawnMs, paintedMs, drawn: await page.$$eval('#map div', (els) => els.length) });
      await page.close();
    }
    return loads.sort((a, b) => a.paintedMs - b.paintedMs)[runs >> 1];
  } finally {
    await browser.close();
  }
}
