// What one test run (one `jest` process and its workers) sets up once, in the parent, before any
// test file runs: the pace its hang guards are scaled by (pace.mjs), and a directory of its own
// in /var/tmp that any uid can read, for the copies of dist/ and node that steps run as another
// uid need (__tests__/helpers/anyuid.ts). Several checkouts may run the suite at once on one
// machine, each with its own dist/: a directory per run keeps their copies apart, and it goes when
// the run ends. Workers inherit both through the environment.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { PACE_VARIABLE, measurePace } from './pace.mjs';

export const RUN_DIR_VARIABLE = 'CARGO_ISOLATE_TEST_RUN_DIR';

/** @param {Record<string, string | undefined>} env */
export function prepareTestRun(env = process.env) {
  if (!env[PACE_VARIABLE]) {
    const { pace, samples } = measurePace();
    env[PACE_VARIABLE] = String(pace);
    process.stderr.write(`pace ${pace} (wall/cpu ms of a fixed task: ${samples.map(([w, c]) => `${w}/${c}`).join(' ')}); hang guards scaled by it\n`);
  }
  if (!env[RUN_DIR_VARIABLE]) {
    const dir = mkdtempSync('/var/tmp/cargo-isolate-test-run-');
    chmodSync(dir, 0o755);
    env[RUN_DIR_VARIABLE] = dir;
    // The parent outlives every worker; it is not in jest's sandbox, so its exit handler runs.
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
}
