/** "Did you mean …?" for mistyped flags and config keys. Pure. */

/** Levenshtein distance (insert, delete, substitute; a swap of two neighbours counts 1). */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) rows.push([i, ...Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

/** The known name closest to `word`, if close enough to be a typo (a third of its length, at least 1, at most 3). */
export function nearest(word: string, known: Iterable<string>): string | null {
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(word.toLowerCase(), k.toLowerCase());
    if (d < bestD || (d === bestD && best !== null && k < best)) {
      best = k;
      bestD = d;
    }
  }
  return bestD <= limit ? best : null;
}

export interface Known {
  /** Long flags of the command (kebab-case). */
  flags: readonly string[];
  /** Command names, for a word that is not a flag. */
  commands: readonly string[];
  /** The words given as flags on the command line (`--name`, `--name=v`). */
  given: ReadonlySet<string>;
  /** The --config file and its keys, if one was read. */
  config: { file: string; keys: ReadonlySet<string> } | null;
}

/**
 * yargs' "Unknown argument(s): a, b" as one sentence per name, with the nearest flag or command, naming the config
 * file when the name is one of its keys. Null for any other message.
 */
export function unknownArguments(msg: string, k: Known): string | null {
  const m = /^Unknown arguments?: (.+)$/.exec(msg.trim());
  if (!m) return null;
  const names = m[1]!.split(', ').filter((n) => n !== '');
  return names
    .map((name) => {
      if (k.config?.keys.has(name) && !k.given.has(name)) {
        const near = nearest(name, k.flags);
        return `${k.config.file}: unknown key "${name}"${near ? ` (did you mean "${near}"?)` : ''}`;
      }
      if (k.given.has(name)) {
        const near = nearest(name, k.flags);
        return `unknown flag --${name}${near ? ` (did you mean --${near}?)` : ''}`;
      }
      const near = nearest(name, k.commands);
      return `unknown command or argument "${name}"${near ? ` (did you mean ${near}?)` : ''}`;
    })
    .join('\n');
}
