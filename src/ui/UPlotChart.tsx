import { memo, useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { scheduleFrameJob } from './frameQueue.ts';
import { formatTimeTicks } from './timeTicks.ts';

export interface ChartSeries {
  label: string;
  stroke: string;
  /** Points only (no line), e.g. individual batch sizes. */
  points?: boolean;
  dash?: number[];
}

interface Props {
  title: string;
  headingId: string;
  series: ChartSeries[];
  xLabel: string;
  yLabel: string;
  yRange?: [number, number];
  /** The x values are seconds: tick labels in ms, s or m:ss to suit the span, never repeated. */
  xTime?: boolean;
  /** Called on every animation frame that has new data; returns the columns [x, ...ys]. */
  subscribe(onData: (columns: ArrayLike<number>[]) => void): () => void;
}

/**
 * A uPlot chart created once and fed by `setData` on animation frames (shared with the other charts
 * through `scheduleFrameJob`, so they draw in turns): updates append points,
 * they never rebuild the chart (uPlot draws 100k points in milliseconds on a canvas).
 */
/** Memoised: the parent re-renders on every feed update, the chart itself only on new props. */
export const UPlotChart = memo(function UPlotChart({
  title,
  headingId,
  series,
  xLabel,
  yLabel,
  yRange,
  xTime = false,
  subscribe,
}: Props) {
  const host = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = host.current;
    if (el === null) return;
    const opts: uPlot.Options = {
      width: Math.max(240, el.clientWidth),
      height: 150,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false }, y: yRange ? { range: yRange } : { auto: true } },
      axes: [
        {
          label: xLabel,
          size: 36,
          labelSize: 14,
          font: '11px system-ui',
          labelFont: '11px system-ui',
          ...(xTime ? { values: timeTickLabels } : {}),
        },
        { label: yLabel, size: 60, labelSize: 14, font: '11px system-ui', labelFont: '11px system-ui' },
      ],
      series: [
        {},
        ...series.map((s): uPlot.Series => ({
          label: s.label,
          stroke: s.stroke,
          width: 1.5,
          ...(s.dash ? { dash: s.dash } : {}),
          ...(s.points
            ? { paths: () => null, points: { show: true, size: 4, stroke: s.stroke, fill: s.stroke } }
            : { points: { show: false } }),
        })),
      ],
    };
    const empty: uPlot.AlignedData = [[], ...series.map(() => [])];
    const chart = new uPlot(opts, empty, el);
    let unqueue: (() => void) | null = null;
    let pending: ArrayLike<number>[] | null = null;
    const unsubscribe = subscribe((columns) => {
      pending = columns;
      // One redraw per chart per frame at most, and the charts take turns across frames.
      unqueue ??= scheduleFrameJob(() => {
        unqueue = null;
        if (pending !== null) {
          chart.setData(pending as uPlot.AlignedData);
          // Exposed for tests and for anyone inspecting the page: how many points are plotted.
          el.dataset.points = String(pending[0]?.length ?? 0);
        }
        pending = null;
      });
    });
    const resize = new ResizeObserver(() =>
      chart.setSize({ width: Math.max(240, el.clientWidth), height: 150 }),
    );
    resize.observe(el);
    return () => {
      unsubscribe();
      resize.disconnect();
      unqueue?.();
      chart.destroy();
    };
    // The chart is built once per mount; `subscribe` feeds it.
  }, [series, subscribe, xLabel, xTime, yLabel, yRange]);

  return (
    <figure className="chart" aria-labelledby={headingId}>
      <h3 id={headingId}>{title}</h3>
      <div ref={host} className="chart-host" data-testid={`${headingId}-chart`} />
    </figure>
  );
});

function timeTickLabels(u: uPlot, splits: number[]): string[] {
  const { min, max } = u.scales.x ?? {};
  const span =
    min != null && max != null ? max - min : splits.length > 1 ? splits[splits.length - 1]! - splits[0]! : 0;
  return formatTimeTicks(splits, span);
}
