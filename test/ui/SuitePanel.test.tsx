// @vitest-environment jsdom
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { DeltascopeError } from '../../src/core/errors.ts';
import { SETTINGS_KEY, defaultSettings } from '../../src/store/settings.ts';
import type { SuiteResult } from '../../src/suite/types.ts';
import { SuitePanel } from '../../src/ui/SuitePanel.tsx';
import type { SuiteEvent, SuiteValidation } from '../../src/worker/workbenchApi.ts';
import { fixtureResult } from '../suite/reportFixture.ts';
import { deferred } from './fakeWorkbench.ts';
import { current } from './setup.ts';

vi.mock('../../src/ui/workerClient.ts', async (importOriginal) => {
  const { current } = await import('./setup.ts');
  const orig = await importOriginal<typeof import('../../src/ui/workerClient.ts')>();
  return { ...orig, workbench: () => current.fake.api };
});

const VALID: SuiteValidation = {
  ok: true,
  issues: [],
  probes: [{ name: 'kl', kind: 'delta_kl', enabled: true }],
};
const runButton = () => screen.getByRole('button', { name: 'Run suite' }) as HTMLButtonElement;

describe('SuitePanel', () => {
  it('empty: the first example is in the editor, checked in the worker; without a pair it cannot run', async () => {
    const checking = deferred<SuiteValidation>();
    current.fake.api.validateSuite.mockReturnValue(checking.promise);
    render(<SuitePanel ready={false} />);
    expect((screen.getByRole('textbox', { name: 'Spec (YAML)' }) as HTMLTextAreaElement).value).toContain(
      'suite:',
    );
    expect(screen.getByText('Checking…')).toBeTruthy();
    expect(screen.getByText('Load a model pair to run a suite.')).toBeTruthy();
    await waitFor(() => expect(current.fake.api.validateSuite).toHaveBeenCalled());
    await act(async () => checking.resolve(VALID));
    expect(screen.getByTestId('spec-valid').textContent).toContain('1 probe (delta_kl)');
    expect(runButton().disabled).toBe(true);
  });

  it('the spec comes from the settings and is stored there as it is edited', async () => {
    const s = defaultSettings();
    s.suite.spec = 'version: 1\n';
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(s));
    render(<SuitePanel ready />);
    const editor = screen.getByRole('textbox', { name: 'Spec (YAML)' }) as HTMLTextAreaElement;
    expect(editor.value).toBe('version: 1\n');
    fireEvent.change(editor, { target: { value: 'version: 2\n' } });
    await waitFor(() => expect(current.fake.api.validateSuite).toHaveBeenLastCalledWith('version: 2\n'));
    expect(JSON.parse(localStorage.getItem(SETTINGS_KEY)!).suite.spec).toBe('version: 2\n');
  });

  it('invalid: every issue is listed with line:column', async () => {
    current.fake.api.validateSuite.mockResolvedValue({
      ok: false,
      issues: [{ line: 3, column: 5, path: 'suite[0].kind', message: 'unknown probe kind "nope"' }],
      probes: [],
    });
    render(<SuitePanel ready />);
    const issues = await screen.findByTestId('spec-issues');
    expect(issues.textContent).toBe('line 3:5 suite[0].kind unknown probe kind "nope"');
    expect(runButton().disabled).toBe(true);
  });

  it('loading and result: progress while it runs, then the summary and the verdicts', async () => {
    const pending = deferred<SuiteResult>();
    let onEvent: ((e: SuiteEvent) => void) | undefined;
    current.fake.api.runSuite.mockImplementation((_yaml, cb) => {
      onEvent = cb;
      return pending.promise;
    });
    current.fake.api.validateSuite.mockResolvedValue(VALID);
    render(<SuitePanel ready />);
    await waitFor(() => expect(runButton().disabled).toBe(false));
    fireEvent.click(runButton());
    expect(runButton().disabled).toBe(true);
    act(() =>
      onEvent!({ type: 'progress', probeIndex: 0, probeCount: 1, probeName: 'kl', done: 5, total: 10 }),
    );
    expect(screen.getByRole('status').textContent).toContain('probe 1 of 1 · kl · 5/10');
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(current.fake.api.cancelSuite).toHaveBeenCalled();
    const result = fixtureResult();
    await act(async () => pending.resolve(result));
    expect(screen.queryByRole('status')).toBeNull();
    expect(screen.getByTestId('suite-summary')).toBeTruthy();
    const table = screen.getByTestId('suite-results');
    expect(within(table).getAllByRole('row')).toHaveLength(result.probes.length + 1);
    const first = result.probes[0]!;
    expect(screen.getByTestId(`verdict-${first.name}`).textContent).toBe(first.verdict.toUpperCase());
  });

  it('result: what prompt hygiene did is listed per probe, and nothing when it changed nothing', async () => {
    current.fake.api.validateSuite.mockResolvedValue(VALID);
    const result = fixtureResult();
    const counts = { prompts: 4, kept: 2, duplicates: 1, excluded: 1, lineEndings: 0, surrogates: 0 };
    const hygiene = {
      probes: [
        { probe: 'kl', kind: 'delta_kl', ...counts },
        { probe: 'clean', kind: 'delta_kl', ...counts, kept: 4, duplicates: 0, excluded: 0 },
      ],
      totals: counts,
      exclude: ['^SKIP'],
    };
    current.fake.api.runSuite.mockResolvedValueOnce({ ...result, hygiene });
    render(<SuitePanel ready />);
    await waitFor(() => expect(runButton().disabled).toBe(false));
    await act(async () => fireEvent.click(runButton()));
    const items = within(screen.getByTestId('suite-hygiene')).getAllByRole('listitem');
    expect(items.map((li) => li.textContent)).toEqual([
      'kl (delta_kl): 1 duplicate dropped, 1 excluded by pattern; 2 of 4 prompts run',
    ]);
    current.fake.api.runSuite.mockResolvedValueOnce({
      ...result,
      hygiene: { ...hygiene, probes: [hygiene.probes[1]!] },
    });
    await act(async () => fireEvent.click(runButton()));
    expect(screen.queryByTestId('suite-hygiene')).toBeNull();
  });

  it('result: a sway top-k raw is labelled with its formula, and the exact JS stands beside it', async () => {
    current.fake.api.validateSuite.mockResolvedValue(VALID);
    const result = fixtureResult();
    const probe = { ...result.probes[0]!, name: 'kl', kind: 'delta_kl', raw: 0.3631 };
    probe.evidence = { ...probe.evidence, raw_formula: 'sway js@10', method: 'topk', exact_js: 0.0529 };
    current.fake.api.runSuite.mockResolvedValue({ ...result, probes: [probe] });
    render(<SuitePanel ready />);
    await waitFor(() => expect(runButton().disabled).toBe(false));
    await act(async () => fireEvent.click(runButton()));
    expect(screen.getByTestId('raw-formula-kl').textContent).toBe(' sway JS@10');
    expect(screen.getByTestId('exact-js-kl').textContent).toBe('0.053');
  });

  it('result: the ablation curve draws the exact JS per λ when the probe has it, and says which it draws', async () => {
    current.fake.api.validateSuite.mockResolvedValue(VALID);
    const result = fixtureResult();
    const base = result.probes[0]!;
    const ablation = (evidence: Record<string, unknown>) => ({
      ...base,
      name: 'lambda',
      kind: 'adapter_ablation',
      evidence: { lambdas: [0, 0.5, 1], mean_divergence_per_lambda: [0, 0.2, 0.5], ...evidence },
    });
    current.fake.api.runSuite.mockResolvedValueOnce({
      ...result,
      probes: [ablation({ exact_js_per_lambda: [0, 0.02, 0.05] })],
    });
    render(<SuitePanel ready />);
    await waitFor(() => expect(runButton().disabled).toBe(false));
    await act(async () => fireEvent.click(runButton()));
    expect(screen.getByTestId('ablation-measure').textContent).toBe('(exact JS over the full vocabulary)');
    current.fake.api.runSuite.mockResolvedValueOnce({ ...result, probes: [ablation({})] });
    await act(async () => fireEvent.click(runButton()));
    expect(screen.getByTestId('ablation-measure').textContent).toBe("(sway's top-k formula)");
  });

  it('error: a run that fails shows the message; a spec the worker refuses lists its issues', async () => {
    current.fake.api.validateSuite.mockResolvedValue(VALID);
    current.fake.api.runSuite.mockRejectedValueOnce(
      new DeltascopeError('state/not-ready', 'No model pair is loaded.'),
    );
    render(<SuitePanel ready />);
    await waitFor(() => expect(runButton().disabled).toBe(false));
    await act(async () => fireEvent.click(runButton()));
    expect(screen.getByRole('alert').textContent).toBe('No model pair is loaded.');

    current.fake.api.runSuite.mockRejectedValueOnce(
      new DeltascopeError('spec/invalid', 'The spec has 1 problem.', {
        details: [{ line: 2, column: 1, path: 'defaults.seed', message: 'must be an integer' }],
      }),
    );
    await act(async () => fireEvent.click(runButton()));
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.getByTestId('spec-issues').textContent).toBe('line 2:1 defaults.seed must be an integer');
  });
});
