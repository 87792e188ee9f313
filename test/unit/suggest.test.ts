import { describe, expect, it } from 'vitest';
import { editDistance, nearest, unknownArguments } from '../../src/cli/suggest.js';

const FLAGS = ['concurrency', 'retries', 'endpoint', 'out', 'base-url', 'max-cost', 'dry-run', 'id-field'];

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['concurency', 'concurrency', 1],
    ['retires', 'retries', 1], // a swap
    ['endpiont', 'endpoint', 1],
    ['kitten', 'sitting', 3],
  ])('%s → %s = %i', (a, b, d) => expect(editDistance(a, b)).toBe(d));
});

describe('nearest', () => {
  it.each([
    ['concurency', 'concurrency'],
    ['Concurrency', 'concurrency'],
    ['retires', 'retries'],
    ['max-cots', 'max-cost'],
    ['baseurl', 'base-url'],
    ['ot', 'out'],
    ['verbose', null],
    ['x', null],
  ])('%s → %s', (w, n) => expect(nearest(w, FLAGS)).toBe(n));
});

describe('unknownArguments', () => {
  const known = (given: string[], config: { file: string; keys: Set<string> } | null = null) => ({
    flags: FLAGS,
    commands: ['run', 'status', 'report', 'export'],
    given: new Set(given),
    config,
  });
  it('names the nearest flag', () => {
    expect(unknownArguments('Unknown argument: concurency', known(['concurency']))).toBe(
      'unknown flag --concurency (did you mean --concurrency?)',
    );
  });
  it('one sentence per name; no suggestion when nothing is close', () => {
    expect(unknownArguments('Unknown arguments: retires, verbose', known(['retires', 'verbose']))).toBe(
      'unknown flag --retires (did you mean --retries?)\nunknown flag --verbose',
    );
  });
  it('a key of the --config file names the file', () => {
    expect(unknownArguments('Unknown argument: concurency', known([], { file: 'c.json', keys: new Set(['concurency', 'endpoint']) }))).toBe(
      'c.json: unknown key "concurency" (did you mean "concurrency"?)',
    );
  });
  it('a word that is not a flag: the nearest command', () => {
    expect(unknownArguments('Unknown arguments: statsu, x', known([]))).toBe(
      'unknown command or argument "statsu" (did you mean status?)\nunknown command or argument "x"',
    );
  });
  it('leaves other messages alone', () => {
    expect(unknownArguments('Not enough non-option arguments', known([]))).toBeNull();
  });
});
