import type { SuiteResult } from '../types.ts';
import { fmtDuration } from './format.ts';
import { esc, keyed, table } from './htmlSvg.ts';

/** The run's facts from the report itself, then its provenance (or "not recorded" for each). */
export function provenanceBodyHtml(r: SuiteResult): string {
  const NR = 'not recorded';
  const text = (key: string, v: string | null | undefined) =>
    `<td data-key="${esc(key)}">${v ? esc(v) : `<span class="empty">${NR}</span>`}</td>`;
  const run: string[][] = [
    ['<td>producer</td>', text('sway_version', r.swayVersion)],
    ['<td>spec</td>', text('spec_path', r.specPath)],
    ['<td>base model</td>', text('base_model_id', r.baseModelId)],
    ['<td>adapter / fine-tune</td>', text('adapter_id', r.adapterId)],
    ['<td>started</td>', text('started_at', r.startedAt)],
    ['<td>finished</td>', text('finished_at', r.finishedAt)],
    ['<td>wall</td>', keyed('wall_seconds', r.wallSeconds, fmtDuration(r.wallSeconds))],
    ['<td>determinism</td>', text('determinism.class', r.determinism.class)],
    ['<td>seed</td>', keyed('determinism.seed', r.determinism.seed, String(r.determinism.seed))],
  ];
  const runTable = table(['run', ''], run, { cls: 'kv', caption: 'From the report' });
  const p = r.provenance;
  if (p === undefined) {
    return (
      runTable +
      `<p class="empty" data-testid="provenance-missing">Provenance ${NR}: this report carries no model revisions, file hashes, dtype or device (it was made before they were recorded, or by a tool that does not record them).</p>`
    );
  }
  /** A hash or commit cell (monospace, wraps anywhere). */
  const hash = (key: string, v: string | null | undefined) => text(key, v).replace('<td', '<td class="hash"');
  const rows: string[][] = [
    ['<td>deltascope version</td>', text('provenance.deltascope_version', p.deltascope_version)],
    ['<td>created</td>', text('provenance.created_at', p.created_at)],
    ['<td>base model</td>', text('provenance.base.id', p.base.id)],
    ['<td>base revision</td>', text('provenance.base.revision', p.base.revision)],
    ['<td>base commit</td>', hash('provenance.base.commit', p.base.commit)],
    ['<td>fine-tuned model</td>', text('provenance.ft.id', p.ft?.id)],
    ['<td>fine-tuned revision</td>', text('provenance.ft.revision', p.ft?.revision)],
    ['<td>fine-tuned commit</td>', hash('provenance.ft.commit', p.ft?.commit)],
    ['<td>adapter</td>', text('provenance.adapter.id', p.adapter?.id)],
    ['<td>adapter revision</td>', text('provenance.adapter.revision', p.adapter?.revision)],
    ['<td>adapter commit</td>', hash('provenance.adapter.commit', p.adapter?.commit)],
    ['<td>adapter name</td>', text('provenance.adapter.name', p.adapter?.name)],
    ['<td>dtype</td>', text('provenance.dtype', p.dtype)],
    ['<td>device</td>', text('provenance.device', p.device)],
    ['<td>spec</td>', text('provenance.spec_path', p.spec_path)],
    ['<td>spec SHA-256</td>', hash('provenance.spec_sha256', p.spec_sha256)],
    ['<td>seed</td>', keyed('provenance.seed', p.seed, String(p.seed))],
  ];
  const files =
    p.files.length === 0
      ? `<p class="empty">File hashes ${NR}.</p>`
      : table(
          ['role', 'file', 'bytes', 'SHA-256'],
          p.files.map((f, i) => [
            `<td>${esc(f.role)}</td>`,
            `<td><code>${esc(f.path)}</code></td>`,
            keyed(`provenance.files.${i}.bytes`, f.bytes, String(f.bytes)),
            `<td class="hash" data-key="provenance.files.${i}.sha256">${esc(f.sha256)}</td>`,
          ]),
          {
            caption: 'Model files read, with the SHA-256 of the exact bytes',
            numeric: [false, false, true, false],
          },
        );
  return runTable + table(['provenance', ''], rows, { cls: 'kv' }) + files;
}
