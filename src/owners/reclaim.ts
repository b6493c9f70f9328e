import { promises as fs } from 'node:fs';
import { join, relative } from 'node:path';
import { type Dirs, SLOT_NAME, rootPaths, slotDirs } from '../model/layout.js';
import { type Owned, describeForeign, findForeign, findForeignInHome, telling } from './foreign.js';
import { FIX_AT_THE_SOURCE, stepLeftFiles } from '../model/messages.js';
import { readRecord, writeRecord } from '../os/record-file.js';
import { runCommand } from '../os/run.js';
import { findOnPath, myUid } from '../os/proc.js';
import { listDir } from '../os/absent.js';

/*
 * What a job that is not root does about another uid's files in its own slot (foreign.ts),
 * from its post step, while it still holds the lease:
 *
 *   1. hand them back to itself, if it can: `sudo -n chown -R`, else, when this job can use
 *      Docker, `docker run --rm` of an image already on the host (never pulled) chowning the
 *      mounted slot as root;
 *   2. otherwise mark the slot's record with that uid: jobs of other uids pass it over as they
 *      pass over a root container job's slot never handed back (owner.ts canManage), the guard
 *      and `gc` report it as needing root, and root's `gc` hands it back;
 *   3. in both cases say so once, naming the fix at the source (`docker run --user`).
 *
 * Every hand-back is verified by probing again: a Docker daemon with user namespaces, say,
 * runs chown without error and changes nothing.
 */

export type Method = 'sudo' | 'docker';

const onPath = async (name: string, path: string): Promise<boolean> => (await findOnPath(name, path)) !== undefined;

/**
 * Slots whose record names another uid than `uid` (marked here, or a root job's never handed
 * back): what only root can return. Records only: `gc` says it even when it prunes nothing.
 */
export async function slotsOfAnotherUid(root: string, uid: number): Promise<{ name: string; uid: number; paths: string[] }[]> {
  if (uid === 0) return [];
  const out: { name: string; uid: number; paths: string[] }[] = [];
  for (const name of (await listDir(rootPaths(root).slots)).filter((n) => SLOT_NAME.test(n)).sort()) {
    const rec = await readRecord(slotDirs(root, name).record);
    if (rec?.uid !== undefined && rec.uid !== uid) out.push({ name, uid: rec.uid, paths: rec.foreign?.paths ?? [] });
  }
  return out;
}

/** Pure: which hand-backs to try, in order. sudo first: no daemon, no image, no mount. */
export function handBackMethods(uid: number, found: number, onPath: Record<Method, boolean>): Method[] {
  if (uid === 0 || found === 0) return [];
  // A tool that is not on PATH is not worth a spawn: without a docker client, this job could
  // not have run the step that made the files either (another job sharing the slot's key did).
  return (['sudo', 'docker'] as Method[]).filter((m) => onPath[m]);
}

/**
 * Pure: images to try from `docker image ls --format '{{.ID}} {{.Repository}}:{{.Tag}}'`, by
 * ID (nothing to resolve, nothing to pull), most recent first as Docker lists them: the image
 * a `docker run` step just used is likely among them and has `chown`. At most `max`.
 */
export function chooseImages(listing: string, max = 3): string[] {
  const ids: string[] = [];
  for (const line of listing.split('\n')) {
    const id = line.trim().split(/\s+/)[0];
    if (id && /^[0-9a-f]{12,64}$/i.test(id.replace(/^sha256:/, '')) && !ids.includes(id)) ids.push(id);
  }
  return ids.slice(0, max);
}

/** Pure: the docker arguments that chown the slot mounted at a fixed path, as root, offline. */
export function dockerChownArgs(image: string, base: string, to: { uid: number; gid: number }): string[] {
  const at = '/cargo-isolate-slot';
  return [
    'run',
    '--rm',
    '--pull',
    'never',
    '--network',
    'none',
    '--user',
    '0:0',
    '--entrypoint',
    'chown',
    '--mount',
    `type=bind,source=${base},target=${at}`,
    image,
    '-R',
    '-h',
    `${to.uid}:${to.gid}`,
    at,
  ];
}

interface Ran {
  ok: boolean;
  stdout: string;
  detail: string;
}

async function run(cmd: string, args: string[], timeoutMs: number): Promise<Ran> {
  const r = await runCommand(cmd, args, timeoutMs);
  if (r.error) return { ok: false, stdout: r.stdout, detail: r.error.code === 'ENOENT' ? `${cmd} not found` : r.error.message };
  return {
    ok: r.code === 0,
    stdout: r.stdout,
    detail: r.stderr.trim().split('\n').slice(-1)[0] || (r.signal ? `killed by ${r.signal}` : `exited with ${r.code}`),
  };
}

async function bySudo(base: string, to: { uid: number; gid: number }, timeoutMs: number): Promise<Ran> {
  return run('sudo', ['-n', 'chown', '-R', '-h', `${to.uid}:${to.gid}`, '--', base], timeoutMs);
}

async function byDocker(root: string, base: string, to: { uid: number; gid: number }, timeoutMs: number): Promise<Ran> {
  // --mount splits on commas; such a root is refused rather than mounted wrongly.
  if (base.includes(',')) return { ok: false, stdout: '', detail: `the path ${base} has a comma, which docker --mount cannot take` };
  // Docker resolves a bind mount's source: a slot directory a build replaced by a symlink
  // would lead root's chown outside the root. Only the real directory is mounted.
  // The root was made by an administrator; what lies below it is the job user's to replace.
  // Not reads that may find nothing: whatever cannot be resolved ('?' and '' match no real
  // path) refuses the mount, and the refusal is the detail the caller reports.
  const st = await fs.lstat(base).catch(() => undefined);
  const expected = join(await fs.realpath(root).catch(() => '?'), relative(root, base));
  if (!st?.isDirectory() || (await fs.realpath(base).catch(() => '')) !== expected)
    return { ok: false, stdout: '', detail: `${base} is not a plain directory (a symlink?); not mounting it` };
  const ls = await run('docker', ['image', 'ls', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}'], Math.min(timeoutMs, 15_000));
  if (!ls.ok) return ls;
  const images = chooseImages(ls.stdout);
  if (images.length === 0) return { ok: false, stdout: '', detail: 'no image on this host (never pulled)' };
  let last: Ran = { ok: false, stdout: '', detail: '' };
  for (const image of images) {
    last = await run('docker', dockerChownArgs(image, expected, to), timeoutMs);
    if (last.ok) return last;
    const timedOut = last.detail.startsWith('killed by');
    last = { ...last, detail: `image ${image}: ${last.detail}` };
    if (timedOut) break; // a daemon that hangs once hangs again: the post step must end
  }
  return last;
}

/**
 * Marks the slot's record as holding `found`'s uid, under the caller's lease: jobs of other uids
 * pass it over (owner.ts canManage), the guard and gc report it. False when there is no record.
 */
export async function markForeign(dirs: Pick<Dirs, 'record'>, found: Owned[]): Promise<boolean> {
  const rec = await readRecord(dirs.record);
  if (!rec || found.length === 0) return false;
  await writeRecord(dirs.record, {
    ...rec,
    uid: found[0].uid,
    foreign: {
      uid: found[0].uid,
      paths: telling(found)
        .slice(0, 5)
        .map((f) => f.rel),
      at: new Date().toISOString(),
    },
  });
  return true;
}

export interface ForeignOutcome {
  found: Owned[];
  handedBack?: Method;
  /** The record now names the foreign uid: other uids pass the slot over. */
  marked: boolean;
  /** Why each hand-back did not work. */
  failed: string[];
  /** The one warning the post step gives. */
  message: string;
}

/** Pure: the one warning a post step gives about another uid's files. */
export function foreignMessage(o: {
  uid: number;
  layout: 'slot' | 'job';
  name: string;
  first: Owned[];
  left: Owned[];
  handedBack?: Method;
  failed: string[];
  marked: boolean;
}): string {
  const where = o.layout === 'slot' ? `slot ${o.name}` : `the job directory ${o.name}`;
  const what = stepLeftFiles(describeForeign(o.first), where, o.uid);
  if (o.handedBack) return `${what} Handed them back to uid ${o.uid} with ${o.handedBack}. ${FIX_AT_THE_SOURCE}`;
  const passedOver = o.marked ? `the slot is marked as uid ${o.left[0].uid}'s, and jobs of uid ${o.uid} pass it over` : 'jobs of this uid pass the slot over';
  const then =
    o.layout === 'job'
      ? "removing the directory leaves them in trash for 'cargo-isolate gc' run as root."
      : `${passedOver} until a root job or 'cargo-isolate gc' run as root hands it back.`;
  return `${what} Could not hand them back (${o.failed.join('; ')}); ${then} ${FIX_AT_THE_SOURCE}`;
}

/**
 * Another uid's files under `base` (as `find` sees them), handed back to this uid by the first
 * method that works; undefined when there are none. What was found first, what is left, how it
 * went back or why each method failed.
 */
async function handBackTree(
  root: string,
  base: string,
  find: () => Promise<Owned[]>,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
): Promise<{ first: Owned[]; found: Owned[]; handedBack?: Method; failed: string[] } | undefined> {
  const uid = myUid();
  let found = await find();
  if (found.length === 0) return undefined;
  const first = found;
  const to = { uid, gid: process.getegid?.() ?? uid };
  const failed: string[] = [];
  const path = env.PATH ?? '';
  for (const m of handBackMethods(uid, found.length, { sudo: await onPath('sudo', path), docker: await onPath('docker', path) })) {
    const r = await (m === 'sudo' ? bySudo(base, to, timeoutMs) : byDocker(root, base, to, timeoutMs));
    found = await find();
    if (found.length === 0) return { first, found, handedBack: m, failed };
    failed.push(`${m}: ${r.ok ? "ran, but the files are still another uid's" : r.detail}`);
  }
  if (failed.length === 0) failed.push('neither sudo nor a docker client is on PATH');
  return { first, found, failed };
}

/**
 * Post step of a job that is not root, under its lease: finds another uid's files where cargo
 * writes, hands them back, or (layout slot) marks the slot. Undefined when there are none.
 * `root` bounds the docker mount: the directory mounted must be the real one under the root.
 */
export async function settleForeign(
  root: string,
  dirs: Dirs,
  layout: 'slot' | 'job',
  name: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ForeignOutcome | undefined> {
  const uid = myUid();
  const h = await handBackTree(root, dirs.base, () => findForeign(dirs, uid), timeoutMs, env);
  if (!h) return undefined;
  const { first, found, handedBack, failed } = h;
  const marked = !handedBack && layout === 'slot' && (await markForeign(dirs, found));
  return { found: first, handedBack, marked, failed, message: foreignMessage({ uid, layout, name, first, left: found, handedBack, failed, marked }) };
}

/**
 * The same for the CARGO_HOME a uid's trusted jobs share (cargo-home.ts), which a `docker run`
 * step as root can reach when it mounts the `cargo-home` output: hand another uid's files back,
 * or say that this uid's jobs use a private home in their slots until root's gc hands them back
 * (the next job finds them and does so by itself: cargo-home.ts, sharedHomeProblem).
 */
export async function settleForeignHome(
  root: string,
  home: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ForeignOutcome | undefined> {
  const uid = myUid();
  const h = await handBackTree(root, home, () => findForeignInHome(home, uid), timeoutMs, env);
  if (!h) return undefined;
  const { first, handedBack, failed } = h;
  const what =
    `A step left files of ${describeForeign(first)} in ${home}, the CARGO_HOME the trusted jobs of uid ${uid} share, ` +
    'where their cargo must write: a `docker run` step as root?';
  const then = handedBack
    ? `Handed them back to uid ${uid} with ${handedBack}.`
    : `Could not hand them back (${failed.join('; ')}); ` +
      `jobs of uid ${uid} use a private CARGO_HOME in their slots until 'cargo-isolate gc' run as root hands them back.`;
  const message = `${what} ${then} ${FIX_AT_THE_SOURCE}`;
  return { found: first, handedBack, marked: false, failed, message };
}
