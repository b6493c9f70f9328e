// Parsing and printing of the sizes, percentages and durations that inputs and the CLI accept.
// Pure: every function here is tested with tables in __tests__/decisions.test.ts ("units").

// A bare K, M, G or T is refused: `df -h`, `du -h` and sccache read `85G` as 85 GiB, Kubernetes as
// 85x10^9 bytes; a floor 7% off is a guard that runs when it should not, or not when it should.
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/**
 * A number without its unit (`85`): `disk-threshold: 85` once meant 85 bytes free, a guard that
 * never ran. Sizes, levels and durations other than 0 must say their unit.
 */
export const isBareNumber = (text: string): boolean => /^\s*\d+(?:\.\d+)?\s*$/.test(text) && parseFloat(text) !== 0;

/** Pure: what a bare number probably meant, for the message that refuses it: `did you mean 85% or 85GiB?` */
export function bareNumberHint(text: string, kind: 'level' | 'size' | 'duration'): string {
  const n = text.trim();
  const forms =
    kind === 'level'
      ? parseFloat(n) < 100
        ? [`${n}%`, `${n}GiB`]
        : [`${n}GiB`]
      : kind === 'size'
        ? [`${n}GiB`, `${n}MiB`]
        : [`${n}s`, `${n}m`, `${n}h`, `${n}d`];
  return `did you mean ${forms.length > 1 ? `${forms.slice(0, -1).join(', ')} or ` : ''}${forms[forms.length - 1]}?`;
}

/**
 * Pure: what a size with a one-letter unit meant, for the message that refuses it:
 * `'85G': did you mean 85GiB (85x2^30 bytes, as df -h counts) or 85GB (85x10^9 bytes)?`
 */
export function ambiguousUnitHint(text: string): string | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt])\s*$/i.exec(text);
  if (!m) return undefined;
  const u = m[2].toUpperCase();
  const power = 'KMGT'.indexOf(u) + 1;
  return `did you mean ${m[1]}${u}iB (${m[1]}x2^${10 * power} bytes, as df -h counts) or ${m[1]}${u}B (${m[1]}x10^${3 * power} bytes)?`;
}

/** Pure: the hint for a value that is not a size, level or duration: a bare number, or a unit of one letter. */
export function unitHint(text: string, kind: 'level' | 'size' | 'duration'): string | undefined {
  if (isBareNumber(text)) return bareNumberHint(text, kind);
  return kind === 'duration' ? undefined : ambiguousUnitHint(text);
}

/** `20GiB`, `512MB`, `1.5gb`, `100b` → bytes; undefined when the text is not a size (a bare number, `20G`, are not). */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m || (m[2] === '' && parseFloat(m[1]) !== 0)) return undefined;
  const unit = (m[2] || 'b').toLowerCase();
  const mult = SIZE_UNITS[unit];
  if (mult === undefined) return undefined;
  return Math.round(parseFloat(m[1]) * mult);
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30s`, `2m`, `1h`, `7d`, `0` → milliseconds; undefined when not a duration (a bare number but 0 is not). */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m || (m[2] === undefined && parseFloat(m[1]) !== 0)) return undefined;
  return Math.round(parseFloat(m[1]) * DURATION_UNITS[m[2] ?? 's']);
}

export type Level = { kind: 'percent'; percent: number } | { kind: 'free'; bytes: number };

/** `85%` (used share of the filesystem) or `20GiB` (free-space floor). */
export function parseLevel(text: string): Level | undefined {
  const p = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
  if (p) {
    const percent = parseFloat(p[1]);
    return percent > 0 && percent < 100 ? { kind: 'percent', percent } : undefined;
  }
  const bytes = parseSize(text);
  return bytes !== undefined && bytes > 0 ? { kind: 'free', bytes } : undefined;
}

export function formatLevel(level: Level): string {
  return level.kind === 'percent' ? `${level.percent}%` : `${formatBytes(level.bytes)} free`;
}

export function formatBytes(bytes: number): string {
  const abs = Math.abs(bytes);
  if (abs < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = abs / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${bytes < 0 ? '-' : ''}${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  const m = s / 60;
  if (m < 120) return `${m.toFixed(0)} min`;
  const h = m / 60;
  if (h < 48) return `${h.toFixed(1)} h`;
  return `${(h / 24).toFixed(1)} d`;
}
