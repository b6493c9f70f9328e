// The fleet tier start to end through the bundled action (the runner's protocol), real cargo
// against a sparse registry on 127.0.0.1: main's job on one host ends by saving its dependency
// archive in the host tier and sending it to the fleet store; the host is then gone (its root
// removed), and a PR's job on a new host at the same path (an ephemeral runner, as GitHub's are)
// finds nothing on its host, restores its base's archive from the store at its start and compiles
// no dependency. Through a shared directory (a tmpfs, as an NFS mount would be) and through the
// Actions cache service's stand-in (scripts/lib/cache-server.ts, v2 as on GitHub.com, with the
// runner's scoped tokens). The stores themselves: fleet-stores.test.ts.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { type LocalRegistry, localRegistry } from './helpers/registry.js';
import { type SimJob, jobPool } from './helpers/runner.js';
import { type FakeCacheService, fakeCacheService } from '../scripts/lib/cache-server.js';
import { readWarmth } from '../src/pool/warmth.js';

const { job, cleanup } = jobPool();
let reg: LocalRegistry;
let ws: string;
let scratch: string;
let service: FakeCacheService;
const mounts: string[] = [];
const MIN = 60_000;
const DEPS = ['dep0', 'dep1', 'dep2'];

beforeAll(async () => {
  reg = await localRegistry('ci-fleet-tier-', 3);
  scratch = reg.scratch;
  ws = await reg.checkout('ws');
  service = await fakeCacheService();
}, 5 * MIN);

afterAll(async () => {
  await cleanup();
  await service?.close();
  for (const m of mounts) execFileSync('umount', ['-l', m]);
  await reg?.close();
});

/** The crates cargo compiled in a build (its `Compiling` lines). */
const compiled = (stderr: string) => [...stderr.matchAll(/^\s*Compiling (\S+) v/gm)].map((m) => m[1]).sort();

/** main, `cargo build --locked`, post: one job through the bundled action. */
async function fullJob(j: SimJob, root: string, inputs: Record<string, string>) {
  const m = await j.run('main', { root, 'working-directory': ws, ...inputs });
  expect({ code: m.code, errors: m.errors, warnings: m.warnings }).toEqual({ code: 0, errors: [], warnings: [] });
  const b = await j.exec(['cargo', 'build', '--locked'], ws);
  expect({ code: b.code, stderr: b.code ? b.stderr : '' }).toEqual({ code: 0, stderr: '' });
  const p = await j.run('post');
  expect({ code: p.code, warnings: p.warnings }).toEqual({ code: 0, warnings: [] });
  return { m, p, built: compiled(b.stderr) };
}

describe("a PR's job on a new host starts from its base's archive in the fleet store", () => {
  test.each<[string, 'directory' | 'actions-cache']>([
    ['a shared directory', 'directory'],
    ['the Actions cache service', 'actions-cache'],
  ])('%s', async (_name, kind) => {
    const root = join(scratch, `root-${kind}`); // the same path on every new host
    let store = 'actions-cache';
    if (kind === 'directory') {
      store = join(scratch, 'shared');
      await fs.mkdir(store, { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'mode=0755', 'fleet-tier', store]);
      mounts.push(store);
    }
    const tokens = (write: string, read: string[] = []) => (kind === 'actions-cache' ? service.env({ write, read }, 'v2') : {});

    const main = await job({ branch: 'main', runner: 'h1', extraEnv: tokens('refs/heads/main') });
    const first = await fullJob(main, root, { 'archive-store': store });
    expect(first.built).toEqual(['consumer', ...DEPS]);
    expect(first.p.stdout).toMatch(/Saved a dependency archive to the host's tier/);
    expect(first.p.stdout).toMatch(/: sent the dependency archive \(/);

    await fs.rm(root, { recursive: true, force: true }); // the host is gone
    const pr = await job({ pr: 5, base: 'main', runner: 'h2', extraEnv: tokens('refs/pull/5/merge', ['refs/heads/main']) });
    const second = await fullJob(pr, root, { 'archive-store': store });
    expect(second.m.stdout).toMatch(/: fetched the exact archive of ref-main \(.*\) in .* into the host tier\./);
    expect(second.m.stdout).toMatch(/Restored a dependency archive from the fleet store \(its exact key, saved by ref-main, /);
    expect(second.built).toEqual(['consumer']);
    const w = (await readWarmth(root)).at(-1)!;
    expect({ from: w.from, key: w.key, built: w.built }).toEqual({ from: 'fleet-archive', key: 'pr-5', built: 1 });
    expect(second.p.summary).toMatch(/Started from.*fleet-archive/);
  });

  test('a store that is down: a warning, and the job builds cold and succeeds', async () => {
    const root = join(scratch, 'root-down');
    service.fault('all', { kind: 'status', status: 503 });
    try {
      const j = await job({ branch: 'main', runner: 'h3', extraEnv: service.env({ write: 'refs/heads/main' }, 'v2') });
      const m = await j.run('main', { root, 'working-directory': ws, 'archive-store': 'actions-cache' });
      expect({ code: m.code, errors: m.errors }).toEqual({ code: 0, errors: [] });
      expect(m.warnings).toEqual([expect.stringMatching(/^the Actions cache service: .*This job starts without it\.$/)]);
      const b = await j.exec(['cargo', 'build', '--locked'], ws);
      expect(compiled(b.stderr)).toEqual(['consumer', ...DEPS]);
      const p = await j.run('post');
      expect(p.code).toBe(0);
      expect(p.warnings).toEqual([expect.stringMatching(/^the Actions cache service: .*The host tier keeps it\.$/)]);
    } finally {
      service.fault('all', undefined);
    }
  });
});
