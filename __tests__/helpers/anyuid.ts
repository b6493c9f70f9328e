import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RUN_DIR_VARIABLE } from '../../scripts/lib/test-run.mjs';

/*
 * A checkout may sit under a directory other users cannot enter (a clone under /root, mode
 * 0700), and so may the Node 24 that CI installs inside it and the rustup toolchain. Steps run
 * as another uid get copies that anyone can read.
 *
 * Several checkouts run the suite at once on one machine, each with its own dist/ and node, so
 * the copies of dist/ and node are this run's own: in the directory the run made for itself
 * (scripts/lib/test-run.mjs, removed when the run ends). The first worker that needs them copies
 * into a temporary name and renames it into place whole; a worker that loses that race uses the
 * winner's, so none ever sees half a copy.
 */
let made: { node: string; dist: string; hooks: string } | undefined;

/** Readable copies of node, dist/ and hooks/ (which runs ../dist/hook). */
export function forAnyUid(): { node: string; dist: string; hooks: string } {
  if (made) return made;
  let runDir = process.env[RUN_DIR_VARIABLE];
  if (!runDir || !existsSync(runDir)) {
    // Not started through jest.config.js: a directory of this process's own.
    runDir = mkdtempSync('/var/tmp/cargo-isolate-test-run-');
    chmodSync(runDir, 0o755);
    const own = runDir;
    process.on('exit', () => rmSync(own, { recursive: true, force: true }));
  }
  const dest = join(runDir, 'any-uid');
  if (!existsSync(join(dest, 'complete'))) {
    const tmp = mkdtempSync(join(runDir, 'any-uid.tmp-'));
    chmodSync(tmp, 0o755);
    cpSync(resolve('dist'), join(tmp, 'dist'), { recursive: true });
    cpSync(resolve('hooks'), join(tmp, 'hooks'), { recursive: true });
    try {
      linkSync(process.execPath, join(tmp, 'node'));
    } catch {
      copyFileSync(process.execPath, join(tmp, 'node'));
      chmodSync(join(tmp, 'node'), 0o755);
    }
    writeFileSync(join(tmp, 'complete'), '');
    try {
      renameSync(tmp, dest);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another worker's copy is in place
    }
  }
  made = { node: join(dest, 'node'), dist: join(dest, 'dist'), hooks: join(dest, 'hooks') };
  return made;
}

/**
 * The machine's Rust toolchain (the default one, or a rustup toolchain by name, e.g. `nightly`)
 * where any uid can run it: rustup keeps it under /root (0700). Hardlinks (`cp -al`) cost no
 * space; made once per toolchain build (its commit, not only its version: two nightlies share a
 * version) and kept, renamed into place whole.
 */
export function toolchainForAnyUid(toolchain?: string): string {
  const pick = toolchain ? [`+${toolchain}`] : [];
  const sysroot = execFileSync('rustc', [...pick, '--print', 'sysroot'], { encoding: 'utf8' }).trim();
  const vv = execFileSync('rustc', [...pick, '-vV'], { encoding: 'utf8' });
  const field = (k: string) => new RegExp(`^${k}: (\\S+)`, 'm').exec(vv)?.[1] ?? 'unknown';
  const dest = `/opt/cargo-isolate-test-rust-${field('release')}-${field('commit-hash').slice(0, 12)}`;
  if (!existsSync(join(dest, 'bin', 'cargo'))) {
    const tmp = `${dest}.${process.pid}.tmp`;
    mkdirSync('/opt', { recursive: true });
    rmSync(tmp, { recursive: true, force: true });
    execFileSync('cp', ['-al', sysroot, tmp]);
    chmodSync(tmp, 0o755);
    try {
      execFileSync('mv', ['-T', tmp, dest]);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another worker won the race
    }
  }
  return dest;
}
