import { useEffect } from 'react';
import { workbench } from './workerClient.ts';

/** Commits the worker's buffered trace events before the page goes away or into the background. */
export function usePageHideFlush(): void {
  useEffect(() => {
    const flush = () =>
      void workbench()
        .flushTraces()
        .catch(() => {});
    const onVisibility = () => {
      if (document.visibilityState === 'hidden') flush();
    };
    window.addEventListener('pagehide', flush);
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      window.removeEventListener('pagehide', flush);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, []);
}
