/// <reference lib="dom" />
// Debian's Chromium driven by playwright-core: the pages are pressed as a client presses them, with
// the headers a real browser sends (Origin, Sec-Fetch-Site), which Node's fetch does not.
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';

export const viewports = {
  phone: { width: 390, height: 844 },
  desktop: { width: 1280, height: 800 },
} as const;
export type ViewportName = keyof typeof viewports;

/** WCAG 2.2 target size (minimum), in CSS pixels. */
export const minimumTarget = 24;

export interface BrowserSession {
  browser: Browser;
  /** A fresh context (no cookies) at the named viewport size. */
  context(viewport: ViewportName): Promise<BrowserContext>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<BrowserSession> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    // The machine's network is closed: background services would only fail to connect. Playwright
    // gives each launch a fresh, temporary profile.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    async context(viewport) {
      const context = await browser.newContext({ viewport: viewports[viewport] });
      context.setDefaultTimeout(10_000);
      return context;
    },
    close: () => browser.close(),
  };
}

/** What a person would notice: the page scrolls sideways, or a control is too small to tap. */
export async function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate((minimum) => {
    const problems: string[] = [];
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > width)
      problems.push(`the page is ${document.documentElement.scrollWidth}px wide in a ${width}px viewport`);
    for (const element of document.querySelectorAll<HTMLElement>(
      'button, input:not([type=hidden]), textarea, select, a.button',
    )) {
      const box = element.getBoundingClientRect();
      const name = `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''} "${(element.textContent ?? '').trim().slice(0, 30)}"`;
      if (box.width < minimum || box.height < minimum)
        problems.push(`${name} is ${Math.round(box.width)}×${Math.round(box.height)}px`);
      if (box.right > width + 1) problems.push(`${name} overflows the viewport (right edge ${box.right}px)`);
    }
    return problems;
  }, minimumTarget);
}

export async function expectFits(page: Page): Promise<void> {
  expect(await layoutProblems(page), `layout of ${page.url()}`).toEqual([]);
}
