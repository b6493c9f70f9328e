import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { JobIdentity } from '../model/identity.js';
import type { Dirs } from '../model/layout.js';
import type { DirRecord } from '../model/record.js';
import { type ResetDecision, decideReset } from '../pool/reset.js';
import { type RemoveResult, removeTree } from '../os/remove.js';
import type { Settings } from '../model/settings.js';
import { listDir, lstatIfPresent } from '../os/absent.js';
import { Failure } from '../model/failure.js';

/*
 * Making a leased directory ready for its job: its content kept or emptied first as the pool's
 * policy decides (pool/reset.ts, decideReset: by the `reuse` input and by trust domain), then
 * target/, install/, tmp/ and the job's CARGO_HOME made, anything that is not a real directory
 * moved to trash, and the runner's cargo config linked in.
 */

async function hasEntries(dir: string): Promise<boolean> {
  return (await listDir(dir)).length > 0;
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
    const st = await lstatIfPresent(d);
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
    for (const r of stuck) if (r.outcome === 'live') throw new Failure(`Cannot empty ${r.path}: ${r.detail}.`, 'environment');
  }
  await fs.mkdir(dirs.target, { recursive: true });
  await fs.mkdir(join(dirs.install, 'bin'), { recursive: true });
  await fs.mkdir(cargoHome, { recursive: true });
  await fs.mkdir(dirs.tmp, { recursive: true, mode: 0o700 });
  await fs.chmod(dirs.tmp, 0o700);
  return { decision, removed };
}
