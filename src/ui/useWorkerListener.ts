import { useEffect, useRef } from 'react';
import type { FeedUpdate } from '../worker/workbenchApi.ts';
import { Comlink, workbench } from './workerClient.ts';

type Open<T> = (listener: (value: T) => void) => Promise<unknown>;

/**
 * Registers `onValue` with the worker for as long as the component is mounted. On unmount it stops
 * at once (a value already in flight is dropped) and calls the unsubscribe the worker returned.
 * `open` must be stable (a module-level function).
 */
export function useWorkerListener<T>(open: Open<T>, onValue: (value: T) => void): void {
  const latest = useRef(onValue);
  useEffect(() => {
    latest.current = onValue;
  });
  useEffect(() => {
    let live = true;
    const opened = open(
      Comlink.proxy((value: T) => {
        if (live) latest.current(value);
      }),
    );
    return () => {
      live = false;
      void opened
        .then((unsubscribe) =>
          typeof unsubscribe === 'function' ? (unsubscribe as () => unknown)() : undefined,
        )
        .catch(() => {});
    };
  }, [open]);
}

const openFeed: Open<FeedUpdate> = (listener) => workbench().subscribe(listener);
const openDeviceWatch: Open<string> = (listener) => workbench().watchDevice(listener);

/** Stats and trace events from the worker, in batches (at most ~10 a second). */
export function useFeed(onUpdate: (u: FeedUpdate) => void): void {
  useWorkerListener(openFeed, onUpdate);
}

/** The message once the WebGPU device is lost (at once if it already was). */
export function useDeviceLoss(onLost: (message: string) => void): void {
  useWorkerListener(openDeviceWatch, onLost);
}
