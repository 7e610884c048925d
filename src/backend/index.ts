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
export { DeviceLostError, ModelLoadError, ScoringInputError } from './errors.ts';
export type { LogitsRunner } from './logitsRunner.ts';
export { InstrumentedView, DEFAULT_TOP_K, gatherLogprobs } from './instrumentedView.ts';
export {
  PairBackend,
  DEFAULT_MAX_BATCH,
  bindInstrumentation,
  type PairBackendOptions,
} from './pairBackend.ts';
export { FakeRunner, FAKE_VOCAB } from './fakeRunner.ts';
export { createFakeBackend, type FakeBackendOptions } from './fakeBackend.ts';
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
  indexPickedFiles,
  pickedModelFiles,
  validateModelFiles,
  onnxFileFor,
  type ModelDtype,
  type ModelFiles,
} from './modelFiles.ts';
export { demoPair, hubPair, pickedPair, urlPair, DEMO_PAIR_PATH, type HubPairSpec } from './modelSources.ts';
export {
  loadTransformersPair,
  type LoadOptions,
  type LoadProgress,
  type ModelRef,
  type PairRef,
} from './transformersBackend.ts';
export {
  isNullCalibrated,
  isScalable,
  nullViewId,
  scaledViewId,
  type NullAdapterOptions,
  type NullCalibratedBackend,
  type ScalableBackend,
} from './capabilities.ts';
