import { cleanup } from '@testing-library/react';
import { afterEach, beforeEach, vi } from 'vitest';
import { resetSettingsForTests } from '../../src/ui/useSettings.ts';
import { fakeWorkbench, type FakeWorkbench } from './fakeWorkbench.ts';

/** The fake behind `workbench()` for the current test (see the `vi.mock` in each test file). */
export const current: { fake: FakeWorkbench } = { fake: fakeWorkbench() };

beforeEach(() => {
  current.fake = fakeWorkbench();
  localStorage.clear();
  resetSettingsForTests();
});

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});
