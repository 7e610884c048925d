import { DeltascopeError, errorClass, type ErrorCode, type ErrorOptions } from '../core/errors.ts';

export type ModelLoadCode = Extract<ErrorCode, `model-load/${string}`>;

/**
 * A model could not be opened. The message names the model and the file or setting at fault, and
 * says what would work instead; `input` is the file (or spec field) at fault, when there is one.
 */
export class ModelLoadError extends DeltascopeError {
  override name = 'ModelLoadError';
  constructor(code: ModelLoadCode, message: string, opts?: ErrorOptions) {
    super(code, message, opts);
  }
  /** The file that was missing or malformed, when one was. */
  get file(): string | undefined {
    return this.input;
  }
}

/**
 * The GPU device the sessions ran on is gone (driver reset, GPU process crash, `destroy()`): nothing
 * can run on this pair any more. The worker has to be restarted to get a new device.
 */
export const DeviceLostError = errorClass('DeviceLostError', 'device/lost');
export type DeviceLostError = InstanceType<typeof DeviceLostError>;

/** Bad input to a scoring op (e.g. a completion that adds no tokens). */
export const ScoringInputError = errorClass('ScoringInputError', 'input/invalid');
export type ScoringInputError = InstanceType<typeof ScoringInputError>;
