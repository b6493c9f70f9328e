import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import type { JobIdentity } from '../model/identity.js';
import type { Dirs } from '../model/layout.js';
import { type DirRecord, trustDomain } from '../model/record.js';
import { fromBase } from '../pool/choose.js';
import { type RemoveResult, removeTree } from '../os/remove.js';
import type { Settings } from '../model/settings.js';

export interface ResetDecision {
  reset: boolean;
  reason: string;
  /** The previous build is there to reuse: kept, and its target dir not emptied (by the guard or anyone). */
  warm?: boolean;
}

/** What a leased directory holds when the job takes it; a plain boolean means "target and CARGO_HOME alike". */
export type Content = boolean | { target: boolean; cargoHome: boolean };

const ago = (iso: string, now: number) => {
  const ms = now - Date.parse(iso);
  return Number.isFinite(ms) ? ` ${Math.max(0, Math.round(ms / 60_000))} min ago` : '';
};

/**
 * Pure: must the leased directory start empty? Content written under one trust domain (a PR,
 * possibly a fork) is never handed to another: target/, and all of CARGO_HOME, whose bin/ is
 * put on PATH and whose registry/cache holds .crate files cargo uses unchecked.
 *
 * The reason says "warm" only when a build is really there to reuse: a slot of the same key
 * whose target dir the disk guard removed (`prunedAt`) or that is empty keeps its CARGO_HOME,
 * but cargo compiles everything again, and the summary must say so.
 */
export function decideReset(reuse: Settings['reuse'], previous: DirRecord | undefined, hasContent: Content, me: JobIdentity, now = Date.now()): ResetDecision {
  const content = typeof hasContent === 'boolean' ? { target: hasContent, cargoHome: hasContent } : hasContent;
  if (!content.target && !content.cargoHome) return { reset: false, reason: 'empty' };
  // `warm` is what the reason says when the build is there; `why` names the rule when it is not.
  const kept = (warm: string, why = warm): ResetDecision => {
    if (content.target && !previous?.prunedAt) return { reset: false, reason: warm, warm: true };
    const gone = previous?.prunedAt ? `the disk guard removed its target dir${ago(previous.prunedAt, now)}` : 'its target dir is empty';
    return { reset: false, reason: `kept (${why}), but ${gone}: cargo builds everything again; CARGO_HOME's crates are kept`, warm: false };
  };
  if (reuse === 'never') return { reset: true, reason: "reuse: never" };
  if (reuse === 'always') return kept('reuse: always');
  if (!previous) return { reset: true, reason: 'no record of who used it last' };
  // Trusted content may seed a PR, never the reverse: the record then names the PR, so the
  // base branch's next push wipes it (it is another trust domain's slot from then on).
  if (fromBase(previous, me)) return kept(`seeded by the base branch: last used by a push to ${previous.key.slice(4)}`);
  if (trustDomain(previous) !== trustDomain(me)) return { reset: true, reason: `last used by ${trustDomain(previous)}` };
  return kept(`warm: last used by the same key (${previous.key})`, `last used by the same key (${previous.key})`);
}

/** Files of the runner's own CARGO_HOME that keep working when linked into the new one. */
const LINKED = ['config.toml', 'config', 'credentials.toml', 'credentials'];

export function originalCargoHome(env: Record<string, string | undefined>, root: string): string | undefined {
  const home = resolve(env.CARGO_HOME || join(env.HOME || homedir(), '.cargo'));
  // A nested run (the action used twice in one job) must link to the runner's home, not ours.
  return home === root || home.startsWith(root + sep) ? undefined : home;
}

async function hasEntries(dir: string): Promise<boolean> {
  return (await fs.readdir(dir).catch(() => [])).length > 0;
}

export interface PrepareResult {
  decision: ResetDecision;
  removed: RemoveResult[];
  linked: string[];
}

/** Makes target/, cargo-home/ (with config links and bin/) and an empty tmp/ (0700). */
export async function prepareDirs(root: string, dirs: Dirs, previous: DirRecord | undefined, me: JobIdentity, s: Settings, env: Record<string, string | undefined>): Promise<PrepareResult> {
  const removed: RemoveResult[] = [];
  const timeoutMs = s.cleanupTimeoutMs;
  // A build of the previous job may have replaced one of our directories by a symlink (into
  // another slot, say): cargo would follow it. Only real directories are used; anything else
  // is moved to trash (the link itself, never what it points to).
  for (const d of [dirs.target, dirs.cargoHome, dirs.tmp]) {
    const st = await fs.lstat(d).catch(() => undefined);
    if (st && !st.isDirectory()) removed.push(await removeTree(root, d, { timeoutMs }));
  }
  const content = { target: await hasEntries(dirs.target), cargoHome: await hasEntries(dirs.cargoHome) };
  const decision = decideReset(s.reuse, previous, content, me);
  if (decision.reset) {
    removed.push(await removeTree(root, dirs.target, { timeoutMs }));
    removed.push(await removeTree(root, dirs.cargoHome, { timeoutMs }));
  }
  if (await hasEntries(dirs.tmp)) removed.push(await removeTree(root, dirs.tmp, { timeoutMs }));
  const stuck = removed.filter((r) => r.outcome === 'left-in-trash' || r.outcome === 'live');
  if (stuck.length) {
    // The tree was renamed away, so the job still starts clean; the remains wait in trash.
    for (const r of stuck) if (r.outcome === 'live') throw new Error(`Cannot empty ${r.path}: ${r.detail}.`);
  }
  await fs.mkdir(dirs.target, { recursive: true });
  await fs.mkdir(join(dirs.cargoHome, 'bin'), { recursive: true });
  await fs.mkdir(dirs.tmp, { recursive: true, mode: 0o700 });
  await fs.chmod(dirs.tmp, 0o700);
  const linked: string[] = [];
  const orig = originalCargoHome(env, root);
  if (orig) {
    for (const f of LINKED) {
      const src = join(orig, f);
      const dst = join(dirs.cargoHome, f);
      const st = await fs.stat(src).catch(() => undefined);
      const cur = await fs.readlink(dst).catch(() => undefined);
      if (!st?.isFile()) {
        if (cur !== undefined) await fs.unlink(dst).catch(() => undefined); // the runner's file went away
        continue;
      }
      if (cur !== src) {
        await fs.rm(dst, { force: true });
        await fs.symlink(src, dst);
      }
      linked.push(src);
    }
  }
  return { decision, removed, linked };
}
