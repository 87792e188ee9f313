import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const BIN = join(import.meta.dirname, '..', '..', 'bin', 'runpod-batch.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  done: Promise<CliResult>;
  /** What the process printed so far. */
  stdout(): string;
  stderr(): string;
  /** True once the process has ended (by itself or by a signal). */
  exited(): boolean;
}

/** Spawns the real bin (built dist) with a clean environment plus `env`. */
export function startCli(args: string[], env: Record<string, string> = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let ended = false;
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d;
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d;
  });
  child.on('exit', () => {
    ended = true;
  });
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done, stdout: () => stdout, stderr: () => stderr, exited: () => ended };
}

export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return startCli(args, env).done;
}

/** What `runpod-batch status <out> --log-format json` prints. */
export interface StatusJson {
  event: 'status';
  total: number;
  byState: Record<string, number>;
  inFlight: number;
  runningPid: number | null;
  [k: string]: unknown;
}

/** The batch's status as the CLI reads it from state.sqlite; undefined while there is no state to read yet. */
export async function cliStatus(out: string): Promise<StatusJson | undefined> {
  const r = await runCli(['status', out, '--log-format', 'json']);
  if (r.code !== 0) return undefined;
  return JSON.parse(r.stdout.trim()) as StatusJson;
}

/** `run` against the emulator at `baseUrl`, into `out`, with `concurrency` jobs in flight and no progress line. */
export function runArgs(input: string, baseUrl: string, out: string, concurrency: number): string[] {
  return [
    'run',
    input,
    '--endpoint',
    'test-endpoint',
    '--base-url',
    baseUrl,
    '--out',
    out,
    '--concurrency',
    String(concurrency),
    '--no-progress',
  ];
}
