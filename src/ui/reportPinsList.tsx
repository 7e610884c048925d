import { useRef } from 'react';
import { pinLabel, type ReportPins } from './reportPins.ts';

/**
 * What the HTML report will carry from the Probe panel: one line per pin with a Remove button.
 * After a removal, focus moves to the next pin's button (or the list), so a keyboard user keeps
 * their place.
 */
export function ReportPinsList({ pins }: { pins: ReportPins }) {
  const list = useRef<HTMLUListElement>(null);
  const removeAt = (i: number, id: string) => {
    pins.remove(id);
    requestAnimationFrame(() => {
      const buttons = list.current?.querySelectorAll('button');
      const next = buttons?.[Math.min(i, buttons.length - 1)];
      (next ?? list.current)?.focus();
    });
  };
  return (
    <div className="report-pins" data-testid="report-pins">
      <h4 id="report-pins-heading">Pinned for the HTML report ({pins.pins.length})</h4>
      {pins.pins.length === 0 ? (
        <p className="hint">
          Nothing pinned: “Add to report” in Probe pins a Compare, a continuation score or a heatmap.
        </p>
      ) : (
        <ul ref={list} tabIndex={-1} aria-labelledby="report-pins-heading">
          {pins.pins.map((p, i) => (
            <li key={p.id}>
              <span className="pin-label">{pinLabel(p)}</span>{' '}
              <button
                type="button"
                className="link"
                aria-label={`Remove from report: ${pinLabel(p)}`}
                onClick={() => removeAt(i, p.id)}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
