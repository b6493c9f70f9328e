import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobPath, nothingToSeed, planSeed, publishCrates, seedCrates } from '../src/store/crates.js';
import { prepareRoot } from '../src/pool/root.js';
import { makeRegistry } from '../scripts/lib/registry.mjs';
import { removeScratch } from './helpers/scratch.js';

// A job's start plans its seed before it takes cargo's download lock of the home: a warm home
// (every locked crate there, or one the store has not either: another platform's dependency that
// cargo never downloads here) gets no lock and no write; any crate the home lacks and the store
// has is seeded, under the lock, as before.

let scratch: string;
let reg: ReturnType<typeof makeRegistry>;
const DIR = 'example-0123456789abcdef';
const SOURCE = 'registry+https://github.com/rust-lang/crates.io-index';

beforeAll(async () => {
  scratch = await fs.mkdtemp(join(tmpdir(), 'ci-seedplan-'));
  reg = makeRegistry(join(scratch, 'registry'), { count: 3, prefix: 'plan' });
});
afterAll(() => removeScratch(scratch));

const locked = () => reg.map((c) => ({ name: c.name, version: c.vers, source: SOURCE, checksum: c.cksum }));
const crateIn = (home: string, name: string) => join(home, 'registry', 'cache', DIR, `${name}-1.0.0.crate`);

test('a warm home, and a locked crate neither it nor the store has, plan no write; a crate the home lacks is seeded', async () => {
  const root = await prepareRoot(join(scratch, 'root'), {});
  const home = join(scratch, 'home');
  await fs.mkdir(join(home, 'registry', 'cache', DIR), { recursive: true });
  // The first two downloaded and published; the third never downloaded on this platform.
  for (const c of reg.slice(0, 2)) await fs.copyFile(join(scratch, 'registry', 'crates', `${c.name}-1.0.0.crate`), crateIn(home, c.name));
  await publishCrates(root, home, locked().slice(0, 2), '1.95.0');
  const warm = await planSeed(root, home, locked(), '1.95.0');
  expect(nothingToSeed(warm)).toBe(true);
  expect(await seedCrates(root, home, locked(), '1.95.0', 'link', warm)).toMatchObject({ present: 2, missing: 1, seeded: 0 });

  // Published meanwhile by another job: a plan that took no lock still places nothing.
  await fs.mkdir(join(blobPath(root, reg[2].cksum), '..'), { recursive: true });
  await fs.copyFile(join(scratch, 'registry', 'crates', `${reg[2].name}-1.0.0.crate`), blobPath(root, reg[2].cksum));
  expect(await seedCrates(root, home, locked(), '1.95.0', 'link', warm)).toMatchObject({ present: 2, missing: 1, seeded: 0 });
  expect(await fs.stat(crateIn(home, reg[2].name)).catch(() => undefined)).toBeUndefined();

  // A new plan sees it, and a crate removed from the home: both to seed.
  await fs.rm(crateIn(home, reg[0].name));
  const cold = await planSeed(root, home, locked(), '1.95.0');
  expect(nothingToSeed(cold)).toBe(false);
  expect(await seedCrates(root, home, locked(), '1.95.0', 'link', cold)).toMatchObject({ present: 1, missing: 0, seeded: 2 });
  for (const c of reg) expect((await fs.stat(crateIn(home, c.name))).isFile()).toBe(true);
});
