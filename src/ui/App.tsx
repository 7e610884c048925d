import { useState } from 'react';
import type { BackendInfo } from '../backend/index.ts';
import { ModelPanel } from './ModelPanel.tsx';
import { ProbePanel } from './ProbePanel.tsx';
import { LiveCharts } from './LiveCharts.tsx';
import { TracesPanel } from './TracesPanel.tsx';
import { SuitePanel } from './SuitePanel.tsx';

export function App() {
  const [info, setInfo] = useState<BackendInfo | null>(null);
  return (
    <div className="app">
      <header className="app-header">
        <h1>deltascope</h1>
        <p className="tagline">Did the fine-tune change the model — where, and by how much?</p>
      </header>
      <main className="layout">
        <div className="col">
          <ModelPanel info={info} onLoaded={setInfo} />
          <ProbePanel ready={info !== null} />
        </div>
        <div className="col">
          <LiveCharts ready={info !== null} />
          <TracesPanel ready={info !== null} />
        </div>
        <SuitePanel ready={info !== null} />
      </main>
    </div>
  );
}
