/**
 * The probe panel in real headless Chromium: the built bundle (dist/webview/webview.js + webview.css)
 * in the same page and CSP the extension serves, with acquireVsCodeApi emulated so the test can read
 * what the panel posts and feed it what the host would send.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { panelPageHtml } from '../../src/shared/panel-page';
import type { ProbeResult } from '../../src/shared/probe';
import type { HostToWebviewMessage, PanelState, WhatIfChoice } from '../../src/shared/webview-messages';

export const ROOT = join(__dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const PANEL_URL = 'http://panel.gradient-lens.invalid/index.html';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function fixture(name: string): ProbeResult {
  return JSON.parse(readFileSync(join(ROOT, 'test', 'webview', 'fixtures', `${name}.json`), 'utf8')) as ProbeResult;
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launch(): Promise<Browser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'gl-webview-'));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 900, height: 1400 } });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export interface PanelPage {
  page: Page;
  /** Everything the panel posted to its host, in order. */
  posted(): Promise<unknown[]>;
  send(message: HostToWebviewMessage): Promise<void>;
  /** Dialogs (alert/confirm/prompt) and CSP violations seen so far. */
  dialogs: string[];
  violations(): Promise<string[]>;
}

export interface OpenOptions {
  /** What getState() returns at load (a reloaded panel). */
  savedState?: PanelState | null;
  /** Standalone report mode: no acquireVsCodeApi, state baked into the page. */
  standaloneState?: PanelState | null;
  themeClass?: string;
}

export function pageHtml(standaloneState: PanelState | null = null): string {
  return panelPageHtml({
    nonce: '0123456789abcdef0123456789abcdef',
    title: 'Gradient Lens probe',
    resourceOrigin: null,
    script: { inline: readFileSync(join(ROOT, 'dist', 'webview', 'webview.js'), 'utf8') },
    style: { inline: readFileSync(join(ROOT, 'dist', 'webview', 'webview.css'), 'utf8') },
    initialState: standaloneState,
  });
}

export async function openPanel(browser: Browser, options: OpenOptions = {}): Promise<PanelPage> {
  const page = await browser.context.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  const standalone = options.standaloneState !== undefined;
  await page.addInitScript(
    ({ saved, standalone, themeClass }) => {
      const w = window as unknown as Record<string, unknown>;
      w.__posted = [];
      w.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) => (w.__violations as string[]).push(`${e.violatedDirective}: ${e.blockedURI}`));
      if (themeClass) document.addEventListener('DOMContentLoaded', () => { document.body.classList.add(themeClass); });
      if (standalone) return;
      let state: unknown = saved;
      w.acquireVsCodeApi = () => ({
        postMessage: (m: unknown) => (w.__posted as unknown[]).push(JSON.parse(JSON.stringify(m))),
        getState: () => state,
        setState: (s: unknown) => {
          state = s;
        },
      });
    },
    { saved: options.savedState ?? null, standalone, themeClass: options.themeClass ?? '' },
  );
  // Served from an intercepted URL (nothing leaves the machine): a real navigation, so init scripts run.
  const html = pageHtml(standalone ? (options.standaloneState ?? null) : null);
  await page.route(PANEL_URL, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }));
  await page.goto(PANEL_URL, { waitUntil: 'load' });
  return {
    page,
    dialogs,
    posted: () => page.evaluate(() => (window as unknown as { __posted: unknown[] }).__posted),
    send: (message) => page.evaluate((m) => { window.postMessage(m, '*'); }, message),
    violations: () => page.evaluate(() => (window as unknown as { __violations: string[] }).__violations),
  };
}

export function showResult(result: ProbeResult, whatIfs: WhatIfChoice[] = []): HostToWebviewMessage {
  return { type: 'show-result', result, whatIfs, modelId: `${result.model.name}@${result.model.line}`, documentUri: 'file:///project/model.py' };
}

/** The option ECharts holds for a chart, as plain JSON. */
export async function chartOption(panel: PanelPage, name: string): Promise<Record<string, unknown>> {
  return panel.page.evaluate((n) => JSON.parse(JSON.stringify((window as unknown as { gradientLensPanel: { chartOption(n: string): unknown } }).gradientLensPanel.chartOption(n))) as Record<string, unknown>, name);
}
