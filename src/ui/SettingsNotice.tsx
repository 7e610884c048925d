import { useSettingsNotice } from './useSettings.ts';

/** Says once, at the top, that stored settings could not be used (and were reset). */
export function SettingsNotice() {
  const [notice, dismiss] = useSettingsNotice();
  if (notice === null) return null;
  return (
    <p className="notice settings-notice" role="status" data-testid="settings-notice">
      {notice}{' '}
      <button type="button" className="link" onClick={dismiss}>
        Dismiss
      </button>
    </p>
  );
}
