// `npm run bench:check`: compares bench/results.json to the budgets and prints what falls short.
// A report, not a test: it always exits 0 unless results.json is missing or unreadable.
import { readFileSync } from 'node:fs';
import { checkBudgets } from './lib/budgets.ts';
import type { BenchResults } from './lib/results.ts';

const path = new URL('./results.json', import.meta.url);
let results: BenchResults;
try {
  results = JSON.parse(readFileSync(path, 'utf8')) as BenchResults;
} catch (e) {
  console.error(
    `bench:check: cannot read ${path.pathname} (${(e as Error).message}); run \`npm run bench\` first.`,
  );
  process.exit(1);
}
const checks = checkBudgets(results);
const mark = (ok: boolean | null) => (ok === null ? 'MISSING' : ok ? 'ok     ' : 'SHORT  ');
console.log(
  `Budgets vs bench/results.json (${results.env.date}${results.env.quick ? ', --quick run' : ''})\n`,
);
for (const c of checks) console.log(`${mark(c.ok)} ${c.budget}: ${c.measured}`);
const short = checks.filter((c) => c.ok === false);
const missing = checks.filter((c) => c.ok === null);
console.log(
  `\n${checks.length - short.length - missing.length} within budget, ${short.length} short, ${missing.length} missing.`,
);
for (const a of results.absent) console.log(`absent: ${a.what} — ${a.reason}`);
for (const e of results.errors) console.log(`error in ${e.part}: ${e.message}`);
