/*
 * "Did you mean": the known word nearest to one the user typed, for messages about a misspelled
 * variable, command or flag. Pure; table-tested in __tests__/settings.test.ts.
 */

/** Pure: edit distance (insert, delete, substitute, swap of two neighbours), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) => Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[x.length][y.length];
}

/**
 * Pure: the known word nearest to `word`, when it is near enough to be a slip (at most a third of
 * its letters changed, and at least one); undefined when nothing is. Ties go to the first known.
 */
export function nearest(word: string, known: readonly string[]): string | undefined {
  let best: { w: string; d: number } | undefined;
  for (const w of known) {
    const d = editDistance(word, w);
    if (!best || d < best.d) best = { w, d };
  }
  return best && best.d <= Math.max(1, Math.floor(word.length / 3)) ? best.w : undefined;
}
