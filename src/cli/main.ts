import yargs, { type Argv } from 'yargs';
import { DEFAULTS } from '../core/defaults.js';
import { type ConfigError, RunpodBatchError } from '../core/errors.js';
import { RUNPOD } from '../core/wire.js';
import { cancelCommand, exportCommand, reportCommand, retryCommand, statusCommand } from './batch-commands.js';
import { emulateCommand } from './emulate-command.js';
import { Reporter, type LogFormat } from './reporter.js';
import { runCommand } from './run-command.js';
import { concurrencyArg, quietOnClosedPipe, readConfig, report } from './edges.js';
import { unknownArguments } from './suggest.js';

const EMULATE_HINT = 'RUNPOD_API_KEY=test-key runpod-batch run rows.jsonl --endpoint test-endpoint --base-url http://127.0.0.1:8000/v2';

const COMMANDS = ['run', 'status', 'report', 'export', 'retry', 'cancel', 'emulate'];

/** Options every command takes. */
function common<T>(y: Argv<T>) {
  return y.option('quiet', { type: 'boolean', default: false, describe: 'print only errors and the final message' }).option('log-format', {
    choices: ['text', 'json'] as const,
    default: 'text' as LogFormat,
    describe: 'json: one JSON object per line (progress and logs on stderr, the result on stdout)',
  });
}

function outPositional<T>(y: Argv<T>) {
  return common(y).positional('out', { type: 'string', demandOption: true, describe: "a batch's output folder (holds state.sqlite)" });
}

function reporterOf(a: { quiet: boolean; 'log-format': LogFormat; progress?: boolean }): Reporter {
  return new Reporter({ format: a['log-format'], quiet: a.quiet, progress: a.progress ?? true });
}

/** Parses argv, runs the command, and maps every error to an exit code in this one place. */
export async function main(argv: string[]): Promise<number> {
  quietOnClosedPipe();
  let code = 0;
  let config: { file: string; values: Record<string, unknown> } | null = null;
  let configError: ConfigError | null = null;
  // Known before parsing, so that even a usage error is reported in the asked format.
  const at = argv.indexOf('--log-format');
  const format: LogFormat = argv.includes('--log-format=json') || (at >= 0 && argv[at + 1] === 'json') ? 'json' : 'text';
  try {
    await yargs(argv)
      .scriptName('runpod-batch')
      .usage('$0 <command> [options]\n\nResumable batches on a RunPod Serverless endpoint. The API key is read from RUNPOD_API_KEY.')
      .config('config', 'a JSON file of options (keys as the long flags, e.g. {"endpoint": "abc", "concurrency": 50})', (path: string) => {
        try {
          config = readConfig(path);
        } catch (err) {
          configError = err as ConfigError; // yargs rewraps what a config parser throws: keep ours
          throw err;
        }
        return config.values;
      })
      .command(
        'run <input>',
        'Run every row of a JSONL or CSV file on the endpoint (rerun the same command to resume)',
        (y) =>
          common(y)
            .positional('input', { type: 'string', demandOption: true, describe: 'input file (.jsonl or .csv)' })
            .option('endpoint', { type: 'string', describe: 'endpoint id [env RUNPOD_ENDPOINT_ID]' })
            .option('out', { type: 'string', describe: 'output folder [default: <input file name>.runpod beside the input]' })
            .option('replace-input', {
              type: 'boolean',
              default: false,
              describe: 'the --out folder holds the batch of another input file: make this file its input (rows matched by id)',
            })
            .option('base-url', { type: 'string', describe: `API base [env RUNPOD_BASE_URL, default ${DEFAULTS.baseUrl}]` })
            .option('concurrency', {
              type: 'string',
              coerce: concurrencyArg,
              describe: `jobs in flight: auto (learned from the endpoint's /health) or a cap [default: auto; ${DEFAULTS.localConcurrency} without --endpoint]`,
            })
            .option('max-queue', {
              type: 'number',
              describe: "auto: most jobs left waiting in the endpoint's queue beyond those running [default: max(10, workers)]",
            })
            .option('retries', {
              type: 'number',
              default: DEFAULTS.retries,
              describe: 'runs again of a row after a failed attempt (FAILED, TIMED_OUT, COMPLETED with an empty output or an error in it)',
            })
            .option('accept-empty-output', {
              type: 'boolean',
              default: false,
              describe: 'a COMPLETED job with no output (none, null, "", [], {}) is a success: for handlers that return nothing',
            })
            .option('stream', {
              type: 'boolean',
              default: false,
              describe: "generator handlers: a COMPLETED job's output is its chunks read from /stream/{id}, as a list",
            })
            .option('id-field', { type: 'string', default: DEFAULTS.idField, describe: 'field holding the row id' })
            .option('csv-cast', { type: 'boolean', default: false, describe: 'CSV: infer numbers and booleans' })
            .option('format', { choices: ['jsonl', 'csv', 'openai-batch', 'parquet'] as const, describe: 'if the extension does not tell' })
            .option('gpu', {
              type: 'string',
              describe:
                'GPU class for the cost estimate (16gb 24gb 24gb-pro 48gb 48gb-pro 80gb 80gb-pro 141gb 180gb, or a4000 l4 4090 a6000 l40s a100 h100 h200 b200)',
            })
            .option('price-per-second', { type: 'number', describe: 'USD per billed second (wins over --gpu)' })
            .option('max-cost', {
              type: 'number',
              describe: 'stop admitting rows before spent + in flight would pass this many USD (exit 2; rerun with a higher cap to go on)',
            })
            .option('limit', { type: 'number', describe: 'only the first N rows' })
            .option('dry-run', {
              type: 'boolean',
              default: false,
              describe: 'validate, count rows, estimate time and cost; submit nothing',
            })
            .option('expected-seconds', { type: 'number', describe: 'with --dry-run: seconds one job takes on a worker' })
            .option('sample', { type: 'number', describe: 'with --dry-run: run the first N rows for real and extrapolate' })
            .option('cancel-on-exit', {
              type: 'boolean',
              default: false,
              describe: 'when the run stops early, cancel its jobs in flight on RunPod (they stop billing and run again next time)',
            })
            .option('crash-loop', {
              type: 'number',
              describe: `stop when this many jobs in a row FAILED with the same error; 0 = never [default: ${DEFAULTS.crashLoopJobs}]`,
            })
            .option('max-failure-rate', {
              type: 'number',
              describe: `stop when more than this share of the last ${DEFAULTS.failureWindow} rows failed after retries; 1 = never [default: ${DEFAULTS.maxFailureRate}]`,
            })
            .option('timeout', {
              type: 'number',
              describe: `per-request timeout, ms; 0 = none [default: ${DEFAULTS.timeoutMs}; none without --endpoint]`,
            })
            .option('media', {
              choices: ['files', 'off'] as const,
              default: 'files' as const,
              describe:
                'base64 images/audio/video in outputs: files = decoded into <out>/media/, a reference in the output; off = kept inline',
            })
            .option('progress', { type: 'boolean', default: true, describe: 'progress on stderr (--no-progress to hide)' })
            .example([
              ['RUNPOD_API_KEY=… $0 run prompts.jsonl --endpoint abc123', 'run every row; results in prompts.jsonl.runpod/'],
              ['$0 run rows.csv --endpoint abc123 --csv-cast --gpu 24gb --max-cost 5', 'CSV input, stop before $5 is spent'],
              ['$0 run rows.jsonl --endpoint abc123 --dry-run --sample 20 --gpu a100', 'run 20 rows, then estimate the rest'],
              ['$0 run rows.jsonl --base-url http://localhost:8000 --limit 50', "rehearse on runpod-python's local test server"],
            ]),
        async (a) => {
          code = await runCommand({
            input: a.input,
            endpoint: a.endpoint ?? process.env.RUNPOD_ENDPOINT_ID ?? null,
            baseUrl: a['base-url'],
            out: a.out,
            replaceInput: a['replace-input'],
            concurrency: a.concurrency,
            maxQueue: a['max-queue'],
            retries: a.retries,
            acceptEmptyOutput: a['accept-empty-output'],
            stream: a.stream,
            idField: a['id-field'],
            csvCast: a['csv-cast'],
            format: a.format,
            gpu: a.gpu,
            pricePerSecond: a['price-per-second'] ?? null,
            maxCost: a['max-cost'],
            limit: a.limit,
            timeoutMs: a.timeout,
            cancelOnExit: a['cancel-on-exit'],
            crashLoopJobs: a['crash-loop'],
            maxFailureRate: a['max-failure-rate'],
            media: a.media,
            dryRun: a['dry-run'],
            expectedSeconds: a['expected-seconds'],
            sample: a.sample,
            reporter: reporterOf(a),
          });
        },
      )
      .command(
        'status <out>',
        "A batch's progress from its state (also while another process runs it)",
        (y) => outPositional(y).example([['$0 status prompts.jsonl.runpod', 'rows done, in flight, cost so far, whether it runs now']]),
        (a) => {
          code = statusCommand(a.out, reporterOf(a));
        },
      )
      .command(
        'report <out>',
        'Regenerate results.jsonl, errors.jsonl, stats.json, report.md and report.html from the state',
        (y) => outPositional(y).example([['$0 report prompts.jsonl.runpod', 'then open prompts.jsonl.runpod/report.html']]),
        (a) => {
          code = reportCommand(a.out, reporterOf(a));
        },
      )
      .command(
        'export <out>',
        'Write the results in input order as JSONL, CSV or Parquet, or the completed rows as a Hugging Face dataset folder',
        (y) =>
          outPositional(y)
            .option('format', { choices: ['jsonl', 'csv', 'parquet', 'hf'] as const, default: 'jsonl' as const })
            .option('output', {
              alias: 'o',
              type: 'string',
              describe: 'file to write [default: stdout]; required for parquet (a file) and hf (a new folder)',
            })
            .example([
              ['$0 export prompts.jsonl.runpod --format csv -o results.csv', 'a spreadsheet of inputs and outputs'],
              ['$0 export prompts.jsonl.runpod --format parquet -o results.parquet', 'typed columns for pandas, DuckDB, Polars'],
              ['$0 export prompts.jsonl.runpod --format hf -o my-dataset', 'a folder datasets.load_dataset("my-dataset") reads'],
            ]),
        async (a) => {
          code = await exportCommand(a.out, a.format, a.output, reporterOf(a));
        },
      )
      .command(
        'retry <out>',
        'Queue the rows that did not complete (FAILED, TIMED_OUT, CANCELLED) again and run them',
        (y) =>
          outPositional(y)
            .option('concurrency', {
              type: 'string',
              coerce: concurrencyArg,
              describe: 'jobs in flight: auto or a cap [default: as the batch was run]',
            })
            .option('retries', { type: 'number', describe: 'runs again of a row that fails [default: as the batch was run]' })
            .option('accept-empty-output', {
              type: 'boolean',
              describe: 'a COMPLETED job with no output is a success [default: as the batch was run]',
            })
            .option('stream', {
              type: 'boolean',
              describe: "read generator handlers' chunks from /stream/{id} [default: as the batch was run]",
            })
            .option('progress', { type: 'boolean', default: true })
            .example([['$0 retry prompts.jsonl.runpod', 'after fixing the worker, run the failed rows again']]),
        async (a) => {
          code = await retryCommand(a.out, reporterOf(a), {
            concurrency: a.concurrency,
            retries: a.retries,
            acceptEmptyOutput: a['accept-empty-output'],
            stream: a.stream,
          });
        },
      )
      .command(
        'cancel <out>',
        "Cancel the batch's jobs in flight on RunPod, so they stop billing (their rows run again next time)",
        (y) => outPositional(y).example([['$0 cancel prompts.jsonl.runpod', 'after a kill -9 left jobs running']]),
        async (a) => {
          code = await cancelCommand(a.out, reporterOf(a));
        },
      )
      .command(
        'emulate',
        'Serve a local RunPod Serverless emulator (rehearse a batch for free)',
        (y) =>
          y
            .option('port', { type: 'number', default: 8000 })
            .option('host', { type: 'string', default: '127.0.0.1' })
            .option('api-key', { type: 'string', default: 'test-key', describe: 'Bearer key clients must send' })
            .option('endpoint', { type: 'string', array: true, default: ['test-endpoint'], describe: 'endpoint ids served' })
            .option('dialect', {
              choices: ['cloud', 'local'] as const,
              default: 'cloud' as const,
              describe: "'local' speaks like runpod-python's --rp_serve_api",
            })
            .option('workers', {
              type: 'number',
              default: 4,
              alias: 'max-workers',
              describe: 'workers (the most it scales to, with --min-workers)',
            })
            .option('min-workers', {
              type: 'number',
              describe: "autoscale from this many (RunPod's active workers) up to --workers [default: --workers: a fixed pool]",
            })
            .option('worker-concurrency', {
              type: 'number',
              default: 1,
              describe: 'jobs one worker runs at once (worker-vllm ~30, embedding workers hundreds)',
            })
            .option('scaler', {
              choices: ['queue-delay', 'request-count'] as const,
              default: 'queue-delay' as const,
              describe: "RunPod's scaler, when autoscaling",
            })
            .option('scaler-value', { type: 'number', describe: 'queue delay in ms, or requests per worker [default: 4000 / 4]' })
            .option('idle-timeout-ms', {
              type: 'number',
              default: 5000,
              describe: 'an idle worker goes cold (a fixed pool) or stops (autoscaling) after this',
            })
            .option('exec-ms', { type: 'string', default: '50-150', describe: 'execution time per job: N or MIN-MAX ms' })
            .option('cold-start-ms', { type: 'number', default: 0 })
            .option('time-scale', { type: 'number', default: 1, describe: 'run simulated time this many times faster' })
            .option('retention-ms', { type: 'number', default: RUNPOD.runRetentionMs })
            .option('fail-rate', { type: 'number', default: 0, describe: 'fraction of jobs FAILED on their first attempt' })
            .option('lost-rate', { type: 'number', default: 0, describe: 'fraction of jobs lost (/status answers 404)' })
            .option('error-rate', { type: 'number', default: 0, describe: 'fraction of answers HTTP 500' })
            .option('empty-output-rate', {
              type: 'number',
              default: 0,
              describe: 'fraction of jobs COMPLETED with no output on their first attempt (a refused result POST)',
            })
            .option('error-output-rate', {
              type: 'number',
              default: 0,
              describe: 'fraction of jobs COMPLETED with a worker-vllm error inside the output on their first attempt',
            })
            .option('run-limit', { type: 'number', describe: '/run requests allowed per 10 s (429 past it, with Retry-After)' })
            .option('stream-chunks', {
              type: 'number',
              default: 0,
              describe: 'a generator handler: each job yields this many chunks, served by /stream/{id}',
            })
            .option('aggregate-stream', {
              type: 'boolean',
              default: false,
              describe: "with --stream-chunks: the job's output is the list of chunks (return_aggregate_stream)",
            })
            .option('seed', { type: 'number', default: 1 })
            .option('image-bytes', {
              type: 'number',
              describe: "answer worker-comfyui's output: base64 PNGs of this many bytes, deterministic by --seed and input",
            })
            .option('images', { type: 'number', describe: 'with --image-bytes: PNGs per output [default: 1]' })
            .example([
              ['$0 emulate --port 8000 --workers 8 --exec-ms 200-400', `then: ${EMULATE_HINT}`],
              ['$0 emulate --dialect local --port 8000', 'then: runpod-batch run rows.jsonl --base-url http://127.0.0.1:8000'],
            ]),
        async (a) => {
          code = await emulateCommand({
            port: a.port,
            host: a.host,
            apiKey: a['api-key'],
            endpoints: a.endpoint.map(String),
            dialect: a.dialect,
            workers: a.workers,
            minWorkers: a['min-workers'],
            workerConcurrency: a['worker-concurrency'],
            streamChunks: a['stream-chunks'],
            returnAggregateStream: a['aggregate-stream'],
            scaler: a.scaler,
            scalerValue: a['scaler-value'],
            idleTimeoutMs: a['idle-timeout-ms'],
            execMs: a['exec-ms'],
            coldStartMs: a['cold-start-ms'],
            timeScale: a['time-scale'],
            retentionMs: a['retention-ms'],
            failRate: a['fail-rate'],
            lostRate: a['lost-rate'],
            errorRate: a['error-rate'],
            emptyOutputRate: a['empty-output-rate'],
            errorOutputRate: a['error-output-rate'],
            runLimit: a['run-limit'],
            seed: a.seed,
            imageBytes: a['image-bytes'],
            images: a.images,
          });
        },
      )
      .demandCommand(1, 'name a command: run, status, report, export, retry, cancel or emulate')
      .strict()
      .help()
      .alias('h', 'help')
      .version()
      .wrap(Math.min(120, process.stdout.columns ?? 120))
      .fail((msg, err, y) => {
        if (configError) throw configError;
        if (err) throw err;
        // The third argument is yargs' usage object; its descriptions are keyed by every option of the command.
        const usage = y as unknown as { getDescriptions?: () => Record<string, unknown> };
        const flags = Object.keys(usage.getDescriptions?.() ?? {}).filter((k) => !/[A-Z]/.test(k));
        const given = new Set(argv.filter((a) => a.startsWith('-')).map((a) => a.replace(/^-+/, '').replace(/=.*$/, '')));
        const said =
          unknownArguments(msg, {
            flags,
            commands: COMMANDS,
            given,
            config: config && { file: config.file, keys: new Set(Object.keys(config.values)) },
          }) ?? msg;
        throw new RunpodBatchError('RPB_USAGE', `${said}\nRun 'runpod-batch --help' for usage.`);
      })
      .parseAsync();
    return code;
  } catch (err) {
    return report(err, format);
  }
}
