import { gunzipSync } from 'node:zlib';

/*
 * A `.crate` file read the way cargo unpacks it (rust-lang/cargo src/cargo/sources/registry/mod.rs,
 * `unpack`, over the `tar` crate's `Entry::unpack_in`), without a tar library in the bundle:
 *
 * - a gzipped tar whose every entry lies under `<name>-<version>/` (cargo refuses the crate
 *   otherwise: "invalid tarball downloaded, contains a file at ... which isn't under ...");
 * - ustar headers with their `prefix`, GNU long names and link names ('L', 'K'), pax `path`,
 *   `linkpath` and `size` records ('x'; a global 'g' header is skipped);
 * - an entry named `.cargo-ok` (cargo's own marker) is skipped, as cargo skips it;
 * - a path with a `..` component is skipped, a leading `/` or `.` component dropped (the tar
 *   crate's `unpack_in` does both);
 * - modes are the header's permission bits, mtimes the header's (0 becomes 1, as the tar crate
 *   sets them), and cargo then stamps its generated files (GENERATED) with one fixed mtime.
 */

export interface CrateEntry {
  /** Relative to the crate's directory, `/`-separated, never empty, never with `..`. */
  path: string;
  kind: 'file' | 'dir' | 'symlink';
  /** Permission bits of the header (0o777 at most). */
  mode: number;
  /** Seconds since the epoch, as cargo leaves the extracted file (GENERATED_MTIME for its generated files). */
  mtime: number;
  /** A file's bytes (a hard link in the archive: the bytes of the file it names). */
  data?: Buffer;
  /** A symlink's target, verbatim. */
  target?: string;
}

/** Files cargo writes into a `.crate` itself; cargo 1.93+ stamps them with this mtime after unpacking. */
export const GENERATED = ['Cargo.lock', 'Cargo.toml', '.cargo_vcs_info.json'];
export const GENERATED_MTIME = 1153704088;

/** cargo's marker of a complete extraction (the `.cargo-ok` file's content since cargo 1.71). */
export const CARGO_OK = '.cargo-ok';
export const CARGO_OK_TEXT = '{"v":1}';

export class CrateFormatError extends Error {}

const text = (b: Buffer, from: number, len: number): string => {
  const s = b.subarray(from, from + len);
  const nul = s.indexOf(0);
  return (nul < 0 ? s : s.subarray(0, nul)).toString('utf8');
};

/** A numeric header field: octal text, or base-256 when its high bit is set (GNU, for large values). */
function num(b: Buffer, from: number, len: number): number {
  if (b[from] & 0x80) {
    let v = b[from] & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[from + i];
    return v;
  }
  const t = text(b, from, len).trim();
  return t === '' ? 0 : parseInt(t, 8);
}

/** pax records: `<len> <key>=<value>\n`, repeated. */
function paxRecords(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const len = parseInt(data.subarray(at, space).toString('ascii'), 10);
    if (!(len > 0)) break;
    const rec = data.subarray(space + 1, at + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    at += len;
  }
  return out;
}

/** Pure: a path as the tar crate places it under the unpack directory, or undefined when it is skipped. */
function cleanPath(raw: string): string[] | undefined {
  const parts: string[] = [];
  for (const p of raw.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') return undefined;
    parts.push(p);
  }
  return parts;
}

/**
 * Pure: the entries of a `.crate` (gzipped) for the crate directory `top` (`<name>-<version>`),
 * relative to it. Throws CrateFormatError for what cargo would refuse to unpack.
 */
export function readCrate(gz: Buffer, top: string): CrateEntry[] {
  let tar: Buffer;
  try {
    tar = gunzipSync(gz);
  } catch (e) {
    throw new CrateFormatError(`not a gzip stream (${(e as Error).message})`);
  }
  const out: CrateEntry[] = [];
  const files = new Map<string, Buffer>();
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  for (let at = 0; at + 512 <= tar.length;) {
    const h = tar.subarray(at, at + 512);
    if (h.every((x) => x === 0)) break; // the end: two zero blocks (one is enough to stop)
    const type = String.fromCharCode(h[156] || 0x30);
    const size = pax.size !== undefined ? Number(pax.size) : num(h, 124, 12);
    const data = tar.subarray(at + 512, at + 512 + size);
    if (data.length < size) throw new CrateFormatError(`truncated archive (an entry of ${size} bytes at offset ${at})`);
    at += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') longName = text(data, 0, data.length);
    else if (type === 'K') longLink = text(data, 0, data.length);
    else if (type === 'x') pax = { ...pax, ...paxRecords(data) };
    else if (type === 'g') continue;
    else {
      const ustar = text(h, 257, 6) === 'ustar' && h[262] === 0; // POSIX ustar: a prefix field; GNU's "ustar  " has none
      const name = pax.path ?? longName ?? (ustar && text(h, 345, 155) ? `${text(h, 345, 155)}/${text(h, 0, 100)}` : text(h, 0, 100));
      const link = pax.linkpath ?? longLink ?? text(h, 157, 100);
      longName = longLink = undefined;
      pax = {};
      if (name !== top && !name.startsWith(`${top}/`)) {
        throw new CrateFormatError(`the archive holds ${JSON.stringify(name)}, which is not under ${top}/`);
      }
      const parts = cleanPath(name);
      if (!parts || parts.length === 0 || parts[0] !== top) continue;
      const rel = parts.slice(1).join('/');
      if (rel === '' || parts[parts.length - 1] === CARGO_OK) continue; // the top itself; cargo's own marker
      const mode = num(h, 100, 8) & 0o777;
      const mtime = GENERATED.includes(rel) ? GENERATED_MTIME : num(h, 136, 12) || 1;
      if (type === '5') out.push({ path: rel, kind: 'dir', mode, mtime });
      else if (type === '2') out.push({ path: rel, kind: 'symlink', mode, mtime, target: link });
      else if (type === '1') {
        const linked = cleanPath(link);
        const bytes = linked && files.get(linked.slice(1).join('/'));
        if (!bytes) throw new CrateFormatError(`the hard link ${rel} names ${link}, which is not a file before it in the archive`);
        files.set(rel, bytes);
        out.push({ path: rel, kind: 'file', mode, mtime, data: bytes });
      } else if (type === '0' || type === '7' || h[156] === 0) {
        files.set(rel, data);
        out.push({ path: rel, kind: 'file', mode, mtime, data });
      }
      // Devices, FIFOs and the like: the tar crate would make them; a crate never ships one.
    }
  }
  return out;
}

/**
 * Pure: every path of the extracted tree with what must be there: the entries, the directories
 * they imply (the tar crate makes missing parents), and cargo's marker. The last entry for a
 * path wins, as unpacking over it would.
 */
export function expectedTree(entries: CrateEntry[]): Map<string, CrateEntry> {
  const tree = new Map<string, CrateEntry>();
  for (const e of entries) {
    const parts = e.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!tree.has(dir)) tree.set(dir, { path: dir, kind: 'dir', mode: 0o755, mtime: 0 });
    }
    tree.set(e.path, e);
  }
  tree.set(CARGO_OK, { path: CARGO_OK, kind: 'file', mode: 0o644, mtime: 0, data: Buffer.from(CARGO_OK_TEXT) });
  return tree;
}
