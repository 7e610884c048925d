import { useCallback, useState } from 'react';
import type { PairInfo } from '../worker/workbenchApi.ts';
import { ModelPanel } from './ModelPanel.tsx';
import { ProbePanel } from './ProbePanel.tsx';
import { LiveCharts } from './LiveCharts.tsx';
import { TracesPanel } from './TracesPanel.tsx';
import { SuitePanel } from './SuitePanel.tsx';
import { restartWorkbench } from './workerClient.ts';
import { SettingsNotice } from './SettingsNotice.tsx';
import { StorageNotice } from './StorageNotice.tsx';

export function App() {
  const [info, setInfo] = useState<PairInfo | null>(null);
  // A new engine (worker) remounts every panel: each subscribes to the new worker, and the Model
  // panel loads the remembered pair again.
  const [engine, setEngine] = useState(0);
  const restart = useCallback(async () => {
    setInfo(null);
    await restartWorkbench();
    setEngine((n) => n + 1);
  }, []);
  return (
    <div className="app">
      <header className="app-header">
        <h1>deltascope</h1>
        <p className="tagline">Did the fine-tune change the model — where, and by how much?</p>
      </header>
      <SettingsNotice />
      <main className="layout" key={engine}>
        <div className="col">
          <ModelPanel info={info} onLoaded={setInfo} onRestart={() => void restart()} />
          <ProbePanel ready={info !== null} views={info?.views ?? null} />
        </div>
        <div className="col">
          <LiveCharts ready={info !== null} />
          <StorageNotice ready={info !== null} />
          <TracesPanel ready={info !== null} />
        </div>
        <SuitePanel ready={info !== null} />
      </main>
    </div>
  );
}
