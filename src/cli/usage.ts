export const TOP_USAGE = `deltascope — does a fine-tune change a causal LM, where, and by how much?

Usage:
  deltascope run <spec.yaml> [--device D] [--json FILE] [--markdown FILE] [--junit FILE] [--html FILE] [--trace FILE] [--weights W] [--quiet]
  deltascope gate <spec.yaml> [--threshold X] [--device D] [--json FILE] [--markdown FILE] [--junit FILE] [--html FILE] [--trace FILE] [--weights W] [--quiet]
  deltascope trace <trace.jsonl> [--format text|md|json] [--slowest N]
  deltascope probe (--spec FILE | --base B (--ft F | --adapter A)) --prompt TEXT [--prompt TEXT …] [--view V …] [--top-k K] [--device D] [--json]
  deltascope compare <a.json> <b.json> [c.json …] [--fail-on-regression] [--threshold X] [--only-changed] [--markdown FILE] [--html FILE] [--json FILE]
  deltascope sweep <sweep.yaml> [--shard i/n | --shard-count N] [--device D] [--json FILE] [--markdown FILE] [--html FILE] [--quiet]
  deltascope merge <shard.json …> [--json FILE] [--markdown FILE] [--html FILE]
  deltascope <command> --help
  deltascope --version

Commands:
  run     run a suite (sway.yaml format) and print the report
  gate    run a suite and exit 1 on any FAIL or a score below the threshold
  trace   analyse a trace JSONL file (per probe, view, op; slowest events; hot prompts)
  probe   the Compare panel on the command line: top-k per view and exact full-vocabulary divergences
  sweep   run a suite on many adapters over one base (checkpoints), one shard of them per machine
  merge   join sweep shard reports into one sweep report
  compare a probe × run matrix of saved JSON reports against the first; exit 1 on a regression if asked

Exit codes: 0 ok, 1 gate failed or compare found a regression, 2 bad usage / unreadable input /
invalid spec, 3 model load error, 4 unexpected error (a bug: please report it), 130 cancelled.
`;

/** --device, shared by run, gate and probe. */
const DEVICE = `  --device D        cpu (default: onnxruntime-node), webgpu (onnxruntime-web on a WebGPU adapter
                    from Dawn; exit 3 with the reason when there is none) or auto (webgpu on a
                    real GPU, else cpu). Linux needs the Vulkan loader (libvulkan1) and a driver:
                    the one VK_DRIVER_FILES / VK_ICD_FILENAMES names, else those installed, else
                    Chromium's SwiftShader (CPU-emulated, slow: for tests)`;

const OUTPUTS = `${DEVICE}
  --json FILE       write the JSON report (sway's schema_version 1)
  --markdown FILE   write the markdown report
  --junit FILE      write JUnit XML (one testcase per probe)
  --html FILE       write the report as one self-contained HTML file (inline SVG charts, no
                    network requests; to share or print)
  --trace FILE      write every cache lookup as sway trace JSONL
  --weights W       category weights over the spec's, e.g. "attribution=0.5,adherence=0.2"
  --quiet           no progress on stderr
  -h, --help        this help`;

export const RUN_USAGE = `Usage: deltascope run <spec.yaml> [options]

Validates the spec (every problem at once, with line:column), loads the base and fine-tuned models
on --device (CPU by default), runs every probe in order and prints the report. Model paths in the
spec are relative to the spec file's folder; a base that is not a folder is a hub id
(host: $DELTASCOPE_HUB_HOST, default https://huggingface.co).

Options:
${OUTPUTS}
`;

export const GATE_USAGE = `Usage: deltascope gate <spec.yaml> [options]

Runs the suite like \`run\`, then exits 1 if any probe FAILed or the overall score is below the
threshold (or no probe produced a score), saying why; 0 otherwise.

Options:
  --threshold X     minimum overall score, 0..1 (default: the spec's defaults.coverage_threshold, 0.6)
${OUTPUTS}
`;

export const TRACE_USAGE = `Usage: deltascope trace <trace.jsonl> [options]

Analyses a trace written by \`deltascope run --trace\`, the workbench's export or sway: events, hit
rates per probe / view / op, the slowest events, hot prompts and batches. Malformed lines are
skipped and counted (on stderr).

Options:
  --format F        text (default), md or json
  --slowest N       how many slowest events to list (default 10)
  -h, --help        this help
`;

export const PROBE_USAGE = `Usage: deltascope probe (--spec FILE | --base B (--ft F | --adapter A)) --prompt TEXT [options]

Opens the pair (a spec's models, or two folders / hub ids) on --device and prints, for each prompt,
its token ids as fed to the model (special tokens included), each view's top-k next tokens (id, text,
logprob) and the exact divergences over the full vocabulary against base, in nats: for ft JS,
KL(ft‖base), KL(base‖ft); for any other view JS and KL(view‖base); and each view's entropy.

Options:
  --spec FILE       a suite spec whose models name the pair
  --base B, --ft F  the two models: folders (relative to the current folder) or hub ids
  --adapter A       instead of --ft: ft is B plus the PEFT LoRA adapter A (a folder with
                    adapter_config.json and adapter_model.safetensors, or a hub id), run on one model
  --prompt TEXT     a prompt to probe (repeat for several)
  --view V          a view to show (repeat for several, in order; default: base and ft): base, ft,
                    scaled_<λ> (the adapter's delta times λ; scaled_0.5 is the view scaled_0.50)
                    or null_<seed> (a seeded random adapter of the adapter's shape). The last two
                    need --adapter, or a spec whose ft has an adapter
  --top-k K         rows per view (default 10); the divergences never depend on it
${DEVICE}
  --json            one JSON object: {prompts: [{prompt, token_ids, views: {<view id>: {token_ids,
                    tokens, logprobs, entropy}}, js, kl_ft_base, kl_base_ft}]}; js, kl_ft_base and
                    kl_base_ft (ft against base) only when base and ft are both listed; the entry of
                    a view other than base and ft adds its own js and kl_view_base (KL(view‖base))
  -h, --help        this help
`;

export const COMPARE_USAGE = `Usage: deltascope compare <a.json> <b.json> [c.json …] [options]

Reads JSON reports (\`deltascope run --json\`, \`sway run --json\`; a sweep report counts as one run
per entry) and prints a probe × run matrix: each run's verdict, score and raw, and each later run's
score delta against the first report, the baseline. A file that is not a report (no \`probes\`
array of named probes, or no numeric \`score.overall\`) is refused, exit 2.

A probe of a later run regressed when: its verdict got worse (pass → warn → fail/error); its score
dropped by ≥ the threshold (sway's 0.10); it is missing from the run; the baseline ran it and the
run skipped it; the baseline had a score and the run (not skipped) has none; or it fails or errors
where the baseline has no result for it (absent or skipped). It changed when it regressed, its
verdict differs, its score moved by ≥ 0.005, its raw moved by > 1e-9·max(1, |a|, |b|), or it (or
its score, or its raw) is in one run only; a raw change alone is not a regression.

Options:
  --fail-on-regression  exit 1 when any probe of any later run regressed against the baseline
  --threshold X     the score drop that counts as a regression, in (0, 1] (default 0.10)
  --only-changed    list only the probes that changed
  --markdown FILE   write the matrix as markdown ("-": print it instead of the table)
  --html FILE       write it as one self-contained HTML page ("-": print it)
  --json FILE       write it as JSON ("-": print it); an output may not be an input, and markdown
                    or HTML may not go to a .json path (exit 2, nothing written)
  -h, --help        this help
`;

export const SWEEP_USAGE = `Usage: deltascope sweep <sweep.yaml> [options]

Runs a sweep spec's suite on each of its adapters (a list of folders, hub repos and globs such as
runs/checkpoint-*, in natural order) over one base, loaded once: each adapter is swapped onto it
(new LoRA weights, no new session; another rank or target set reloads the base, with a note). Each
adapter's suite starts from an empty cache, so its report is what \`run\` gives for it alone.

Sharding: shard i of n runs the adapters whose 0-based index ≡ i − 1 (mod n) (round robin), so
n machines each run \`--shard i/n\` and \`deltascope merge\` joins their reports. Which shard:
  1. --shard i/n, when given;
  2. else, in a Kubernetes Indexed Job, $JOB_COMPLETION_INDEX + 1 of --shard-count N
     (or $DELTASCOPE_SHARD_COUNT): set it to the Job's completions;
  3. else 1/1 (every adapter).

An adapter that cannot be loaded or run (a checkpoint still being written, say) is recorded in the
shard's report (runs[].failed: index, label, error) and skipped; the reports are always written
(to a temporary name, then renamed). Exit 3 when an adapter failed to load (4 for another error),
130 when cancelled.

Options:
  --shard i/n       run shard i of n (1-based)
  --shard-count N   the number of shards, with $JOB_COMPLETION_INDEX
${DEVICE}
  --json FILE       write this shard's sweep report (every adapter's full suite report)
  --markdown FILE   write the score per adapter and per probe as markdown
  --html FILE       write a self-contained HTML report (score per adapter as a line, no requests)
  --quiet           no progress on stderr
  -h, --help        this help
`;

export const MERGE_USAGE = `Usage: deltascope merge <shard.json …> [options]

Joins sweep reports of one sweep spec (\`deltascope sweep --json\`, one per shard) into one, ordered
as the spec lists the adapters, and prints the score per adapter. Refuses reports of another sweep
spec, of another deltascope version or run on base files with another SHA-256, an adapter found in
two reports, and adapters no report holds (each named; one that failed is named with its shard and
error). A quoted pattern ('out/shard-*.json') is expanded here.

Options:
  --json FILE       write the merged sweep report
  --markdown FILE   write it as markdown
  --html FILE       write it as one self-contained HTML file (score per adapter as a line)
  -h, --help        this help
`;

export const USAGES: Record<string, string> = {
  run: RUN_USAGE,
  gate: GATE_USAGE,
  trace: TRACE_USAGE,
  probe: PROBE_USAGE,
  sweep: SWEEP_USAGE,
  merge: MERGE_USAGE,
  compare: COMPARE_USAGE,
};

/** The usage of a command (`run`, `gate`, `trace`, `probe`), or the top-level usage for anything else. */
export function usageFor(command: string | undefined): string {
  return command !== undefined && Object.hasOwn(USAGES, command) ? USAGES[command]! : TOP_USAGE;
}
