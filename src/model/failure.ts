/*
 * What went wrong, said one way by every entry point (the action's steps, the runner's hooks, the
 * CLI): one sentence that says what failed, on which path or input, and what to do, and a kind
 * that decides what a front end makes of it: a failed step or a warning, an exit code. A stack
 * trace is never part of it; the front ends show one only when asked (--verbose, RUNNER_DEBUG).
 *
 * The kinds, and why they differ:
 * - input: a value the user set cannot be meant (InputError, UsageError, a refused root). It is
 *   refused at once: the action fails its step, the CLI exits 2. The hooks warn instead: the
 *   operator's variables apply to every job, and a runner should not fail them all.
 * - environment: the host is not as it must be (a path that cannot be read or written, a
 *   read-only filesystem, a full disk). Housekeeping never fails a job: the action and the hooks
 *   warn and the job runs as it would without them; the CLI exits 3.
 * - floor: the disk is below `fail-below` after pruning, which the operator asked to fail on: the
 *   action and the hooks fail the job, the CLI exits 4.
 * - unexpected: anything else, a defect of cargo-isolate. Said with what was being done and how to
 *   see more; the action and the hooks warn, the CLI exits 1 (what Node exits with for a crash).
 */

export type FailureKind = 'input' | 'environment' | 'floor' | 'unexpected';

/** The CLI's exit code for each kind (docs/operations.md lists them); 0 is success. */
export const EXIT_CODES: Record<FailureKind, number> = { unexpected: 1, input: 2, environment: 3, floor: 4 };

/** A failure whose message is already the sentence an operator reads, and whose kind is known. */
export class Failure extends Error {
  constructor(
    message: string,
    readonly kind: FailureKind,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'Failure';
  }
}

/** What a failed system call tells: its code, the call and the path (Node's fs and child_process errors). */
interface Errno {
  code: string;
  syscall?: string;
  path?: string;
  dest?: string;
}

const isErrno = (e: unknown): e is Error & Errno => {
  const code = e instanceof Error ? (e as Partial<Errno>).code : undefined;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code);
};

/** What a call was doing, in words: `could not <verb> <path>`. Calls not listed are named as they are. */
const VERB: Record<string, string> = {
  open: 'open',
  read: 'read',
  write: 'write',
  'write into': 'write into',
  rename: 'rename',
  replace: 'replace',
  mkdir: 'create the directory',
  rmdir: 'remove the directory',
  unlink: 'remove',
  rm: 'remove',
  scandir: 'list',
  opendir: 'list',
  stat: 'read',
  lstat: 'read',
  statfs: 'measure the filesystem of',
  access: 'write to',
  chmod: 'change the mode of',
  chown: 'change the owner of',
  lchown: 'change the owner of',
  link: 'link',
  symlink: 'link',
  copyfile: 'copy',
  utime: 'touch',
  realpath: 'resolve',
  readlink: 'read the link',
};

/** What each error code means, and what the operator can do about it. */
const CODES: Record<string, { says: string; fix: string }> = {
  ENOENT: { says: 'it does not exist', fix: 'Create it, or choose another path' },
  ENOTDIR: { says: 'a file is in the way where a directory should be', fix: 'Move the file away, or choose another path' },
  EISDIR: { says: 'it is a directory', fix: 'Name a file' },
  EACCES: { says: 'permission denied', fix: 'Run as its owner (or root), or give this user access to it' },
  EPERM: { says: 'operation not permitted', fix: 'Run as its owner (or root), or give this user access to it' },
  EROFS: { says: 'the filesystem is read-only', fix: 'Remount it read-write, or choose a path on a writable filesystem' },
  ENOSPC: { says: 'the filesystem is full', fix: "Free space ('cargo-isolate gc' removes idle data), or choose another filesystem" },
  EDQUOT: { says: "this user's disk quota is used up", fix: 'Raise the quota, or free space' },
  EIO: { says: 'an input/output error', fix: 'Check the disk (dmesg)' },
  EMFILE: { says: 'too many open files', fix: 'Raise the limit of open files (ulimit -n)' },
  ENFILE: { says: 'too many open files on the host', fix: 'Raise fs.file-max, or end what holds them' },
  ELOOP: { says: 'too many symbolic links on the way', fix: 'Look for a link that points back at itself' },
  ENAMETOOLONG: { says: 'the path is too long', fix: 'Choose a shorter path' },
  EEXIST: { says: 'something is there already', fix: 'Move it away, or choose another path' },
  EBUSY: { says: 'it is busy (a mount point, or in use)', fix: 'Choose a path that is not a mount point' },
  EXDEV: { says: 'it is on another filesystem', fix: 'Keep the root on one filesystem' },
};

/**
 * Pure: the sentence for a failed system call: `could not <verb> <path>: <what it means> (<CODE>).
 * <What to do>.`, with `fix` instead of the code's own advice where the caller knows better.
 */
export function errnoText(e: Errno, fix?: string): string {
  const known = CODES[e.code];
  const verb = e.syscall === undefined ? undefined : (VERB[e.syscall] ?? (e.syscall.startsWith('spawn') ? 'run' : e.syscall));
  const what = verb && e.path ? `could not ${verb} ${e.path}${e.dest ? ` to ${e.dest}` : ''}: ` : e.path ? `${e.path}: ` : '';
  return `${what}${known?.says ?? 'it failed'} (${e.code}). ${fix ?? known?.fix ?? 'Check the path and its permissions'}.`;
}

/**
 * A failure of the host, with what was being done: `Writing the metrics to F: could not write
 * into D: it does not exist (ENOENT). Create the directory, or choose another --output.` (`fixes`:
 * the caller's own advice for some codes, where it knows better than the code's). Its
 * message is whole wherever it is printed; `cause` keeps the original error for a debug log.
 * Anything not a failed system call is unexpected (or keeps the kind it had) and is said with
 * the doing in front.
 */
export function failed(doing: string, e: unknown, o: { fixes?: Partial<Record<string, string>> } = {}): Failure {
  if (isErrno(e)) return new Failure(`${doing}: ${errnoText(e, o.fixes?.[e.code])}`, 'environment', { cause: e });
  if (e instanceof Failure) return new Failure(`${doing}: ${e.message}`, e.kind, { cause: e });
  return new Failure(`${doing}: ${e instanceof Error ? e.message : String(e)}`, 'unexpected', { cause: e });
}

/** A failure as a front end reports it. */
export interface Explained {
  kind: FailureKind;
  /** One line, no stack: what failed, where, what to do. */
  message: string;
  /** The CLI's exit code (EXIT_CODES). */
  exitCode: number;
  /** The stack of the original error, for --verbose or a debug log only. */
  stack?: string;
}

/**
 * Pure: any thrown value as a front end reports it, after the front end's own words (`cargo-isolate:`,
 * `cargo-isolate job-started hook:`). `more` says how to see more of an unexpected failure in
 * this front end (`run it again with --verbose`).
 */
export function explain(e: unknown, o: { more: string }): Explained {
  const stack = stackOf(e);
  // A Failure's message is written whole by the code that throws it (a value with a newline in it included).
  if (e instanceof Failure) return { kind: e.kind, message: e.message, exitCode: EXIT_CODES[e.kind], stack };
  if (isErrno(e)) return { kind: 'environment', message: errnoText(e), exitCode: EXIT_CODES.environment, stack };
  const what = e instanceof Error ? e.message : String(e);
  return {
    kind: 'unexpected',
    message: oneLine(`an unexpected failure: ${what.replace(/\.$/, '')}. This is a defect of cargo-isolate: ${o.more}, and report it`) + '.',
    exitCode: EXIT_CODES.unexpected,
    stack,
  };
}

/** Every stack along the chain of causes: the debug log's whole story. */
function stackOf(e: unknown): string | undefined {
  const parts: string[] = [];
  for (let x = e, depth = 0; x instanceof Error && depth < 5; x = x.cause, depth++) parts.push(x.stack ?? String(x));
  return parts.length ? parts.join('\ncaused by: ') : undefined;
}

/** Another module's message is made one line (a workflow command, a log line): a second line would read like a second message. */
const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ').trim();
