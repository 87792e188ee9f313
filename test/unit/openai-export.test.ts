import { describe, expect, it } from 'vitest';
import type { StoredRow } from '../../src/core/records.js';
import { openaiBody, openaiLine, openaiRecord } from '../../src/output/openai.js';
import { storedRow } from '../support/stored-row.js';

/** A stored row of an OpenAI passthrough input, COMPLETED unless `over` says otherwise. */
function row(over: Partial<StoredRow> & { id?: string | number } = {}): StoredRow {
  const { id = 'req-1', ...rest } = over;
  return storedRow({
    key: String(id),
    idJson: JSON.stringify(id),
    seq: 0,
    line: 1,
    body: JSON.stringify({ input: { openai_route: '/v1/chat/completions', openai_input: { model: 'm', messages: [] } } }),
    inputOnly: 1,
    jobId: 'job-1',
    e2eMs: 30,
    output: null,
    ...rest,
  });
}

const completion = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1700000000,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
};

function chunk(delta: Record<string, unknown>, finish: string | null = null, usage: unknown = undefined, index = 0) {
  return {
    id: 'chatcmpl-2',
    object: 'chat.completion.chunk',
    created: 1700000001,
    model: 'm',
    choices: [{ index, delta, logprobs: null, finish_reason: finish }],
    ...(usage === undefined ? {} : { usage }),
  };
}

const streamed = [
  chunk({ role: 'assistant', content: '' }),
  chunk({ content: 'Hel' }),
  chunk({ content: 'lo' }),
  chunk({}, 'stop'),
  { ...chunk({}), choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } },
];
const assembled = {
  id: 'chatcmpl-2',
  object: 'chat.completion',
  created: 1700000001,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
};

describe('openaiRecord: one line of the OpenAI Batch output file per row', () => {
  const cases: { name: string; row: StoredRow; response: unknown; error: unknown }[] = [
    {
      name: "completed: worker-vllm's one-element list is unwrapped",
      row: row({ output: JSON.stringify([completion]) }),
      response: { status_code: 200, request_id: 'job-1', body: completion },
      error: null,
    },
    {
      name: 'completed: an output that is the object itself',
      row: row({ output: JSON.stringify(completion) }),
      response: { status_code: 200, request_id: 'job-1', body: completion },
      error: null,
    },
    {
      name: 'completed, streamed: the chunks are assembled into one chat.completion',
      row: row({ output: JSON.stringify(streamed) }),
      response: { status_code: 200, request_id: 'job-1', body: assembled },
      error: null,
    },
    {
      name: 'completed, streamed as SSE text in batches (worker-vllm yields lists of `data:` strings)',
      row: row({
        output: JSON.stringify([
          [`data: ${JSON.stringify(streamed[0])}\n\n`, `data: ${JSON.stringify(streamed[1])}\n\n`],
          [`data: ${JSON.stringify(streamed[2])}\n\ndata: ${JSON.stringify(streamed[3])}\n\n`],
          [`data: ${JSON.stringify(streamed[4])}\n\n`, 'data: [DONE]\n\n'],
        ]),
      }),
      response: { status_code: 200, request_id: 'job-1', body: assembled },
      error: null,
    },
    {
      name: 'completed with no output (--accept-empty-output): body null',
      row: row({ output: null }),
      response: { status_code: 200, request_id: 'job-1', body: null },
      error: null,
    },
    {
      name: "FAILED with RunPod's error (runpod-python's JSON string): its error_message",
      row: row({
        state: 'FAILED',
        jobStatus: 'FAILED',
        error: JSON.stringify({ error_type: "<class 'ValueError'>", error_message: 'CUDA out of memory', error_traceback: 'Traceback…' }),
      }),
      response: null,
      error: { code: 'job_failed', message: 'CUDA out of memory' },
    },
    {
      name: "FAILED with RunPod's error encoded twice (a JSON string of the JSON): still its error_message",
      row: row({
        state: 'FAILED',
        jobStatus: 'FAILED',
        error: JSON.stringify(JSON.stringify({ error_type: 'RuntimeError', error_message: 'CUDA out of memory', error_traceback: '' })),
      }),
      response: null,
      error: { code: 'job_failed', message: 'CUDA out of memory' },
    },
    {
      name: 'FAILED with a plain error string',
      row: row({ state: 'FAILED', error: 'handler crashed' }),
      response: null,
      error: { code: 'job_failed', message: 'handler crashed' },
    },
    {
      name: "an OpenAI error object in the output (vLLM's ErrorResponse)",
      row: row({
        state: 'FAILED',
        jobStatus: 'OUTPUT_ERROR',
        errorCode: 'RPB_OUTPUT_ERROR',
        error: JSON.stringify({ object: 'error', message: 'maximum context length is 4096 tokens', type: 'BadRequestError', code: 400 }),
      }),
      response: null,
      error: { code: 'worker_error', message: 'maximum context length is 4096 tokens' },
    },
    {
      name: "worker-vllm's yielded error",
      row: row({
        state: 'FAILED',
        errorCode: 'RPB_OUTPUT_ERROR',
        error: JSON.stringify({ message: 'engine dead', type: 'worker_error' }),
      }),
      response: null,
      error: { code: 'worker_error', message: 'engine dead' },
    },
    {
      name: 'empty output on every attempt',
      row: row({ state: 'FAILED', errorCode: 'RPB_EMPTY_OUTPUT', error: 'empty output: the job COMPLETED with no output. …' }),
      response: null,
      error: { code: 'empty_output', message: 'empty output: the job COMPLETED with no output. …' },
    },
    {
      name: 'lost too often',
      row: row({ state: 'FAILED', jobId: null, errorCode: 'RPB_LOST', error: 'job lost 6 times (404 on /status)' }),
      response: null,
      error: { code: 'job_lost', message: 'job lost 6 times (404 on /status)' },
    },
    {
      name: 'refused by /run',
      row: row({ state: 'FAILED', jobId: null, errorCode: 'RPB_BAD_REQUEST', error: 'HTTP 413' }),
      response: null,
      error: { code: 'invalid_request', message: 'HTTP 413' },
    },
    {
      name: 'TIMED_OUT (stored error: the status)',
      row: row({ state: 'TIMED_OUT', error: 'TIMED_OUT' }),
      response: null,
      error: { code: 'timed_out', message: 'the job timed out on RunPod (its execution timeout passed)' },
    },
    {
      name: 'CANCELLED',
      row: row({ state: 'CANCELLED', error: 'CANCELLED' }),
      response: null,
      error: { code: 'cancelled', message: 'the job was cancelled on RunPod' },
    },
    {
      name: 'not finished: PENDING',
      row: row({ state: 'PENDING', jobId: null, jobStatus: null }),
      response: null,
      error: {
        code: 'not_finished',
        message: 'the request did not run to the end: no job of it was on RunPod when the batch was exported',
      },
    },
    {
      name: 'not finished: SUBMITTED, in progress',
      row: row({ state: 'SUBMITTED', jobId: 'job-9', jobStatus: 'IN_PROGRESS' }),
      response: null,
      error: {
        code: 'not_finished',
        message: 'the request did not run to the end: its job job-9 was IN_PROGRESS on RunPod when the batch was exported',
      },
    },
  ];
  it.each(cases)('$name', ({ row: r, response, error }) => {
    const line = openaiRecord(r, 'salt');
    expect(line).toEqual({ id: expect.stringMatching(/^batch_req_[0-9a-f]{32}$/), custom_id: 'req-1', response, error });
    // The field order of OpenAI's lines, and the line is that record's JSON.
    expect(Object.keys(line)).toEqual(['id', 'custom_id', 'response', 'error']);
    expect(JSON.parse(openaiLine(r, 'salt'))).toEqual(line);
  });

  it('ids are stable for a row, differ between rows and between inputs; a numeric row id is a string custom_id', () => {
    const a = openaiRecord(row({ id: 'a' }), 's1');
    expect(openaiRecord(row({ id: 'a', state: 'FAILED', error: 'x' }), 's1').id).toBe(a.id);
    expect(openaiRecord(row({ id: 'b' }), 's1').id).not.toBe(a.id);
    expect(openaiRecord(row({ id: 'a' }), 's2').id).not.toBe(a.id);
    expect(openaiRecord(row({ id: 7 }), 's1').custom_id).toBe('7');
    expect(openaiRecord(row({ id: 7 }), 's1').id).not.toBe(openaiRecord(row({ id: '7' }), 's1').id);
  });
});

describe('openaiBody: the response object in an output', () => {
  it('assembles text completions, several choices, tool calls and reasoning from chunks', () => {
    const text = (t: string, finish: string | null = null, index = 0) => ({
      id: 'cmpl-1',
      object: 'text_completion',
      created: 5,
      model: 'm',
      choices: [{ index, text: t, logprobs: null, finish_reason: finish }],
    });
    expect(openaiBody([text('a'), text('x', null, 1), text('b', 'length'), text('y', 'stop', 1)])).toEqual({
      id: 'cmpl-1',
      object: 'text_completion',
      created: 5,
      model: 'm',
      choices: [
        { index: 0, text: 'ab', logprobs: null, finish_reason: 'length' },
        { index: 1, text: 'xy', logprobs: null, finish_reason: 'stop' },
      ],
      usage: null,
    });
    const tool = [
      chunk({ role: 'assistant', reasoning_content: 'think' }),
      chunk({
        reasoning_content: 'ing',
        tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get', arguments: '{"a"' } }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }),
      chunk({}, 'tool_calls'),
    ];
    expect((openaiBody(tool) as { choices: unknown[] }).choices).toEqual([
      {
        index: 0,
        message: {
          role: 'assistant',
          content: null,
          reasoning_content: 'thinking',
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get', arguments: '{"a":1}' } }],
        },
        logprobs: null,
        finish_reason: 'tool_calls',
      },
    ]);
  });

  it('leaves other outputs as the worker sent them', () => {
    const embeddings = { object: 'list', data: [{ object: 'embedding', embedding: [0.1], index: 0 }], model: 'e' };
    expect(openaiBody([embeddings])).toEqual(embeddings);
    expect(openaiBody(embeddings)).toEqual(embeddings);
    // The emulator's generator chunks, a list of several results, a string, a number: not OpenAI chunks.
    const chunks = [
      { chunk: 1, of: 2, echo: {} },
      { chunk: 2, of: 2, echo: {} },
    ];
    expect(openaiBody(chunks)).toEqual(chunks);
    expect(openaiBody([completion, completion])).toEqual([completion, completion]);
    expect(openaiBody('plain text')).toBe('plain text');
    expect(openaiBody(['data: not json'])).toEqual(['data: not json']);
    expect(openaiBody(3)).toBe(3);
    expect(openaiBody([])).toEqual([]);
  });
});
