// @vitest-environment jsdom
import 'fake-indexeddb/auto';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { IdbSuiteRuns } from '../../src/store/suiteRunDb.ts';
import { toJsonReport } from '../../src/suite/reports/json.ts';
import type { SuiteResult } from '../../src/suite/types.ts';
import { RunCompareView } from '../../src/ui/RunCompareView.tsx';
import { fixtureResult } from '../suite/reportFixture.ts';
import './setup.ts';

let dbCount = 0;
/** A store of its own per test, holding `results` oldest first. */
async function storeWith(...results: SuiteResult[]): Promise<IdbSuiteRuns> {
  let t = 1_700_000_000_000;
  const store = new IdbSuiteRuns(`run-compare-ui-${++dbCount}`, () => (t += 60_000));
  for (const r of results) await store.add(r);
  return store;
}

/** The fixture with its `kl` probe (a PASS at 0.70) regressed to a FAIL at 0.40. */
function regressed(): SuiteResult {
  const r = fixtureResult();
  const kl = r.probes.find((p) => p.name === 'kl')!;
  kl.verdict = 'fail';
  kl.score = 0.4;
  return r;
}

const rows = () => within(screen.getByTestId('compare-matrix')).getAllByTestId('compare-row');
const toggle = () => screen.getByTestId('compare-only-changed') as HTMLInputElement;

describe('RunCompareView', () => {
  it('compares the newest stored run (B) with the one before (A); "show only what changed" leaves the changed probe', async () => {
    const store = await storeWith(fixtureResult(), regressed());
    render(<RunCompareView source={store} />);
    await waitFor(() => expect(rows()).toHaveLength(5));
    // A group inside Traces, not a landmark: a region named "Compare suite runs" would make the
    // Suite panel's region ambiguous to a by-name lookup (names match by substring).
    expect(screen.getByRole('group', { name: 'Compare suite runs' })).toBeTruthy();
    expect(screen.queryAllByRole('region')).toEqual([]);
    const kl = rows().find((r) => r.getAttribute('data-probe') === 'kl')!;
    expect(kl.getAttribute('data-status')).toBe('regressed');
    expect(kl.textContent).toContain('PASS  0.70');
    expect(kl.textContent).toContain('FAIL  0.40');
    expect(kl.textContent).toContain('-0.30');
    expect(rows().filter((r) => r.getAttribute('data-status') !== 'same')).toHaveLength(1);
    expect(screen.getByTestId('compare-summary').textContent).toMatch(
      /^1 of 5 probes changed · 1 regression · /,
    );
    expect(
      within(screen.getByTestId('compare-regressions')).getByText('kl: PASS → FAIL, score -0.300'),
    ).toBeTruthy();

    expect(toggle().checked).toBe(false);
    fireEvent.click(toggle());
    expect(toggle().checked).toBe(true);
    expect(rows().map((r) => r.getAttribute('data-probe'))).toEqual(['kl']);
    expect(screen.getByText('4 unchanged probes hidden.')).toBeTruthy();
    fireEvent.click(toggle());
    expect(rows()).toHaveLength(5);
    store.close();
  });

  it('picking the runs the other way round compares against the other baseline: an improvement, no regression', async () => {
    const store = await storeWith(fixtureResult(), regressed());
    const [newest, older] = await store.list();
    render(<RunCompareView source={store} />);
    await waitFor(() => expect(rows()).toHaveLength(5));
    fireEvent.change(screen.getByTestId('compare-pick-a'), { target: { value: newest!.id } });
    fireEvent.change(screen.getByTestId('compare-pick-b'), { target: { value: older!.id } });
    await waitFor(() =>
      expect(screen.getByTestId('compare-summary').textContent).toMatch(
        /^1 of 5 probes changed · 0 regressions/,
      ),
    );
    const kl = rows().find((r) => r.getAttribute('data-probe') === 'kl')!;
    expect(kl.getAttribute('data-status')).toBe('changed');
    expect(kl.textContent).toContain('+0.30');
    expect(screen.queryByTestId('compare-regressions')).toBeNull();

    // The same run twice is not a comparison.
    fireEvent.change(screen.getByTestId('compare-pick-b'), { target: { value: newest!.id } });
    expect(await screen.findByText(/A and B are the same run/)).toBeTruthy();
    expect(screen.queryByTestId('compare-matrix')).toBeNull();
    store.close();
  });

  it('with one stored run it says how to get a second; an imported JSON report makes two', async () => {
    const store = await storeWith(fixtureResult());
    render(<RunCompareView source={store} />);
    expect(await screen.findByText(/One suite run stored\./)).toBeTruthy();
    expect(screen.queryByTestId('compare-matrix')).toBeNull();

    const file = new File([toJsonReport(regressed())], 'nightly.json', { type: 'application/json' });
    fireEvent.change(screen.getByTestId('compare-import-input'), { target: { files: [file] } });
    await waitFor(() => expect(rows()).toHaveLength(5));
    const b = screen.getByTestId('compare-pick-b') as HTMLSelectElement;
    expect(b.selectedOptions[0]!.textContent).toMatch(/^⤓ nightly\.json · /);
    expect(
      rows()
        .find((r) => r.getAttribute('data-probe') === 'kl')!
        .getAttribute('data-status'),
    ).toBe('regressed');
    store.close();
  });

  it('a file that is not a report is refused with a message naming it', async () => {
    const store = await storeWith(fixtureResult());
    render(<RunCompareView source={store} />);
    await screen.findByText(/One suite run stored\./);
    const file = new File(['not json'], 'notes.json', { type: 'application/json' });
    fireEvent.change(screen.getByTestId('compare-import-input'), { target: { files: [file] } });
    expect((await screen.findByRole('alert')).textContent).toMatch(/^notes\.json is not valid JSON/);
    expect(await store.list()).toHaveLength(1);
    store.close();
  });

  it('reads imports strictly: JSON that is not a report is refused naming the file, and a bad file among several stores none', async () => {
    const store = await storeWith(fixtureResult());
    render(<RunCompareView source={store} />);
    await screen.findByText(/One suite run stored\./);
    const empty = new File(['{}'], 'empty.json', { type: 'application/json' });
    fireEvent.change(screen.getByTestId('compare-import-input'), { target: { files: [empty] } });
    expect((await screen.findByRole('alert')).textContent).toMatch(
      /^empty\.json is not a report: `probes` is missing/,
    );
    const good = new File([toJsonReport(regressed())], 'good.json', { type: 'application/json' });
    const junk = new File([JSON.stringify({ probes: [1, null, 'x'] })], 'junk.json', {
      type: 'application/json',
    });
    fireEvent.change(screen.getByTestId('compare-import-input'), { target: { files: [good, junk] } });
    await waitFor(() =>
      expect(screen.getByRole('alert').textContent).toMatch(
        /^junk\.json is not a report: probes\[0\] is a number/,
      ),
    );
    expect(await store.list()).toHaveLength(1);
    expect(screen.queryByTestId('compare-matrix')).toBeNull();
    store.close();
  });

  it('deletes run B after a confirmation; the newest remaining run takes its place', async () => {
    const store = await storeWith(fixtureResult(), fixtureResult(), regressed());
    const [newest] = await store.list();
    render(<RunCompareView source={store} />);
    await waitFor(() => expect(rows()).toHaveLength(5));
    expect(
      rows()
        .find((r) => r.getAttribute('data-probe') === 'kl')!
        .getAttribute('data-status'),
    ).toBe('regressed');
    fireEvent.click(screen.getByRole('button', { name: 'Delete run B' }));
    fireEvent.click(screen.getByRole('button', { name: 'Confirm delete' }));
    await waitFor(async () => expect((await store.list()).map((r) => r.id)).not.toContain(newest!.id));
    // The two identical runs remain: nothing changed between them.
    await waitFor(() =>
      expect(screen.getByTestId('compare-summary').textContent).toMatch(
        /^0 of 5 probes changed · 0 regressions/,
      ),
    );
    expect((screen.getByTestId('compare-pick-b') as HTMLSelectElement).options).toHaveLength(2);
    store.close();
  });
});
