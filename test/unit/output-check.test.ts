import { describe, expect, it } from 'vitest';
import { checkOutput, EMPTY_OUTPUT, emptyMessage, jobFate, OUTPUT_ERROR } from '../../src/engine/output-check.js';

/** A COMPLETED /status answer with this output (`absent`: no output key at all). */
const done = (output: unknown | 'absent') =>
  output === 'absent' ? { id: 'j', status: 'COMPLETED' } : { id: 'j', status: 'COMPLETED', output };

describe('checkOutput: empty outputs', () => {
  it.each<[string, unknown, string]>([
    ['no output key', 'absent', 'no output'],
    ['null', null, 'null'],
    ['an empty string', '', '""'],
    ['an empty list', [], '[]'],
    ['an empty object', {}, '{}'],
    ['a list of one null (an aggregated generator that yielded None)', [null], '[null]'],
    ['a list of one empty object', [{}], '[{}]'],
    ['a list of one empty list', [[]], '[[]]'],
  ])('%s is empty', (_name, output, shape) => {
    expect(checkOutput(done(output))).toEqual({ kind: 'empty', code: 'RPB_EMPTY_OUTPUT', shape });
    // …and a success with --accept-empty-output
    expect(checkOutput(done(output), { acceptEmptyOutput: true })).toBeNull();
  });

  it.each<[string, unknown]>([
    ['0', 0],
    ['false', false],
    ['a string', 'a lighthouse at dusk'],
    ['a blank but non-empty string', ' '],
    ['a list of two empty objects (two results, both there)', [{}, {}]],
    ['a list of one value', [0]],
    ['an object with a null field', { text: null }],
    ['worker-comfyui images', { images: [{ filename: 'ComfyUI_00001_.png', type: 'base64', data: 'iVBOR' }] }],
  ])('%s is not empty', (_name, output) => {
    expect(checkOutput(done(output))).toBeNull();
  });

  it('only a COMPLETED job is checked: FAILED, TIMED_OUT and CANCELLED carry no output by nature', () => {
    for (const status of ['FAILED', 'TIMED_OUT', 'CANCELLED']) expect(checkOutput({ status })).toBeNull();
  });
});

describe('checkOutput: errors inside a COMPLETED output', () => {
  it.each<[string, unknown, { error: string; message: string; httpStatus: number | null; retryable: boolean }]>([
    [
      "worker-vllm's yielded error",
      [{ error: { message: 'prompt is too long', type: 'worker_error' } }],
      { error: '{"message":"prompt is too long","type":"worker_error"}', message: 'prompt is too long', httpStatus: null, retryable: true },
    ],
    [
      'infinity embeddings: "object": "error" with a 400',
      { object: 'error', message: 'input too long', code: 400 },
      { error: '{"object":"error","message":"input too long","code":400}', message: 'input too long', httpStatus: 400, retryable: false },
    ],
    [
      'a handler returning {"error": "…"}',
      { error: 'CUDA out of memory' },
      { error: 'CUDA out of memory', message: 'CUDA out of memory', httpStatus: null, retryable: true },
    ],
    [
      'the error beside data (runpod-python fails such a job too)',
      { images: [], error: 'NSFW filter' },
      { error: 'NSFW filter', message: 'NSFW filter', httpStatus: null, retryable: true },
    ],
    [
      "RunPod's error fields nested under error",
      { error: { error_type: 'ValueError', error_message: 'bad seed' } },
      { error: '{"error_type":"ValueError","error_message":"bad seed"}', message: 'bad seed', httpStatus: null, retryable: true },
    ],
    [
      'an OpenAI-style error with a string status code',
      [{ error: { message: 'model not found', type: 'invalid_request_error', code: '404' } }],
      {
        error: '{"message":"model not found","type":"invalid_request_error","code":"404"}',
        message: 'model not found',
        httpStatus: 404,
        retryable: false,
      },
    ],
    [
      'a 429 from the worker is transient',
      { error: { message: 'rate limited upstream', status_code: 429 } },
      {
        error: '{"message":"rate limited upstream","status_code":429}',
        message: 'rate limited upstream',
        httpStatus: 429,
        retryable: true,
      },
    ],
    [
      'a 503 from the worker is transient',
      { object: 'error', message: 'engine dead', code: 503 },
      { error: '{"object":"error","message":"engine dead","code":503}', message: 'engine dead', httpStatus: 503, retryable: true },
    ],
    [
      'an error object without a message is kept whole',
      { error: { reason: 'x' } },
      { error: '{"reason":"x"}', message: '{"reason":"x"}', httpStatus: null, retryable: true },
    ],
    ['error: true', { error: true }, { error: 'true', message: 'true', httpStatus: null, retryable: true }],
  ])('%s', (_name, output, want) => {
    expect(checkOutput(done(output))).toEqual({ kind: 'error', code: 'RPB_OUTPUT_ERROR', ...want });
    // --accept-empty-output does not turn this check off
    expect(checkOutput(done(output), { acceptEmptyOutput: true })?.kind).toBe('error');
  });

  it.each<[string, unknown]>([
    ['error: null', { result: 1, error: null }],
    ['error: false', { result: 1, error: false }],
    ['error: ""', { result: 1, error: '' }],
    ['error: {} (unset, as Python judges it)', { result: 1, error: {} }],
    ['error: 0', { result: 1, error: 0 }],
    ['a field named error inside the data', { data: [{ embedding: [0.1], error: 'clipped' }] }],
    ['an error one level down', { result: { error: 'partial' } }],
    ['a list of several results, one with an error', [{ error: 'one failed' }, { text: 'ok' }]],
    ['errors (plural)', { errors: ['warning'] }],
    ['"object": "list"', { object: 'list', data: [{ embedding: [0.1], index: 0 }] }],
    ['a JSON string that holds an error (not parsed)', '{"error": "x"}'],
  ])('%s is not an error', (_name, output) => {
    expect(checkOutput(done(output))).toBeNull();
  });
});

describe('jobFate: what a terminal job means for its row', () => {
  it('a COMPLETED job with an output is a success', () => {
    expect(jobFate(done({ text: 'hi' }))).toEqual({
      status: 'COMPLETED',
      jobStatus: 'COMPLETED',
      error: null,
      code: null,
      retryable: false,
    });
  });

  it("RunPod's FAILED and TIMED_OUT are retryable with RunPod's error; CANCELLED is not", () => {
    expect(jobFate({ status: 'FAILED', error: { error_type: 'E', error_message: 'm' } })).toEqual({
      status: 'FAILED',
      jobStatus: 'FAILED',
      error: '{"error_type":"E","error_message":"m"}',
      code: null,
      retryable: true,
    });
    expect(jobFate({ status: 'TIMED_OUT' })).toMatchObject({ status: 'TIMED_OUT', error: null, retryable: true });
    expect(jobFate({ status: 'CANCELLED' })).toMatchObject({ status: 'CANCELLED', retryable: false });
  });

  it('an empty output is a failed, retryable attempt whose message points at --stream, return_aggregate_stream and --accept-empty-output', () => {
    const f = jobFate(done([]));
    expect(f).toEqual({ status: 'FAILED', jobStatus: EMPTY_OUTPUT, error: emptyMessage('[]'), code: 'RPB_EMPTY_OUTPUT', retryable: true });
    expect(f.error).toMatch(/COMPLETED with output \[\]/);
    expect(f.error).toMatch(/return_aggregate_stream/);
    expect(f.error).toMatch(/--stream/);
    expect(f.error).toMatch(/--accept-empty-output/);
    expect(jobFate(done('absent')).error).toMatch(/COMPLETED with no output\./);
    expect(jobFate(done(null), { acceptEmptyOutput: true })).toMatchObject({ status: 'COMPLETED', code: null });
  });

  it('an error inside the output fails the job with the error extracted; a 4xx-like one is final', () => {
    expect(jobFate(done([{ error: { message: 'boom', type: 'worker_error' } }]))).toEqual({
      status: 'FAILED',
      jobStatus: OUTPUT_ERROR,
      error: '{"message":"boom","type":"worker_error"}',
      code: 'RPB_OUTPUT_ERROR',
      retryable: true,
    });
    expect(jobFate(done({ object: 'error', message: 'bad input', code: 422 }))).toMatchObject({ status: 'FAILED', retryable: false });
  });
});
