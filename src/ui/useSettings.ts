import { useCallback, useSyncExternalStore } from 'react';
import { browserStorage, readSettings, writeSettings, type Settings } from '../store/settings.ts';

/**
 * The page's settings, read once from storage (through `store/settings.ts`, the only code that
 * touches localStorage) and shared by every panel: a change made in one panel is stored and seen by
 * the others. A notice about settings that could not be used is kept until the user dismisses it.
 */
interface State {
  settings: Settings;
  notice: string | null;
}

let state: State | null = null;
const listeners = new Set<() => void>();

function current(): State {
  state ??= readSettings(browserStorage());
  return state;
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function set(next: State): void {
  state = next;
  for (const l of listeners) l();
}

/** The settings now, outside React (e.g. in an event handler before a restart). */
export function getSettings(): Settings {
  return current().settings;
}

/** Changes one section of the settings and stores the result. */
export function updateSettings<K extends Exclude<keyof Settings, 'version'>>(
  section: K,
  patch: Partial<Settings[K]>,
): void {
  const cur = current();
  const settings = { ...cur.settings, [section]: { ...cur.settings[section], ...patch } };
  writeSettings(browserStorage(), settings);
  set({ ...cur, settings });
}

/**
 * The settings, or the part `select` picks: a component re-renders only when that part changes
 * (an update replaces the section it changes and keeps the others as they were).
 */
export function useSettings(): Settings;
export function useSettings<T>(select: (s: Settings) => T): T;
export function useSettings<T>(select?: (s: Settings) => T): T | Settings {
  return useSyncExternalStore(subscribe, () => (select ? select(current().settings) : current().settings));
}

/** The notice about unusable stored settings (null when there is none) and a way to dismiss it. */
export function useSettingsNotice(): [string | null, () => void] {
  const notice = useSyncExternalStore(subscribe, () => current().notice);
  const dismiss = useCallback(() => set({ ...current(), notice: null }), []);
  return [notice, dismiss];
}

/** Forgets the settings read so far (tests: the next use reads storage again). */
export function resetSettingsForTests(): void {
  state = null;
}
