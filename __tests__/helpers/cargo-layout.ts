import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/*
 * The cargo build-dir layouts that the suites reading cargo's target internals run under.
 *
 *   v1       the machine's stable cargo (1.95): `<profile>/.fingerprint/<pkg>-<hash>/`, one
 *            `.cargo-lock` per profile, exclusive.
 *   v2       what cargo 1.100 does by default: `<profile>/build/<pkg>/<hash>/{fingerprint,out,run}/`
 *            and the 1.96+ locks (`.cargo-build-lock` exclusive, `.cargo-lock` shared,
 *            `.cargo-artifact-lock`). Run with the nightly toolchain (1.97), whose
 *            src/cargo/core/compiler/layout.rs and locking.rs are 1.100's but for the default,
 *            and -Zbuild-dir-new-layout. Stable 1.95 with that flag builds the same tree but still
 *            takes its one `.cargo-lock`, so it is not used for v2.
 *   v2-fine  v2 with -Zfine-grain-locking (nightly only, in 1.100 too): `.cargo-build-lock` and
 *            `.cargo-lock` both shared, and a `.lock` per unit dir.
 *
 * A suite passes `layoutEnv(l)` to the job (and to `docker run -e`), and checks with
 * `expectLayout` that cargo really wrote that layout, so a flag that stops working fails the
 * test instead of testing v1 twice.
 */
export type TestLayout = 'v1' | 'v2' | 'v2-fine';

const NIGHTLY = 'nightly';
let nightlyChecked = false;

function needNightly(): void {
  if (nightlyChecked) return;
  const r = spawnSync('rustup', ['run', NIGHTLY, 'cargo', '-V'], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(
      `The layout v2 tests run cargo's nightly toolchain (cargo 1.100's layout and locks) and none is installed: ${(r.stderr || r.error?.message || '').trim()}. Install it with 'rustup toolchain install nightly --profile minimal'.`,
    );
  }
  nightlyChecked = true;
}

/** The environment that makes cargo (through rustup's proxies) use layout `l`. */
export function layoutEnv(l: TestLayout): Record<string, string> {
  if (l === 'v1') return {};
  needNightly();
  return {
    RUSTUP_TOOLCHAIN: NIGHTLY,
    CARGO_UNSTABLE_BUILD_DIR_NEW_LAYOUT: 'true',
    ...(l === 'v2-fine' ? { CARGO_UNSTABLE_FINE_GRAIN_LOCKING: 'true' } : {}),
  };
}

/** The same variables as `docker run -e` arguments (a container runs the toolchain's cargo directly). */
export const layoutDockerEnv = (l: TestLayout): string[] =>
  Object.entries(layoutEnv(l))
    .filter(([k]) => k !== 'RUSTUP_TOOLCHAIN')
    .flatMap(([k, v]) => ['-e', `${k}=${v}`]);

/** The rustup toolchain a suite that runs cargo directly (another uid, a container) must copy. */
export const layoutToolchain = (l: TestLayout): string | undefined => (l === 'v1' ? undefined : (needNightly(), NIGHTLY));

/** Unit dirs of layout v2 in a profile dir: `build/<pkg>/<hash>/`. */
function v2Units(profileDir: string): string[] {
  const build = join(profileDir, 'build');
  const out: string[] = [];
  for (const pkg of existsSync(build) ? readdirSync(build, { withFileTypes: true }) : []) {
    if (!pkg.isDirectory()) continue;
    for (const h of readdirSync(join(build, pkg.name), { withFileTypes: true })) {
      if (h.isDirectory() && existsSync(join(build, pkg.name, h.name, 'fingerprint'))) out.push(join(build, pkg.name, h.name));
    }
  }
  return out;
}

/** Throws unless cargo built `profileDir` (`<target>/<profile>`) in the layout `l` stands for. */
export function expectLayout(profileDir: string, l: TestLayout): void {
  const units = v2Units(profileDir);
  const v1 = existsSync(join(profileDir, '.fingerprint'));
  if (l === 'v1' ? !v1 || units.length > 0 : units.length === 0) {
    throw new Error(
      `cargo did not write layout ${l} in ${profileDir} (v1 .fingerprint/: ${v1}, v2 units: ${units.length}): ${JSON.stringify(layoutEnv(l))} did not reach cargo?`,
    );
  }
  const unitLocks = units.some((u) => existsSync(join(u, '.lock')));
  if (unitLocks !== (l === 'v2-fine')) throw new Error(`per-unit .lock files ${unitLocks ? 'found' : 'missing'} in ${profileDir} under layout ${l}`);
}
