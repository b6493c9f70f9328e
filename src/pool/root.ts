import { constants, promises as fs } from 'node:fs';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { MARKER, rootPaths } from '../model/layout.js';
import { type Origin, subjectOf } from '../model/settings.js';
import { unreliableFlockRoot } from '../model/messages.js';
import { chownTree, handBackTo, ownerOf, ownersOf } from '../owners/owner.js';
import { myUid } from '../os/proc.js';
import { ifPresent, lstatIfPresent } from '../os/absent.js';
import { Failure, errnoText } from '../model/failure.js';

/*
 * The root every slot, store and lock lives under: which paths are refused as roots (system
 * directories, $HOME, the workspace, a directory cargo-isolate did not make), which filesystems'
 * flock cannot be trusted, and making a root ready with its marker and skeleton.
 */

/** Directories that must never be a root themselves (the whole tree would be ours to delete). */
const EXACT = ['/', '/home', '/root', '/tmp', '/var', '/var/tmp', '/var/lib', '/opt', '/mnt', '/media', '/srv', '/run', '/usr/local'];
/** Trees that must never contain a root. */
const UNDER = ['/proc', '/sys', '/dev', '/etc', '/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/boot'];

/** A root refused (kind 'input': the path cannot be meant) or that cannot be used here (kind 'environment': not writable). */
export class RootError extends Failure {
  constructor(message: string, kind: 'input' | 'environment' = 'input') {
    super(message, kind);
    this.name = 'RootError';
  }
}

/** The root does not exist yet: nothing to show or prune, which is no error for `status` or `gc`. */
export class RootMissingError extends RootError {
  constructor(
    message: string,
    readonly root: string,
  ) {
    super(message);
    this.name = 'RootMissingError';
  }
}

/** Whether a root cargo-isolate made is at this path: its marker file is there. */
export const isMadeRoot = async (root: string): Promise<boolean> => (await lstatIfPresent(rootPaths(root).marker))?.isFile() ?? false;

const within = (path: string, dir: string) => path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);

/** Pure: why this (already resolved) path may not be a root, or undefined when it may. */
export function refuseRoot(path: string, env: Record<string, string | undefined>): string | undefined {
  if (!isAbsolute(path)) return 'it is not an absolute path';
  if (EXACT.includes(path) || UNDER.some((d) => within(path, d))) return 'it is a system directory';
  const home = env.HOME;
  if (home && path === resolve(home)) return 'it is the home directory';
  for (const [name, dir] of [
    ['RUNNER_TEMP', env.RUNNER_TEMP],
    ['GITHUB_WORKSPACE', env.GITHUB_WORKSPACE],
  ] as const) {
    if (dir && within(path, resolve(dir))) {
      return `it is inside ${name} (${dir}), which the runner or actions/checkout empties`;
    }
  }
  return undefined;
}

/** statfs(2) f_type of filesystems where flock(2) does not exclude across hosts or VMs. */
const UNRELIABLE_FLOCK: Record<number, string> = {
  0x6969: 'NFS',
  0xff534d42: 'CIFS/SMB',
  0xfe534d42: 'SMB2',
  0x65735546: 'FUSE (e.g. Docker Desktop file sharing)',
  0x47504653: 'GPFS',
  0x0bd00bd0: 'Lustre',
};

/** Pure: the warning for a root on a filesystem of this type, whose leases cannot be trusted; undefined for any other. */
export function unreliableFlock(root: string, fsType: number): string | undefined {
  const name = UNRELIABLE_FLOCK[fsType >>> 0];
  return name && unreliableFlockRoot(root, name, fsType);
}

/** Resolves symlinks in the part of the path that exists, so `/data -> /` is seen as `/`. */
async function realpathLoose(path: string): Promise<string> {
  let head = path;
  const tail: string[] = [];
  for (;;) {
    try {
      return join(await fs.realpath(head), ...tail.reverse());
    } catch {
      const parent = dirname(head);
      if (parent === head) return path;
      tail.push(head.slice(parent.length).replace(/^\//, ''));
      head = parent;
    }
  }
}

/** The real reason a path cannot be made: recursive mkdir reports ENOENT even on a read-only fs. */
async function blame(path: string): Promise<NodeJS.ErrnoException | undefined> {
  for (let p = path; ; p = dirname(p)) {
    if (
      await fs.stat(p).then(
        () => true,
        () => false,
      )
    ) {
      return fs.access(p, constants.W_OK).then(
        () => undefined,
        (e: NodeJS.ErrnoException) => e,
      );
    }
    if (dirname(p) === p) return undefined;
  }
}

/**
 * Validates the root and creates its skeleton. Returns the resolved root path.
 * Refuses a directory that holds other files and was not made by cargo-isolate: gc would
 * otherwise manage (and could delete) data that was never ours.
 */
export async function prepareRoot(
  raw: string,
  env: Record<string, string | undefined>,
  create = true,
  origin: Origin = { kind: 'input', name: 'root' },
): Promise<string> {
  const input = `${subjectOf(origin)} is '${raw}'`;
  if (!isAbsolute(raw)) throw new RootError(`${input}. Expected an absolute path (e.g. /mnt/ci-cache/cargo-isolate).`);
  const root = await realpathLoose(resolve(raw));
  const why = refuseRoot(root, env);
  if (why)
    throw new RootError(
      `${input}${root !== raw ? ` (resolves to ${root})` : ''}: refused because ${why}. Choose a dedicated directory such as /mnt/ci-cache/cargo-isolate.`,
    );
  const st = await ifPresent(root, () => fs.stat(root), { notADirectory: 'absent' });
  if (st && !st.isDirectory()) throw new RootError(`${input}: it exists and is not a directory. Remove it or choose another path.`);
  const p = rootPaths(root);
  if (st) {
    // One readdir is one snapshot: a job making this root writes the marker before anything
    // else, so a snapshot with any other entry but no marker is not ours.
    const entries = (await fs.readdir(root)).filter((e) => e !== 'lost+found');
    if (!entries.includes(MARKER)) {
      if (entries.length > 0) {
        throw new RootError(
          `${input}: the directory is not empty and was not created by cargo-isolate ` +
            `(no ${MARKER}; found ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''}). Use an empty or new directory.`,
        );
      }
    }
  } else if (!create) {
    throw new RootMissingError(`${input}: it does not exist (nothing to manage yet).`, root);
  }
  if (!create) return root;
  try {
    await fs.mkdir(root, { recursive: true });
    await fs.access(root, constants.W_OK);
    // The marker comes before anything else: a second job making the same new root at the same
    // moment then sees either an empty directory or a marked one, never an unmarked skeleton.
    await fs.writeFile(p.marker, JSON.stringify({ format: 1 }) + '\n', { flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
    const skeleton = [p.locks, p.slots, p.jobs, p.trash, p.crates];
    for (const d of skeleton) await fs.mkdir(d, { recursive: true });
    // Shared by every job on the host: a root job gives it back at once, not in its post step,
    // or a runner-user job starting meanwhile could not create its lock file or slot.
    const to = handBackTo(myUid(), await ownerOf(root));
    if (to && (await ownersOf([p.marker, ...skeleton])).some((u) => u !== to.uid)) await chownTree([p.marker, ...skeleton], to, false);
  } catch (e) {
    const err = (await blame(root)) ?? (e as NodeJS.ErrnoException);
    // The host's doing, not the value's: the path may be right, and this user or mount wrong.
    const fix = err.code === 'EACCES' || err.code === 'EPERM' ? 'Give the runner user write access, or choose another path' : undefined;
    if (!err.code) throw e;
    throw new RootError(
      `${input}: cannot create or write it: ${errnoText({ code: err.code, syscall: err.syscall, path: err.path ?? root }, fix)}`,
      'environment',
    );
  }
  return root;
}
