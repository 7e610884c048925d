// Main-thread long tasks while the real app (built from src/ with the app's own vite config) runs
// its "Run 200-prompt batch" button: the same path a user clicks, charts and live feed included.
import { execFileSync } from 'node:child_process';
import type { Page } from 'playwright';
import { DEVICE_LABEL, benchPort, launchChromium, startPreview } from './lib/chromium.ts';
import { compared, type UiResults } from './lib/results.ts';
import { ratio, summarize } from './lib/stats.ts';

const APP_OUT = 'node_modules/.cache/deltascope-bench/app';

/** Builds the app under node_modules/.cache, so the repo's dist/ (used by e2e runs) is never touched. */
export function buildApp(): void {
  execFileSync('node', ['scripts/copyOrtAssets.mjs'], { stdio: 'ignore' });
  execFileSync('npx', ['vite', 'build', '--outDir', APP_OUT, '--emptyOutDir', '--logLevel', 'warn'], {
    stdio: 'ignore',
  });
}

type LongTaskWindow = { longTasks: number[] };

async function observe(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as LongTaskWindow;
    w.longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.longTasks.push(e.duration);
    }).observe({ type: 'longtask', buffered: false });
  });
}

const takeLongTasks = (page: Page) =>
  page.evaluate(() => {
    const w = window as unknown as LongTaskWindow;
    const out = w.longTasks;
    w.longTasks = [];
    return out;
  });

export async function uiBench(quick: boolean): Promise<UiResults> {
  const repeats = quick ? 2 : 5;
  const preview = await startPreview(['--outDir', APP_OUT], benchPort(3));
  const browser = await launchChromium('wasm');
  const counts: number[] = [];
  const idleCounts: number[] = [];
  const longest: number[] = [];
  const all: number[] = [];
  try {
    for (let r = 0; r < repeats; r++) {
      // A fresh page each time: a second click on one page would be served from the cache.
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      await page.goto(preview.url);
      await page.getByTestId('device-badge').filter({ hasText: /WASM/ }).waitFor({ timeout: 90_000 });
      await page.waitForTimeout(500);
      await observe(page);
      const t0 = Date.now();
      // Wait in the page (MutationObserver): Playwright's text polling forces full-document layouts
      // that would be counted as the app's long tasks.
      const finished = page.evaluate(
        () =>
          new Promise<void>((resolve) => {
            const el = document.querySelector('[data-testid="load-status"]')!;
            // No named function here: tsx would wrap it in a `__name` helper the page does not have.
            new MutationObserver(() => {
              if (/200 prompts × 2 views in/.test(el.textContent ?? '')) resolve();
            }).observe(el, { childList: true, characterData: true, subtree: true });
          }),
      );
      await page.getByRole('button', { name: 'Run 200-prompt batch' }).click();
      await finished;
      // Let the last feed updates and chart frames land.
      await page.waitForTimeout(500);
      const busyMs = Date.now() - t0;
      const tasks = await takeLongTasks(page);
      // Baseline: the same page, idle, for as long as the run took.
      await page.waitForTimeout(busyMs);
      const idle = await takeLongTasks(page);
      counts.push(tasks.length);
      idleCounts.push(idle.length);
      longest.push(tasks.length > 0 ? Math.max(...tasks) : 0);
      all.push(...tasks);
      await context.close();
    }
  } finally {
    await browser.close();
    await preview.stop();
  }
  const v = summarize(counts);
  const bl = summarize(idleCounts);
  console.log(
    `  UI long tasks per run: ${counts.join(',')} (idle ${idleCounts.join(',')}), longest ${Math.max(0, ...all).toFixed(0)} ms`,
  );
  return {
    device: DEVICE_LABEL.wasm,
    prompts: 200,
    longTaskCount: compared(v, bl, ratio(v, bl)),
    longestMs: summarize(longest),
    all,
    note: `the built app, "Run 200-prompt batch" (top-k 32, both views), ${repeats} fresh pages; long tasks from PerformanceObserver('longtask'); baseline: the same page idle for as long as the run took. WebGPU is not measured here (one run takes ~40 s on SwiftShader).`,
  };
}
