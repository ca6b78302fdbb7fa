// A real browser for tests: Debian's chromium (or DFER_CHROMIUM) driven by playwright-core. A page opened here records
// what went wrong in it (console errors, uncaught page errors) and every request other than for files and inline
// data, so a test can assert that a page works and is self-contained; it can switch the colour scheme and the media (print), and save
// screenshots. Tests skip where the browser is missing, unless DFER_TEST_BROWSER=require (then they fail); they run
// in the native pass only (the page does not depend on dfer's backend): see browserSuite.
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.DFER_CHROMIUM || '/usr/bin/chromium';

/** Why the browser tests cannot run here, or null. */
export function browserUnavailable(): string | null {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} not found (apt-get install chromium, or set DFER_CHROMIUM)`;
  return null;
}

/**
 * `describe` for browser tests: skipped (with a warning naming why) where chromium is missing, unless
 * DFER_TEST_BROWSER=require, and in the wasm and WebGPU passes (DFER_TEST_BACKEND other than native).
 */
export function browserSuite(file: string): jest.Describe {
  const backend = process.env.DFER_TEST_BACKEND;
  if (backend && backend !== 'native') return describe.skip;
  const unavailable = browserUnavailable();
  if (!unavailable || process.env.DFER_TEST_BROWSER === 'require') return describe;
  console.warn(`${file}: browser tests skipped: ${unavailable} (DFER_TEST_BROWSER=require makes this a failure)`);
  return describe.skip;
}

export interface OpenOptions {
  colorScheme?: 'light' | 'dark';
  viewport?: { width: number; height: number };
}

export interface TestPage {
  page: Page;
  /** Console errors and uncaught exceptions, in order. */
  errors: string[];
  /** Requests to anything but file:, data: and blob: URLs (a self-contained page makes none). */
  external: string[];
  /** A PNG of the page (whole by default); returns its path. */
  screenshot(path: string, o?: { fullPage?: boolean }): Promise<string>;
  close(): Promise<void>;
}

export interface TestBrowser {
  /** Opens a URL, or a file path (as file://). */
  open(target: string, o?: OpenOptions): Promise<TestPage>;
  close(): Promise<void>;
}

/** `webgpu`: expose WebGPU (--enable-unsafe-webgpu: headless chromium then offers SwiftShader's adapter, on the CPU). */
export async function launchBrowser(o: { webgpu?: boolean } = {}): Promise<TestBrowser> {
  // --no-sandbox: the tests run as root, where chromium's sandbox refuses to start.
  const args = ['--no-sandbox', ...(o.webgpu ? ['--enable-unsafe-webgpu'] : [])];
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args });
  return {
    async open(target, o = {}) {
      const context = await browser.newContext({
        colorScheme: o.colorScheme ?? 'light',
        viewport: o.viewport ?? { width: 1400, height: 900 },
      });
      const page = await context.newPage();
      const errors: string[] = [];
      const external: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()}`));
      page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
      page.on('request', (r) => !/^(file|data|blob|about):/.test(r.url()) && external.push(r.url()));
      const url = /^[a-z]+:\/\//i.test(target)
        ? target
        : pathToFileURL(isAbsolute(target) ? target : resolve(target)).href;
      await page.goto(url, { waitUntil: 'load' });
      return {
        page,
        errors,
        external,
        async screenshot(path, s = {}) {
          await page.screenshot({ path, fullPage: s.fullPage ?? true });
          return path;
        },
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
  };
}
