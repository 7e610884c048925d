export {
  MISSING,
  pyFixed,
  cacheSummary,
  fixedGrouped,
  fmtCi,
  fmtDuration,
  fmtRaw,
  fmtScore,
  fmtZ,
  scoreBar,
} from './format.ts';
export {
  REPORT_SCHEMA_VERSION,
  ReportFormatError,
  fromJsonReport,
  reportToJsonObject,
  toJsonReport,
} from './json.ts';
export { toMarkdownReport } from './markdown.ts';
export { toHtmlReport, type HtmlReportExtras, type ReportPin } from './html.ts';
export { toSweepHtmlReport } from './htmlSweep.ts';
export { toJunitXml, xmlEscape } from './junit.ts';
export { toTerminalReport } from './terminal.ts';
