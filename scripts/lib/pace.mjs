// How busy this machine is when a test run starts, as one number the suite scales its hang guards
// by (jest's test timeout, a docker command's limit, a wait for a process to reach a state).
// Assertions about outcomes are never scaled: only how long the suite waits before calling a hang.
//
// The measure: a fresh node process does a fixed amount of work, five times; pace is the median
// ratio of its wall time to its own CPU time. On an idle machine that is about 1; with twice as
// many runnable processes as cores it is 2 or more. It is a ratio of the machine to itself, so it
// needs no reference figure from another machine. test-run.mjs measures it once per run and
// hands it to the workers in CARGO_ISOLATE_TEST_PACE (set it yourself to skip the measurement).
import { spawnSync } from 'node:child_process';

export const PACE_VARIABLE = 'CARGO_ISOLATE_TEST_PACE';
/** Beyond this the machine is too busy for any limit to mean much; a hang still ends. */
export const MAX_PACE = 8;

const WORK =
  'let x = 0; for (let i = 0; i < 3e6; i++) x = (x * 31 + i) >>> 0; const u = process.cpuUsage(); process.stdout.write(String((u.user + u.system) / 1000));';

/**
 * Runs the measurement: `{ pace, samples }`, samples as [wall ms, cpu ms].
 * @returns {{ pace: number, samples: [number, number][] }}
 */
export function measurePace(runs = 5) {
  /** @type {[number, number][]} */
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['-e', WORK], { encoding: 'utf8' });
    const wall = performance.now() - t0;
    const cpu = Number(r.stdout);
    if (r.status === 0 && cpu > 0) samples.push([Math.round(wall), Math.round(cpu)]);
  }
  const ratios = samples.map(([wall, cpu]) => wall / cpu).sort((a, b) => a - b);
  const median = ratios.length ? ratios[Math.floor(ratios.length / 2)] : 1;
  return { pace: clampPace(median), samples };
}

/** @param {number} x */
export function clampPace(x) {
  return Math.round(Math.min(MAX_PACE, Math.max(1, Number.isFinite(x) ? x : 1)) * 10) / 10;
}

/**
 * The pace of this run: what jest.config.js measured (or the user set), else 1.
 * @param {Record<string, string | undefined>} env
 */
export function currentPace(env = process.env) {
  const v = Number(env[PACE_VARIABLE]);
  return v >= 1 ? clampPace(v) : 1;
}
