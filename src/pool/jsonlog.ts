import { constants, promises as fs } from 'node:fs';
import { handBackTo, ownerOf } from '../owners/owner.js';
import { myUid } from '../os/proc.js';
import { ifPresent, lstatIfPresent } from '../os/absent.js';
import { Failure } from '../model/failure.js';

/*
 * The root's small append-only logs (warmth.jsonl, events.jsonl), one line per event, written
 * by jobs that share nothing but the root, and read by `status` and `metrics`.
 *
 * Each line is one write(2) on an O_APPEND descriptor, so concurrent writers never interleave
 * within a line. A line torn by a full disk or a kill is skipped by the reader, and the next line
 * is recovered even when glued to the torn one. When the file passes LOG_MAX bytes, the writer
 * that noticed renames it to `.1` (replacing the older generation), so a log stays within
 * 2 x LOG_MAX. Two writers rotating at once can drop one generation early: a statistic may lose
 * old lines, never gain wrong ones. Every line starts with `{"t":"` (its ISO time), which is how
 * a reader finds the start of a whole line after a torn one.
 */
export const LOG_MAX = 256 * 1024;

const LINE_START = '{"t":"';

/**
 * Appends one line; rotates past LOG_MAX. Throws: the caller turns it into a warning. A build
 * runs as this uid and can replace the file: with a symlink (O_NOFOLLOW refuses it), a FIFO
 * (O_NONBLOCK: no hang) or a hard link to a file outside the root (refused by its link count),
 * so a root job never writes or chowns anything but this root's own log.
 */
export async function appendLine(root: string, path: string, e: { t: string }): Promise<void> {
  const { t, ...rest } = e;
  const h = await fs.open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o644);
  let st;
  try {
    const before = await h.stat();
    if (!before.isFile() || before.nlink !== 1)
      throw new Failure(`${path} is not a plain file of its own (${before.nlink} links); remove it, the next job starts a new history`, 'environment');
    await h.write(JSON.stringify({ t, ...rest }) + '\n');
    st = await h.stat();
    // A root job on a root owned by the runner's user: the next host job must be able to append.
    const to = handBackTo(myUid(), await ownerOf(root));
    if (to && st.uid !== to.uid) await h.chown(to.uid, to.gid);
  } finally {
    await h.close();
  }
  if (st.size > LOG_MAX) {
    // Rotate only the file this job wrote to: another writer may have rotated it already.
    const now = await lstatIfPresent(path);
    if (now?.ino === st.ino) await fs.rename(path, `${path}.1`);
  }
}

/** Pure: the objects of a log's text that `accept` recognises; torn and foreign lines are skipped. */
export function parseLines<T>(text: string, accept: (o: Record<string, unknown>) => boolean): T[] {
  const out: T[] = [];
  for (const line of text.split('\n')) {
    // A torn line followed by a whole one on the same line: the whole one starts last.
    const at = line.lastIndexOf(LINE_START);
    if (at < 0) continue;
    try {
      const o = JSON.parse(line.slice(at)) as Record<string, unknown>;
      if (o && typeof o === 'object' && accept(o)) out.push(o as T);
    } catch {
      /* torn */
    }
  }
  return out;
}

/** A plain file's bytes ('' for anything else: a link, a FIFO, a missing file) and its inode. Never throws. */
async function readPlain(path: string): Promise<{ buf: Buffer; ino?: number }> {
  // ELOOP: a link, never followed, reads as nothing.
  const h = await ifPresent(path, () => fs.open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK), { alsoAbsent: ['ELOOP'] });
  if (!h) return { buf: Buffer.alloc(0) };
  try {
    const st = await h.stat();
    return st.isFile() ? { buf: await h.readFile(), ino: st.ino } : { buf: Buffer.alloc(0) };
  } catch {
    return { buf: Buffer.alloc(0) };
  } finally {
    await h.close();
  }
}

/** Both generations' text, older first. Never throws. */
export async function readLog(path: string): Promise<string> {
  const [older, current] = await Promise.all([readPlain(`${path}.1`), readPlain(path)]);
  return `${older.buf.toString('utf8')}\n${current.buf.toString('utf8')}`;
}

/** Where a reader stopped in a log: the file's inode and the byte after its last whole line read. */
export interface Cursor {
  ino: number;
  offset: number;
}

/**
 * The text appended since `cursor`, across one rotation, and the cursor to keep: what `metrics`
 * uses to turn a rotating log into counters that only grow. The current file is read up to its
 * last newline only, so a line being written is read whole next time. Without a cursor, or after
 * more than one rotation since, it reads both generations (old lines may count again once, a
 * counter reset to Prometheus; new lines are never missed). Never throws.
 */
export async function readSince(path: string, cursor?: Cursor): Promise<{ text: string; cursor?: Cursor }> {
  // The current file first: if it is rotated between the two reads, `.1` is that same file.
  const current = await readPlain(path);
  const older = await readPlain(`${path}.1`);
  const parts: Buffer[] = [];
  const same = cursor !== undefined && current.ino === cursor.ino;
  if (!same) parts.push(cursor !== undefined && older.ino === cursor.ino ? older.buf.subarray(Math.min(cursor.offset, older.buf.length)) : older.buf);
  if (current.ino === undefined) {
    // No current file (nothing written since a rotation): the older one was read to its end.
    return { text: Buffer.concat(parts).toString('utf8'), cursor: older.ino !== undefined ? { ino: older.ino, offset: older.buf.length } : cursor };
  }
  const from = same ? Math.min(cursor.offset, current.buf.length) : 0;
  const to = Math.max(from, current.buf.lastIndexOf(0x0a) + 1);
  parts.push(current.buf.subarray(from, to));
  return { text: Buffer.concat(parts).toString('utf8'), cursor: { ino: current.ino, offset: to } };
}
