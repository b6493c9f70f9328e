import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobPath, fileSha256, publishCrates } from '../src/store/crates.js';
import { blobStamps } from '../src/store/blob-stamps.js';
import { type SourcesRecord, verifiedCrates } from '../src/store/home-sources.js';
import { afterOwnWrites, settle } from '../src/os/changes.js';
import { prepareRoot } from '../src/pool/root.js';
import { makeRegistry } from '../scripts/lib/registry.mjs';
import { removeScratch } from './helpers/scratch.js';

// A job's end skips hashing what nothing changed (a shared home's verified `.crate` files, the
// store's blobs this uid found whole), and only that: a file changed in place, the same size and
// its mtime put back (what a job can do; its ctime it cannot put back), is hashed again.

let scratch: string;
let reg: ReturnType<typeof makeRegistry>;
const DIR = 'example-0123456789abcdef';
const SOURCE = 'registry+https://github.com/rust-lang/crates.io-index';

beforeAll(async () => {
  scratch = await fs.mkdtemp(join(tmpdir(), 'ci-stamps-'));
  reg = makeRegistry(join(scratch, 'registry'), { count: 3, prefix: 'stamp' });
});
afterAll(() => removeScratch(scratch));

const lockOf = () => reg.map((c) => ({ name: c.name, version: c.vers, source: SOURCE, checksum: c.cksum }));
const crateIn = (home: string, name: string) => join(home, 'registry', 'cache', DIR, `${name}-1.0.0.crate`);

/** A home holding the registry's `.crate` files as cargo downloaded them: copies, not store links. */
async function homeWithCrates(name: string): Promise<string> {
  const home = join(scratch, name);
  await fs.mkdir(join(home, 'registry', 'cache', DIR), { recursive: true });
  for (const c of reg) await fs.copyFile(join(scratch, 'registry', 'crates', `${c.name}-1.0.0.crate`), crateIn(home, c.name));
  return home;
}

/** What a job could do to a file it may write: other bytes of the same size, the mode and mtime put back. */
async function rewriteInPlace(path: string): Promise<void> {
  const st = await fs.stat(path);
  await fs.chmod(path, 0o644);
  await fs.writeFile(path, Buffer.alloc(st.size, 0x5a));
  await fs.utimes(path, st.atime, st.mtime);
  await fs.chmod(path, st.mode & 0o777);
}

/** The record a home's check leaves: every `.crate` verified as its checksum, at a moment after their last change. */
async function verifiedNow(home: string): Promise<SourcesRecord> {
  const at = afterOwnWrites();
  await settle(at);
  const crates: SourcesRecord['crates'] = {};
  for (const c of reg) crates[`${DIR}/${c.name}-1.0.0`] = { sha256: await fileSha256(crateIn(home, c.name)), from: 'lock', at, used: at, sealed: true };
  return { format: 1, crates, writable: {} };
}

test("a home's verified .crate is not hashed again; one rewritten in place since is, and is not taken for its checksum", async () => {
  const root = await prepareRoot(join(scratch, 'root-home'), {});
  const home = await homeWithCrates('home-a');
  expect((await publishCrates(root, home, lockOf(), '1.95.0')).published).toBe(3);
  const rec = await verifiedNow(home);
  // Unchanged: the record's word stands (nothing to publish, nothing wrong).
  const quiet = await publishCrates(root, home, lockOf(), '1.95.0', { verified: verifiedCrates(rec) });
  expect(quiet).toMatchObject({ published: 0, skipped: 3, mismatches: [] });
  // Rewritten after the record: hashed again, and refused as the checksum it no longer has.
  await rewriteInPlace(crateIn(home, reg[1].name));
  const after = await publishCrates(root, home, lockOf(), '1.95.0', { verified: verifiedCrates(rec) });
  expect(after.skipped).toBe(2);
  expect(after.mismatches).toEqual([
    expect.objectContaining({ crate: `${reg[1].name}-1.0.0.crate`, why: expect.stringMatching(/is not the Cargo.lock checksum/) }),
  ]);
  expect(await fileSha256(blobPath(root, reg[1].cksum))).toBe(reg[1].cksum);
});

test('a blob found whole is not hashed again; one rewritten in place since is hashed, and repaired from the home', async () => {
  const root = await prepareRoot(join(scratch, 'root-blob'), {});
  const home = await homeWithCrates('home-b');
  const file = join(scratch, 'blobs.json');
  expect((await publishCrates(root, home, lockOf(), '1.95.0', { stamps: await blobStamps(file) })).published).toBe(3);
  // The blobs settle, then an end hashes them once and stamps them.
  await settle(afterOwnWrites());
  expect(await publishCrates(root, home, lockOf(), '1.95.0', { stamps: await blobStamps(file) })).toMatchObject({ published: 0, skipped: 3 });
  const stamped = JSON.parse(await fs.readFile(file, 'utf8')) as { blobs: Record<string, number> };
  expect(Object.keys(stamped.blobs).sort()).toEqual(reg.map((c) => c.cksum).sort());
  // Damaged in the store the way a job of the store's uid could: the stamp no longer vouches for it.
  const blob = blobPath(root, reg[2].cksum);
  await rewriteInPlace(blob);
  expect(await fileSha256(blob)).not.toBe(reg[2].cksum);
  const r = await publishCrates(root, home, lockOf(), '1.95.0', { stamps: await blobStamps(file) });
  expect(r).toMatchObject({ published: 1, skipped: 2, mismatches: [] });
  expect(await fileSha256(blob)).toBe(reg[2].cksum);
});

test('a stamp is only what the record says: a blob replaced by another file (a rename) is hashed again', async () => {
  const root = await prepareRoot(join(scratch, 'root-rename'), {});
  const home = await homeWithCrates('home-c');
  const file = join(scratch, 'blobs-rename.json');
  await publishCrates(root, home, lockOf(), '1.95.0');
  await settle(afterOwnWrites());
  const stamps = await blobStamps(file);
  const blob = blobPath(root, reg[0].cksum);
  expect(await stamps.whole(blob, reg[0].cksum)).toBe(true);
  await stamps.save();
  // An old file of the same size, renamed over the blob: its own ctime is old, the rename sets it.
  const planted = join(scratch, 'planted');
  await fs.writeFile(planted, Buffer.alloc((await fs.stat(blob)).size, 0x5a));
  await settle(afterOwnWrites());
  await fs.rename(planted, blob);
  expect(await (await blobStamps(file)).whole(blob, reg[0].cksum)).toBe(false);
});
