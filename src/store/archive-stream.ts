import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { type Piped, spawnPiped } from '../os/pipe.js';

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
  const z = compressor === 'zstd' ? spawnPiped('zstd', ['-3', '-T0', '-q', '-c'], timeoutMs) : undefined;
  const hash = hashing();
  const write = createWriteStream(out, { mode: 0o644 });
  try {
    if (z) await Promise.all([pipeline(tar.stdout, z.stdin), pipeline(z.stdout, hash.t, write)]);
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

/**
 * Streams `file` through zstd and `tar --extract` into the directory `into`, and says the
 * checksum of the bytes it read: the caller compares it before anything leaves `into`. Throws
 * with the step that failed (a truncated file fails in zstd or tar).
 */
export async function unpackTar(file: string, into: string, compressor: Compressor, timeoutMs: number): Promise<Written> {
  // --ignore-zeros: tar reads to the end of its input instead of leaving at the end-of-archive
  // blocks, so the last bytes are hashed too and the writer never meets a closed pipe.
  const tar = spawnPiped('tar', ['--extract', '--ignore-zeros', '--file=-', '--no-same-owner', `--directory=${into}`], timeoutMs);
  const z = compressor === 'zstd' ? spawnPiped('zstd', ['-d', '-q', '-c'], timeoutMs) : undefined;
  const hash = hashing();
  try {
    if (z) await Promise.all([pipeline(createReadStream(file), hash.t, z.stdin), pipeline(z.stdout, tar.stdin)]);
    else await pipeline(createReadStream(file), hash.t, zlib.createZstdDecompress(), tar.stdin);
  } catch (e) {
    tar.kill();
    z?.kill();
    const why = (z && failed('zstd', await z.done)) ?? failed('tar', await tar.done);
    throw new Error(`reading ${file}: ${why ?? (e as Error).message}`);
  }
  const why = (z && failed('zstd', await z.done)) ?? failed('tar', await tar.done);
  if (why) throw new Error(`reading ${file}: ${why}`);
  return hash.result();
}
