import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

/*
 * A checkout may sit under a directory other users cannot enter (a clone under /root, mode
 * 0700), and so may the Node 24 that CI installs inside it and the rustup toolchain. Steps run
 * as another uid get copies in /var/tmp that anyone can read.
 */
let made: { dir: string; node: string; dist: string; hooks: string } | undefined;

/** Readable copies of node, dist/ and hooks/ (which runs ../dist/hook). */
export function forAnyUid(): { node: string; dist: string; hooks: string } {
  if (made) return made;
  const dir = mkdtempSync('/var/tmp/cargo-isolate-any-uid-');
  chmodSync(dir, 0o755);
  cpSync(resolve('dist'), join(dir, 'dist'), { recursive: true });
  cpSync(resolve('hooks'), join(dir, 'hooks'), { recursive: true });
  const node = join(dir, 'node');
  try {
    linkSync(process.execPath, node);
  } catch {
    copyFileSync(process.execPath, node);
  }
  chmodSync(node, 0o755);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  made = { dir, node, dist: join(dir, 'dist'), hooks: join(dir, 'hooks') };
  return made;
}

/**
 * The machine's Rust toolchain (the default one, or a rustup toolchain by name, e.g. `nightly`)
 * where any uid can run it: rustup keeps it under /root (0700). Hardlinks (`cp -al`) cost no
 * space; made once per toolchain version and kept.
 */
export function toolchainForAnyUid(toolchain?: string): string {
  const pick = toolchain ? [`+${toolchain}`] : [];
  const sysroot = execFileSync('rustc', [...pick, '--print', 'sysroot'], { encoding: 'utf8' }).trim();
  const version = execFileSync('rustc', [...pick, '--version'], { encoding: 'utf8' }).trim().split(' ')[1];
  const dest = `/opt/cargo-isolate-test-rust-${version}`;
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
