// First: configures zod before any module builds a schema (see zodConfig.ts).
import '../core/zodConfig.ts';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { startHeapSampling } from './heapSampler.ts';
import { workbench } from './workerClient.ts';
import './app.css';

const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// The worker's JS heap for the run metrics: measured from the page, whichever worker runs now.
startHeapSampling({ push: (bytes, source) => workbench().noteHeap(bytes, source) });
