// The error family: codes survive a structured clone (the worker boundary), subclasses keep their
// code and `instanceof`, and anything that is not a DeltascopeError becomes `internal`.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeviceLostError, ModelLoadError, ScoringInputError } from '../../src/backend/index.ts';
import {
  BackendError,
  CancelledError,
  DeltascopeError,
  ERROR_CODES,
  ProbeError,
  StateError,
  errorCode,
  fromErrorValue,
  toErrorValue,
  type ErrorValue,
} from '../../src/core/index.ts';

describe('DeltascopeError values', () => {
  it('round-trip through structuredClone with code, message, input and details intact', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ERROR_CODES),
        fc.string(),
        fc.option(fc.string(), { nil: undefined }),
        fc.option(fc.jsonValue(), { nil: undefined }),
        (code, message, input, details) => {
          const e = new DeltascopeError(code, message, { input, details });
          const back = fromErrorValue(structuredClone(toErrorValue(e)));
          expect(back).toBeInstanceOf(DeltascopeError);
          expect(back.code).toBe(code);
          expect(back.message).toBe(message);
          expect(back.input).toBe(input);
          expect(back.details).toEqual(details);
        },
      ),
    );
  });

  it('maps foreign errors and unknown codes to internal', () => {
    expect(toErrorValue(new TypeError('boom'))).toEqual({ code: 'internal', message: 'boom' });
    expect(toErrorValue('plain string')).toEqual({ code: 'internal', message: 'plain string' });
    expect(fromErrorValue({ code: 'no/such-code', message: 'm' } as unknown as ErrorValue).code).toBe(
      'internal',
    );
    expect(errorCode(new Error('x'))).toBe('internal');
  });

  it('every family has its fixed code and stays an instance of its class', () => {
    const cases: [DeltascopeError, string][] = [
      [new CancelledError('stop'), 'cancelled'],
      [new StateError('no pair'), 'state/not-ready'],
      [new BackendError('bad compute'), 'backend/contract'],
      [new ProbeError('no data'), 'probe/failed'],
      [new DeviceLostError('gone'), 'device/lost'],
      [new ScoringInputError('empty'), 'input/invalid'],
      [
        new ModelLoadError('model-load/missing-file', 'no config', { input: 'config.json' }),
        'model-load/missing-file',
      ],
    ];
    for (const [e, code] of cases) {
      expect(e.code).toBe(code);
      expect(errorCode(e)).toBe(code);
      expect(e).toBeInstanceOf(DeltascopeError);
      expect(e).toBeInstanceOf(Error);
    }
    expect(new CancelledError('x')).not.toBeInstanceOf(StateError);
    expect(new CancelledError('x').name).toBe('CancelledError');
    expect((cases[6]![0] as ModelLoadError).file).toBe('config.json');
  });
});
