/**
 * Lets queued tasks run. ORT's WASM session runs resolve through microtasks only, so a suite of
 * thousands of forward passes would otherwise never give the worker's event loop a turn: no cancel
 * message, no live-feed or storage flush timer would fire until the whole suite had finished.
 */
export function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  if (typeof MessageChannel === 'function') {
    // A message task runs as soon as the queue allows, unlike setTimeout's ≥ 4 ms clamp when nested.
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}
