export { MISS, ForwardCache, cacheKeyString, type CacheKey } from './forwardCache.ts';
export {
  BACKEND_STATS_KEYS,
  BackendStats,
  type BackendStatsDict,
  type BackendStatsInit,
} from './backendStats.ts';
export { BackendInstrumentation, type InstrumentationOptions, type BatchOptions } from './instrumentation.ts';
export {
  ERROR_CODES,
  BackendError,
  CancelledError,
  DeltascopeError,
  StateError,
  errorClass,
  errorCode,
  errorMessage,
  fromErrorValue,
  throwIfCancelled,
  toErrorValue,
  type ErrorCode,
  type ErrorOptions,
  type ErrorValue,
} from './errors.ts';
export { promptHash, pairHash, sha1Hex } from './promptHash.ts';
export {
  TRACE_FIELDS,
  noopTraceSink,
  MemoryTraceSink,
  TeeTraceSink,
  type TraceEvent,
  type TraceSink,
} from './traceEvent.ts';
export {
  encodeTraceJsonl,
  encodeTraceLine,
  parseTraceJsonl,
  describeSkippedLines,
  readTraceJsonl,
  TraceJsonlReader,
  MAX_LISTED_SKIPPED_LINES,
  MAX_TRACE_LINE_CHARS,
  type ParsedTrace,
  type SkippedLines,
  type TraceByteSource,
} from './traceJsonl.ts';
export {
  logSoftmax,
  topKIndices,
  tailLogprobOf,
  tokenDistFromLogits,
  makeRollingLogprob,
  type TokenDist,
  type RollingLogprob,
} from './tokenDist.ts';
export { ProbeError } from './errors.ts';
export { alignedProbs, divergence, js, kl, type AlignedProbs, type DivergenceKind } from './divergence.ts';
export { LiveMetrics, Series, type LatencySummary } from './liveMetrics.ts';
export {
  TraceAnalyzer,
  analyzeTrace,
  type AnalysisOptions,
  type BatchStats,
  type GroupStats,
  type HotPrompt,
  type TraceAnalysis,
} from './traceAnalysis.ts';
export {
  analysisToJson,
  renderAnalysisJson,
  renderAnalysisMarkdown,
  renderAnalysisText,
} from './traceAnalysisRender.ts';
export {
  markdownCell,
  markdownTable,
  oneLine,
  textTable,
  type Align,
  type TextTableOptions,
} from './textTable.ts';
export {
  PerfettoEncoder,
  perfettoTraceChunks,
  type ChromeTraceEvent,
  type PerfettoOptions,
} from './perfettoTrace.ts';
export {
  bootstrapCi,
  clip,
  linearFit,
  mean,
  pvariance,
  quantileSorted,
  scoreFromZ,
  seededRng,
  sigmoid,
  stdev,
  verdictFromZ,
  zScore,
  type NullStatsLike,
} from './statistics.ts';
export { syntheticPrompt } from './syntheticPrompts.ts';
export {
  exactDivergence,
  exactDivergenceOf,
  fullLogprobs,
  topMass,
  truncateDist,
  type ExactDivergence,
} from './exactDivergence.ts';
export { pyFixed } from './pyFormat.ts';
