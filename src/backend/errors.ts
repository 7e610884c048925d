/**
 * A model could not be opened. The message names the model and the file or setting at fault, and
 * says what would work instead.
 */
export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';
  constructor(
    message: string,
    /** The file that was missing or malformed, when one was. */
    readonly file?: string,
  ) {
    super(message);
  }
}

/**
 * The GPU device the sessions ran on is gone (driver reset, GPU process crash, `destroy()`): nothing
 * can run on this pair any more. The worker has to be restarted to get a new device.
 */
export class DeviceLostError extends Error {
  override readonly name = 'DeviceLostError';
}

/** Bad input to a scoring op (e.g. a completion that adds no tokens). */
export class ScoringInputError extends Error {
  override readonly name = 'ScoringInputError';
}
