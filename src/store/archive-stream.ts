import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { type Piped, spawnFed, spawnPiped } from '../os/pipe.js';

/*
 * A dependency archive's bytes: a POSIX tar (GNU tar: nanosecond mtimes in pax headers, which
 * cargo's fingerprints compare; hardlinks kept; owners left to the extracting uid) compressed
 * with zstd at level 3, hashed with sha256 as it is written and as it is read.
 *
 * Two zstd engines make the same format:
 *   zstd   the system's `zstd` (Debian and Ubuntu runner images ship it), on every Node, with a
 *          thread per core (-T0). The default: on the bench's 186-crate workspace (bench 11a,
 *          165 MiB archives, load 2-7 on 2 cores) it saved in 2.7 s against Node's 3.9 s (layout
 *          v1) and 1.7 s against 3.3 s (v2), restored in 2.1 s against 3.5 s (v1) and 3.6 s
 *          against 3.1 s (v2), made the same bytes within 2%, and it is there where the runner
 *          hooks run on Node 20.
 *   node   Node's own zlib (22.15+/23.8+, so Node 24 runs it and Node 20 does not): no process,
 *          one thread (nodeCompressor says why), and where no `zstd` is installed, the way left.
 * The tar is GNU tar's either way: its mtimes, hardlinks and path checks are what a restore needs.
 */
export type Compressor = 'zstd' | 'node';

/** True when this Node's zlib speaks zstd. */
export const nodeHasZstd = (): boolean => typeof (zlib as { createZstdCompress?: unknown }).createZstdCompress === 'function';

/** Pure: which engine compresses, given what the host has; undefined: neither (no archive then). */
export function chooseCompressor(has: { zstdOnPath: boolean; nodeZstd: boolean }, wanted?: Compressor): Compressor | undefined {
  if (wanted === 'zstd' && has.zstdOnPath) return 'zstd';
  if (wanted === 'node' && has.nodeZstd) return 'node';
  return has.zstdOnPath ? 'zstd' : has.nodeZstd ? 'node' : undefined;
}

export interface Written {
  sha256: string;
  bytes: number;
}

/** A pass-through that hashes what flows through it (sha256) and counts its bytes. */
export function hashing(): { t: Transform; result: () => Written } {
  const h = createHash('sha256');
  let bytes = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  return { t, result: () => ({ sha256: h.digest('hex'), bytes }) };
}

/** Reads of 1 MiB: a sixteenth of the read calls of Node's default, for a file of hundreds of MiB. */
const READ_CHUNK = 1 << 20;

/**
 * The checksum and size of a file, read once. Given an open handle, it reads at explicit offsets
 * (pread), so a command reading the same open file (unpackTar's zstd) keeps its own offset.
 */
export async function digestFile(file: string | FileHandle): Promise<Written> {
  const hash = hashing();
  const from = typeof file === 'string' ? createReadStream(file, { highWaterMark: READ_CHUNK }) : readAt0(file);
  await pipeline(from, hash.t, new Writable({ write: (_c, _e, cb) => cb() }));
  return hash.result();
}

/** A stream of an open file from its first byte, by positional reads, leaving the handle open. */
const readAt0 = (fh: FileHandle) => createReadStream('', { fd: fh, start: 0, autoClose: false, highWaterMark: READ_CHUNK });

/** Pure: how the bytes read of `file` differ from what was saved, or undefined when they match. */
export function digestMismatch(saved: Written, read: Written, file: string): { reason: 'truncated' | 'altered'; detail: string } | undefined {
  if (read.bytes !== saved.bytes) return { reason: 'truncated', detail: `${file} has ${read.bytes} bytes, ${saved.bytes} were saved` };
  if (read.sha256 !== saved.sha256)
    return {
      reason: 'altered',
      detail: `${file} does not match the sha256 saved beside it (${saved.sha256.slice(0, 12)}…, read ${read.sha256.slice(0, 12)}…)`,
    };
  return undefined;
}

/**
 * Node's zstd on one thread: with ZSTD_c_nbWorkers set, Node 24.9's stream fails midway
 * ("stream.push() after EOF") once its input comes in many chunks (measured with a tar of a
 * build dir), so the system's `zstd -T0` is the only one that uses every core.
 */
const nodeCompressor = (): Transform => zlib.createZstdCompress({ params: { [zlib.constants.ZSTD_c_compressionLevel]: 3 } });

/** The first line that says what went wrong (tar ends with a line that says only that it failed). */
const firstError = (stderr: string): string =>
  stderr
    .trim()
    .split('\n')
    .filter((l) => l && !/Exiting with failure status/.test(l))
    .slice(0, 2)
    .join('; ');

const failed = (step: string, r: Awaited<Piped['done']>): string | undefined =>
  r.error
    ? `${step} could not start: ${r.error.message}`
    : r.code !== 0
      ? `${step} ${r.signal ? `was killed by ${r.signal}` : `exited with ${r.code}`}: ${firstError(r.stderr)}`
      : undefined;

/**
 * Writes a tar of `files` (paths relative to `dir`, directories not recursed) compressed into
 * `out`, and says its checksum and size. Throws with the step that failed (tar, zstd, the write).
 */
export async function packTar(dir: string, files: string[], out: string, compressor: Compressor, timeoutMs: number): Promise<Written> {
  // --directory before --files-from: GNU tar applies it to the names that follow it only.
  const tarArgs = ['--create', '--file=-', '--format=posix', '--pax-option=delete=atime,delete=ctime', '--numeric-owner', `--directory=${dir}`];
  const tar = spawnPiped('tar', [...tarArgs, '--no-recursion', '--null', '--files-from=-'], timeoutMs);
  tar.stdin.end(files.map((f) => `${f}\0`).join(''));
  // zstd reads tar's output in the kernel: only the compressed bytes (a fifth) pass through here, to be hashed.
  const z = compressor === 'zstd' ? spawnFed('zstd', ['-3', '-T0', '-q', '-c'], tar.stdout, timeoutMs) : undefined;
  const hash = hashing();
  const write = createWriteStream(out, { mode: 0o644 });
  try {
    if (z) await pipeline(z.stdout, hash.t, write);
    else await pipeline(tar.stdout, nodeCompressor(), hash.t, write);
  } catch (e) {
    // The first failure says why; the commands stopped after it say only that they were stopped.
    const first = (e as Error).message;
    const [t, zd] = [await Promise.race([tar.done, Promise.resolve(undefined)]), z && (await Promise.race([z.done, Promise.resolve(undefined)]))];
    tar.kill();
    z?.kill();
    const why = (t && failed('tar', t)) ?? (zd && failed('zstd', zd));
    throw new Error(`writing ${out}: ${why ?? first}`);
  }
  const why = failed('tar', await tar.done) ?? (z && failed('zstd', await z.done));
  if (why) throw new Error(`writing ${out}: ${why}`);
  return hash.result();
}

/** What unpackTar did: the checksum of what it read (undefined: the file could not be read) and why the extraction failed, if it did. */
export interface Unpacked {
  read?: Written;
  failed?: string;
}

/**
 * Extracts `file` (zstd, then `tar --extract`) into the directory `into`, and says the checksum of
 * the file as it read it: the caller compares it before anything leaves `into`. Never throws.
 *
 * The checksum is taken beside the extraction, not in its way: zstd reads the open file itself
 * and writes into tar's stdin, and this process hashes the same open file by positional reads
 * (one inode, whatever happens to its path). When the checksum is known not to be `expected`'s,
 * zstd and tar are stopped: an altered archive is never extracted to its end. tar reads 128 KiB
 * records (a tenth of the read and write calls of its default 10 KiB), gathered whole from the
 * pipe; --ignore-zeros makes it read to the end of its input, so zstd never meets a closed pipe.
 */
export async function unpackTar(file: string, into: string, compressor: Compressor, timeoutMs: number, expected?: Written): Promise<Unpacked> {
  let fh: FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch (e) {
    return { failed: `reading ${file}: ${(e as Error).message}` };
  }
  try {
    const tarArgs = ['--extract', '--ignore-zeros', '--file=-', '--blocking-factor=256', '--read-full-records', '--no-same-owner', `--directory=${into}`];
    let z: Omit<Piped, 'stdin'> | undefined;
    let tar: Omit<Piped, 'stdin'>;
    let fed: Promise<string | undefined> = Promise.resolve(undefined);
    if (compressor === 'zstd') {
      z = spawnFed('zstd', ['-d', '-q', '-c'], fh.fd, timeoutMs);
      tar = spawnFed('tar', tarArgs, z.stdout, timeoutMs);
    } else {
      const piped = spawnPiped('tar', tarArgs, timeoutMs);
      tar = piped;
      fed = pipeline(readAt0(fh), zlib.createZstdDecompress(), piped.stdin).then(
        () => undefined,
        (e: Error) => e.message,
      );
    }
    const stop = () => {
      tar.kill();
      z?.kill();
    };
    const hashed = digestFile(fh).then(
      (r) => {
        if (expected && digestMismatch(expected, r, file)) stop();
        return r;
      },
      () => undefined,
    );
    const fedWhy = await fed;
    if (fedWhy) stop();
    const [read, zd, td] = await Promise.all([hashed, z?.done, tar.done]);
    const why = (zd && failed('zstd', zd)) ?? failed('tar', td) ?? fedWhy;
    return { read, ...(why ? { failed: `reading ${file}: ${why}` } : {}) };
  } finally {
    await fh.close();
  }
}
