import { useCallback, useRef, useState } from 'react';
import type { BreakerStatus, PairInfo } from '../worker/workbenchApi.ts';
import { ModelPanel } from './ModelPanel.tsx';
import { ProbePanel } from './ProbePanel.tsx';
import { LiveCharts } from './LiveCharts.tsx';
import { TracesPanel } from './TracesPanel.tsx';
import { SuitePanel } from './SuitePanel.tsx';
import { pinPair, useReportPins } from './reportPins.ts';
import { restartWorkbench, workbench } from './workerClient.ts';
import { SettingsNotice } from './SettingsNotice.tsx';
import { StorageNotice } from './StorageNotice.tsx';
import { BreakerNotice, BreakerWatch, breakerLogLine } from './BreakerNotice.tsx';
import { markBreakerTrial } from './breakerConfig.ts';
import { updateSettings } from './useSettings.ts';

export function App() {
  const [info, setInfo] = useState<PairInfo | null>(null);
  // A new engine (worker) remounts every panel: each subscribes to the new worker, and the Model
  // panel loads the remembered pair again.
  const [engine, setEngine] = useState(0);
  // The Suite panel is remounted only by a manual restart: the breaker's WebGPU trial (a fresh
  // worker, started only while no suite or batch runs) keeps its results on screen, and the last
  // result moves into the new worker so its reports still download.
  const [suiteEngine, setSuiteEngine] = useState(0);
  const [breaker, setBreaker] = useState<BreakerStatus | null>(null);
  const [breakerLog, setBreakerLog] = useState<string[]>([]);
  // Snapshots pinned in Probe for the Suite panel's HTML report; they outlive a worker restart.
  const pins = useReportPins();
  const trialing = useRef(false);
  const restart = useCallback(async (trial = false) => {
    setInfo(null);
    let carried = null;
    if (trial) {
      carried = await workbench()
        .lastSuiteResult()
        .catch(() => null);
      markBreakerTrial();
    } else {
      setBreaker(null);
      setBreakerLog([]);
    }
    await restartWorkbench();
    if (carried !== null)
      await workbench()
        .adoptSuiteResult(carried)
        .catch(() => {});
    setEngine((n) => n + 1);
    if (!trial) setSuiteEngine((n) => n + 1);
    trialing.current = false;
  }, []);
  const onBreaker = useCallback(
    (s: BreakerStatus) => {
      setBreaker(s);
      const line = breakerLogLine(s);
      setBreakerLog((log) => (log.at(-1) === line ? log : [...log, line]));
      // The pair moved (to WASM after a failure, or back to WebGPU): the badge and panels follow.
      if (s.info !== null) setInfo(s.info);
      if (s.trial && !trialing.current) {
        trialing.current = true;
        void restart(true);
      }
    },
    [restart],
  );
  return (
    <div className="app">
      <header className="app-header">
        <h1>deltascope</h1>
        <p className="tagline">Did the fine-tune change the model — where, and by how much?</p>
      </header>
      <SettingsNotice />
      <BreakerWatch key={engine} onStatus={onBreaker} />
      <BreakerNotice
        status={breaker}
        log={breakerLog}
        onRestart={(device) => {
          // The fresh worker loads the remembered pair with this device.
          updateSettings('model', { device });
          void restart();
        }}
      />
      <main className="layout">
        <div className="col" key={`model-${engine}`}>
          <ModelPanel info={info} onLoaded={setInfo} onRestart={() => void restart()} />
          <ProbePanel
            ready={info !== null}
            views={info?.views ?? null}
            pins={pins}
            pair={info !== null ? pinPair(info) : null}
          />
        </div>
        <div className="col" key={`charts-${engine}`}>
          <LiveCharts ready={info !== null} />
          <StorageNotice ready={info !== null} />
          <TracesPanel ready={info !== null} />
        </div>
        <SuitePanel key={`suite-${suiteEngine}`} ready={info !== null} pins={pins} />
      </main>
    </div>
  );
}
