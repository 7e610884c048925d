export function LiveCharts({ ready }: { ready: boolean }) {
  return (
    <section className="panel charts-panel" aria-label="Live instrumentation">
      {!ready && <p className="empty">Charts fill in as soon as a model pair is loaded and probed.</p>}
    </section>
  );
}
