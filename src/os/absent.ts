import { AsyncLocalStorage } from 'node:async_hooks';
import { type Dirent, type Stats, promises as fs, readdirSync } from 'node:fs';
import type { Log } from './log.js';

/*
 * Reads that may find nothing. A cache's directories and files are often not there (a slot never
 * used, a store not made yet, a process gone from /proc), and ENOENT is read as absence. So is
 * ENOTDIR where the caller says a file in the way means the same. Any other failure (EACCES:
 * another uid's files; EIO: a failing disk) is read as absence too, so that a job carries on, but
 * it is not absence: a guard that cannot list a directory frees nothing there. So it is said, once
 * per path and error, where the operator sees it: through the log of the job or command running
 * (reportReadsTo: the job's start and end, the hooks and every CLI command install it; a warning
 * annotation in the action, stderr for the CLI), else on stderr.
 *
 * Why a context rather than a Log parameter: these reads sit deep in modules called from many
 * places (a slot scan, the guard's candidates, a store walk); AsyncLocalStorage reaches every one
 * of them without a parameter threaded through each, and two jobs in one process (the tests) each
 * keep their own.
 */

interface Reporting {
  log: Pick<Log, 'warning'>;
  said: Set<string>;
}

const reporting = new AsyncLocalStorage<Reporting>();
/** Where problems go outside any job or command (a module used on its own): stderr, still once each. */
const outside: Reporting = { log: { warning: (m) => void process.stderr.write(`cargo-isolate: warning: ${m}\n`) }, said: new Set() };

/**
 * Runs `fn` with the problems of its reads said through `log`. Inside another such run the outer
 * one keeps them: each is said once, in the log of what began the run.
 */
export function reportReadsTo<T>(log: Pick<Log, 'warning'>, fn: () => Promise<T>): Promise<T> {
  return reporting.getStore() ? fn() : reporting.run({ log, said: new Set() }, fn);
}

/** Pure: the warning for a read that failed other than by absence. */
export function readProblem(path: string, e: NodeJS.ErrnoException): string {
  const what = e.code ? `${e.code}${e.syscall ? ` (${e.syscall})` : ''}` : e.message;
  return (
    `Could not read ${path}: ${what}. Carrying on as if it were not there, ` +
    'so nothing in it is used or freed until it can be read: check its owner and mode, or the disk.'
  );
}

/** Whether a failed read means that nothing is there. */
function isAbsence(e: NodeJS.ErrnoException, o: ReadOptions): boolean {
  return e.code === 'ENOENT' || (e.code === 'ENOTDIR' && o.notADirectory === 'absent') || (o.alsoAbsent?.includes(e.code ?? '') ?? false);
}

export interface ReadOptions {
  /** 'absent': a file where a directory should be (or on the way to it) means nothing is there. */
  notADirectory?: 'absent';
  /** Other codes that mean absence at this site, each with a reason where it is passed (/proc's). */
  alsoAbsent?: string[];
}

/** A read of `path` failed: nothing when that means absence, else said once (above). */
function failed(path: string, e: unknown, o: ReadOptions): undefined {
  const err = e as NodeJS.ErrnoException;
  if (isAbsence(err, o)) return undefined;
  const r = reporting.getStore() ?? outside;
  const key = `${path}\0${err.code ?? err.message}`;
  if (!r.said.has(key)) {
    r.said.add(key);
    r.log.warning(readProblem(path, err));
  }
  return undefined;
}

/** The result of `read`, or undefined when `path` is not there (or could not be read: said once, above). */
export async function ifPresent<T>(path: string, read: () => Promise<T>, o: ReadOptions = {}): Promise<T | undefined> {
  try {
    return await read();
  } catch (e) {
    return failed(path, e, o);
  }
}

/** The same for the synchronous reads of the units count and the view (warmth.ts, view.ts). */
export function ifPresentSync<T>(path: string, read: () => T, o: ReadOptions = {}): T | undefined {
  try {
    return read();
  } catch (e) {
    return failed(path, e, o);
  }
}

/** The names in a directory; none when it is not there. */
export const listDir = async (dir: string, o?: ReadOptions): Promise<string[]> => (await ifPresent(dir, () => fs.readdir(dir), o)) ?? [];

/** The entries of a directory with their types; none when it is not there. */
export const listDirents = async (dir: string, o?: ReadOptions): Promise<Dirent[]> =>
  (await ifPresent(dir, () => fs.readdir(dir, { withFileTypes: true }), o)) ?? [];

/** The same, synchronously. */
export const listDirSync = (dir: string, o?: ReadOptions): string[] => ifPresentSync(dir, () => readdirSync(dir), o) ?? [];

/** The same, synchronously. */
export const listDirentsSync = (dir: string, o?: ReadOptions): Dirent[] => ifPresentSync(dir, () => readdirSync(dir, { withFileTypes: true }), o) ?? [];

/** What is at a path, links not followed; undefined when nothing is (a file on the way counts as nothing). */
export const lstatIfPresent = (path: string): Promise<Stats | undefined> => ifPresent(path, () => fs.lstat(path), { notADirectory: 'absent' });

/** A file's text; undefined when it is not there. */
export const readTextIfPresent = (path: string, o?: ReadOptions): Promise<string | undefined> => ifPresent(path, () => fs.readFile(path, 'utf8'), o);

/** A file's bytes; undefined when it is not there. */
export const readBytesIfPresent = (path: string): Promise<Buffer | undefined> => ifPresent(path, () => fs.readFile(path));

/** Whether a real directory is at a path (a link to one is not); false when nothing is. */
export const isDirAt = async (path: string): Promise<boolean> => (await lstatIfPresent(path))?.isDirectory() ?? false;
