import yargs from 'yargs';
import { InputError, RunpodBatchError } from '../errors.js';
import { redact } from '../runpod/redact.js';
import { emulateCommand } from './emulate-command.js';
import { runCommand } from './run-command.js';

const RUN_EXAMPLES: [string, string][] = [
  ['RUNPOD_API_KEY=… $0 run prompts.jsonl --endpoint abc123', 'run every row; results in prompts.runpod/'],
  ['$0 run rows.csv --endpoint abc123 --csv-cast --price-per-second 0.00019', 'CSV input, with a cost estimate'],
  ['$0 run rows.jsonl --base-url http://localhost:8000 --limit 50', "rehearse on runpod-python's local test server"],
];

/** Parses argv, runs the command, and maps every error to an exit code in this one place. */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  try {
    await yargs(argv)
      .scriptName('runpod-batch')
      .usage('$0 <command> [options]')
      .command(
        'run <input>',
        'Run every row of a JSONL or CSV file on a RunPod Serverless endpoint (resumable)',
        (y) =>
          y
            .positional('input', { type: 'string', demandOption: true, describe: 'input file (.jsonl or .csv)' })
            .option('endpoint', { type: 'string', describe: 'endpoint id [env RUNPOD_ENDPOINT_ID]' })
            .option('out', { type: 'string', describe: 'output folder [default: <input without extension>.runpod]' })
            .option('base-url', { type: 'string', describe: 'API base [env RUNPOD_BASE_URL, default https://api.runpod.ai/v2]' })
            .option('concurrency', { type: 'number', default: 100, describe: 'most jobs in flight at once' })
            .option('retries', { type: 'number', default: 2, describe: 'runs again of a FAILED or TIMED_OUT row' })
            .option('id-field', { type: 'string', default: 'id', describe: 'field holding the row id' })
            .option('csv-cast', { type: 'boolean', default: false, describe: 'CSV: infer numbers and booleans' })
            .option('format', { choices: ['jsonl', 'csv'] as const, describe: 'input format when the extension does not tell' })
            .option('price-per-second', { type: 'number', describe: 'USD per billed second, for the cost estimate' })
            .option('limit', { type: 'number', describe: 'only the first N rows' })
            .option('timeout', { type: 'number', default: 30_000, describe: 'per-request timeout, ms' })
            .option('cancel-on-exit', { type: 'boolean', default: false, describe: 'when the run stops early, cancel its jobs in flight on RunPod (they stop billing and run again next time)' })
            .option('progress', { type: 'boolean', default: true, describe: 'progress on stderr (--no-progress to hide)' })
            .example(RUN_EXAMPLES),
        async (a) => {
          code = await runCommand({
            input: a.input,
            endpoint: a.endpoint ?? process.env.RUNPOD_ENDPOINT_ID ?? null,
            baseUrl: a['base-url'],
            out: a.out,
            concurrency: a.concurrency,
            retries: a.retries,
            idField: a['id-field'],
            csvCast: a['csv-cast'],
            format: a.format,
            pricePerSecond: a['price-per-second'] ?? null,
            limit: a.limit,
            timeoutMs: a.timeout,
            progress: a.progress,
            cancelOnExit: a['cancel-on-exit'],
          });
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
            .option('dialect', { choices: ['cloud', 'local'] as const, default: 'cloud' as const, describe: "'local' speaks like runpod-python's --rp_serve_api" })
            .option('workers', { type: 'number', default: 4 })
            .option('exec-ms', { type: 'string', default: '50-150', describe: 'execution time per job: N or MIN-MAX ms' })
            .option('cold-start-ms', { type: 'number', default: 0 })
            .option('time-scale', { type: 'number', default: 1, describe: 'run simulated time this many times faster' })
            .option('retention-ms', { type: 'number', default: 30 * 60_000 })
            .option('fail-rate', { type: 'number', default: 0, describe: 'fraction of jobs FAILED on their first attempt' })
            .option('lost-rate', { type: 'number', default: 0, describe: 'fraction of jobs lost (/status answers 404)' })
            .option('error-rate', { type: 'number', default: 0, describe: 'fraction of answers HTTP 500' })
            .option('run-limit', { type: 'number', describe: '/run requests allowed per 10 s (429 past it, with Retry-After)' })
            .option('seed', { type: 'number', default: 1 })
            .example([['$0 emulate --port 8000 --workers 8 --exec-ms 200-400', 'then: RUNPOD_API_KEY=test-key runpod-batch run rows.jsonl --endpoint test-endpoint --base-url http://127.0.0.1:8000/v2']]),
        async (a) => {
          code = await emulateCommand({
            port: a.port,
            host: a.host,
            apiKey: a['api-key'],
            endpoints: a.endpoint.map(String),
            dialect: a.dialect,
            workers: a.workers,
            execMs: a['exec-ms'],
            coldStartMs: a['cold-start-ms'],
            timeScale: a['time-scale'],
            retentionMs: a['retention-ms'],
            failRate: a['fail-rate'],
            lostRate: a['lost-rate'],
            errorRate: a['error-rate'],
            runLimit: a['run-limit'],
            seed: a.seed,
          });
        },
      )
      .demandCommand(1, 'name a command: run or emulate')
      .strict()
      .help()
      .alias('h', 'help')
      .version()
      .wrap(Math.min(110, process.stdout.columns ?? 110))
      .fail((msg, err, y) => {
        if (err) throw err;
        throw Object.assign(new RunpodBatchError('RPB_USAGE', `${msg}\n\n${y.help() && ''}Run 'runpod-batch --help' for usage.`), {
          usage: true,
        });
      })
      .parseAsync();
    return code;
  } catch (err) {
    return report(err);
  }
}

function report(err: unknown): number {
  const key = process.env.RUNPOD_API_KEY;
  if (err instanceof InputError) {
    process.stderr.write(`runpod-batch: invalid input, nothing was submitted:\n${redact(err.message, key)}\n`);
    return 1;
  }
  if (err instanceof RunpodBatchError) {
    process.stderr.write(`runpod-batch: ${redact(err.message, key)}\n`);
    return 1;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`runpod-batch: unexpected error: ${redact(e.message, key)}\n`);
  if (process.env.RUNPOD_BATCH_DEBUG) process.stderr.write(`${redact(e.stack ?? '', key)}\n`);
  return 1;
}
