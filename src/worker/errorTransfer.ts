import * as Comlink from 'comlink';
import { fromErrorValue, toErrorValue, type ErrorValue } from '../core/index.ts';

let installed = false;

/**
 * Makes errors cross the worker boundary as values: Comlink's default handler keeps only `name`,
 * `message` and `stack`, so the page could only match on class names. With this handler (installed
 * on both sides) a thrown `DeltascopeError` arrives as a `DeltascopeError` with the same `code`,
 * `input` and `details`; anything else arrives with code `internal`.
 */
export function installErrorTransfer(): void {
  if (installed) return;
  installed = true;
  const original = Comlink.transferHandlers.get('throw');
  if (original === undefined) return;
  const handler: Comlink.TransferHandler<{ value: unknown }, { value: ErrorValue }> = {
    canHandle: (value): value is { value: unknown } => original.canHandle(value),
    serialize: (thrown) => [{ value: toErrorValue(thrown.value) }, []],
    deserialize: (serialized) => {
      throw fromErrorValue(serialized.value);
    },
  };
  Comlink.transferHandlers.set('throw', handler as Comlink.TransferHandler<unknown, unknown>);
}
