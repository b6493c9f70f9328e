import { promises as fs } from 'node:fs';
import { join } from 'node:path';
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
 * possibly a fork) is never handed to another: target/, install/ (its bin/ is put on PATH), tmp/
 * and a private CARGO_HOME (a fork's: its registry/cache holds .crate files cargo uses
 * unchecked). The CARGO_HOME shared by a uid's trusted jobs is not the slot's (cargo-home.ts).
 *
 * The reason says "warm" only when a build is really there to reuse: a slot of the same key
 * whose target dir the disk guard removed (`prunedAt`) or that is empty keeps the rest of its
 * content, but cargo compiles everything again, and the summary must say so.
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
  if (reuse === 'never') return { reset: true, reason: 'reuse: never' };
  if (reuse === 'always') return kept('reuse: always');
  if (!previous) return { reset: true, reason: 'no record of who used it last' };
  // Trusted content may seed a PR, never the reverse: the record then names the PR, so the
  // base branch's next push wipes it (it is another trust domain's slot from then on).
  if (fromBase(previous, me)) return kept(`seeded by the base branch: last used by a push to ${previous.key.slice(4)}`);
  if (trustDomain(previous) !== trustDomain(me)) return { reset: true, reason: `last used by ${trustDomain(previous)}` };
  return kept(`warm: last used by the same key (${previous.key})`, `last used by the same key (${previous.key})`);
}

async function hasEntries(dir: string): Promise<boolean> {
  return (await fs.readdir(dir).catch(() => [])).length > 0;
}

export interface PrepareResult {
  decision: ResetDecision;
  removed: RemoveResult[];
}

/**
 * Makes target/, install/bin/ and an empty tmp/ (0700), and the job's CARGO_HOME (whose top,
 * with the runner's config copied in, is home-top.ts's). A private cargo-home/ left in the slot
 * by an earlier job is kept only when this job uses it (a fork PR's next run); otherwise it goes
 * with the wipe, or now.
 */
export async function prepareDirs(
  root: string,
  dirs: Dirs,
  previous: DirRecord | undefined,
  me: JobIdentity,
  s: Settings,
  env: Record<string, string | undefined>,
  cargoHome: string = dirs.cargoHome,
): Promise<PrepareResult> {
  const removed: RemoveResult[] = [];
  const timeoutMs = s.cleanupTimeoutMs;
  // A build of the previous job may have replaced one of our directories by a symlink (into
  // another slot, say): cargo would follow it. Only real directories are used; anything else
  // is moved to trash (the link itself, never what it points to).
  for (const d of [dirs.target, dirs.cargoHome, dirs.install, dirs.tmp]) {
    const st = await fs.lstat(d).catch(() => undefined);
    if (st && !st.isDirectory()) removed.push(await removeTree(root, d, { why: 'slot preparation: not a directory', timeoutMs }));
  }
  const privateHome = cargoHome === dirs.cargoHome;
  // "cargoHome" here is everything of the slot's but its target: install/ and a private home.
  const content = { target: await hasEntries(dirs.target), cargoHome: (await hasEntries(dirs.install)) || (privateHome && (await hasEntries(dirs.cargoHome))) };
  const decision = decideReset(s.reuse, previous, content, me);
  if (decision.reset) {
    for (const d of [dirs.target, dirs.install, dirs.cargoHome]) removed.push(await removeTree(root, d, { why: `slot reset: ${decision.reason}`, timeoutMs }));
  } else if (!privateHome && (await hasEntries(dirs.cargoHome))) {
    // The slot's own private home (a version before shared homes): nothing uses it any more.
    removed.push(await removeTree(root, dirs.cargoHome, { why: 'slot preparation: a private CARGO_HOME nothing uses any more', timeoutMs }));
  }
  if (await hasEntries(dirs.tmp)) removed.push(await removeTree(root, dirs.tmp, { why: "slot preparation: the previous job's temp files", timeoutMs }));
  const stuck = removed.filter((r) => r.outcome === 'left-in-trash' || r.outcome === 'live');
  if (stuck.length) {
    // The tree was renamed away, so the job still starts clean; the remains wait in trash.
    for (const r of stuck) if (r.outcome === 'live') throw new Error(`Cannot empty ${r.path}: ${r.detail}.`);
  }
  await fs.mkdir(dirs.target, { recursive: true });
  await fs.mkdir(join(dirs.install, 'bin'), { recursive: true });
  await fs.mkdir(cargoHome, { recursive: true });
  await fs.mkdir(dirs.tmp, { recursive: true, mode: 0o700 });
  await fs.chmod(dirs.tmp, 0o700);
  return { decision, removed };
}
