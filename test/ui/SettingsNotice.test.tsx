// @vitest-environment jsdom
import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { SETTINGS_KEY } from '../../src/store/settings.ts';
import { SettingsNotice } from '../../src/ui/SettingsNotice.tsx';
import './setup.ts';

describe('SettingsNotice', () => {
  it('says nothing when the stored settings are fine', () => {
    render(<SettingsNotice />);
    expect(screen.queryByTestId('settings-notice')).toBeNull();
  });

  it('says once that corrupt settings were reset, until dismissed', () => {
    localStorage.setItem(SETTINGS_KEY, '{"version": 1, "model": ');
    render(<SettingsNotice />);
    expect(screen.getByTestId('settings-notice').textContent).toMatch(/^Saved settings were not readable/);
    fireEvent.click(screen.getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByTestId('settings-notice')).toBeNull();
    // Repaired in storage: the next visit has nothing to say.
    expect(JSON.parse(localStorage.getItem(SETTINGS_KEY)!).version).toBe(1);
  });
});
