// The backend's public surface: open a pair (`openPair` over a `ModelSource`), the types a caller
// holds, the errors it may catch, and the capability checks probes use. Everything else (the loader,
// the virtual fetch, device choice, file validation) is reached through `openPair`. Node-only helpers
// live in `nodeModelFiles.ts`.
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
export { openPair, type OpenOptions } from './openPair.ts';
export {
  describeLocation,
  resolveLocation,
  type AdapterLocation,
  type ModelLocation,
  type ModelSource,
} from './modelSource.ts';
export type { DevicePreference } from './device.ts';
export type { ModelDtype, ModelFiles } from './modelFiles.ts';
export type { LogitsRunner } from './logitsRunner.ts';
export { InstrumentedView } from './instrumentedView.ts';
export { FakeRunner } from './fakeRunner.ts';
export {
  isNullCalibrated,
  isScalable,
  VIEW_NAMES,
  viewByName,
  type NullCalibratedBackend,
  type ScalableBackend,
} from './capabilities.ts';
