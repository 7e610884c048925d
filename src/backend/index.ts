// Browser-safe exports. Node-only helpers live in `nodeModelFiles.ts` and are imported directly.
export type {
  BackendInfo,
  DeviceKind,
  DifferentialBackend,
  GenerateOptions,
  NextTokenOptions,
  ScoringView,
  ViewId,
} from './types.ts';
export { DeviceLostError, ModelLoadError, ScoringInputError, type ModelLoadCode } from './errors.ts';
export type { LogitsRunner } from './logitsRunner.ts';
export { InstrumentedView, DEFAULT_TOP_K, gatherLogprobs } from './instrumentedView.ts';
export {
  PairBackend,
  DEFAULT_MAX_BATCH,
  bindInstrumentation,
  type PairBackendOptions,
} from './pairBackend.ts';
export { FakeRunner, FAKE_VOCAB } from './fakeRunner.ts';
export {
  chooseDevice,
  requestGpuAdapter,
  describeAdapter,
  type DeviceChoice,
  type DevicePreference,
} from './device.ts';
export {
  SUPPORTED_DTYPES,
  checkDtype,
  checkSameTokenizer,
  httpModelFiles,
  pickedModelFiles,
  validateModelFiles,
  onnxFileFor,
  type ModelDtype,
  type ModelFiles,
} from './modelFiles.ts';
export { openPair, type OpenOptions } from './openPair.ts';
export {
  DEFAULT_HUB_HOST,
  DEMO_PAIR_PATH,
  describeLocation,
  resolvePair,
  type AdapterLocation,
  type DemoRoot,
  type ModelLocation,
  type ModelRef,
  type ModelSource,
  type PairRef,
} from './modelSource.ts';
export type { LoadOptions, LoadProgress } from './transformersPair.ts';
export {
  isNullCalibrated,
  isScalable,
  nullViewId,
  scaledViewId,
  type NullAdapterOptions,
  type NullCalibratedBackend,
  type ScalableBackend,
} from './capabilities.ts';
