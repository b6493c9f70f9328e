import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterOwnWrites, changedSince, settle } from '../src/os/changes.js';

/*
 * The moments a check records (os/changes.ts): its own writes are never newer than the moment, and
 * any change once the moment has settled is. On the real filesystem of the tests' temp dir.
 */

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'changes-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

test("one's own writes are never newer than the moment recorded after them, a later change always is", async () => {
  const file = join(dir, 'f');
  // Many rounds: a write early in a millisecond carries a ctime past that millisecond's floor.
  for (let i = 0; i < 300; i++) {
    await fs.writeFile(file, String(i));
    const at = afterOwnWrites();
    expect((await fs.stat(file)).ctimeMs).toBeLessThanOrEqual(at);
  }
  const at = afterOwnWrites();
  await settle(at);
  await fs.chmod(file, 0o600);
  expect((await fs.stat(file)).ctimeMs).toBeGreaterThan(at);
  expect([...(await changedSince([dir], at)).keys()]).toEqual([file]);
});
