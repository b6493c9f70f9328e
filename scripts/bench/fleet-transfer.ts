// Section 11f of `npm run bench` (BENCH_ONLY=11f alone): what moving one dependency archive through
// each fleet store costs on this machine, for the simulator's transfer cost per GiB
// (scripts/bench/fleet-transfer.json, beside archives.json). An archive of the bench's size
// (archives.json's v1 archive, about 170 MiB; random bytes, as incompressible as its zstd data), in
// a host tier, then per store and repetition:
//   put     the job's end: the store's call from the host tier (store/fleet-store.ts), worker included
//   fetch   a start on another host: from the store into an empty host tier, verified on the way
// through the shared directory (a directory on this machine's disk standing for the NFS mount) and
// the Actions cache service's stand-in (scripts/lib/cache-server.ts, v2 and v1 protocols).
// Everything is loopback: no network between the hosts, so these are the fixed costs of the
// store's client, its copies and checksums, not a link's bandwidth. The baseline: `cp` of the same
// data file, in the same run.
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { promises as fs, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fakeCacheService } from '../lib/cache-server.js';
import { ARCHIVE_FORMAT, type ArchiveKey } from '../../src/model/archive-key.js';
import { archiveDir } from '../../src/model/layout.js';
import { DATA, META } from '../../src/store/archive.js';
import { type FleetStore, openFleetStore } from '../../src/store/fleet-store.js';
import { type Row, median, note, ratio, spread, time } from './kit.js';

const GIB = 2 ** 30;
const perGiB = (ms: number, bytes: number) => Math.round((ms * GIB) / bytes);

async function makeArchive(root: string, key: ArchiveKey & { exact: string }, bytes: number): Promise<string> {
  const dir = archiveDir(root, 'bench/fleet', 'ref-main', key.fallback, key.exact);
  await fs.mkdir(dir, { recursive: true });
  const h = createHash('sha256');
  const f = await fs.open(join(dir, DATA), 'w');
  for (let left = bytes; left > 0;) {
    const chunk = randomBytes(Math.min(left, 8 << 20));
    h.update(chunk);
    await f.write(chunk);
    left -= chunk.length;
  }
  await f.close();
  const meta = { format: ARCHIVE_FORMAT, exact: key.exact, fallback: key.fallback, key: key.parts, sha256: h.digest('hex'), bytes };
  await fs.writeFile(
    join(dir, META),
    JSON.stringify({ ...meta, compressor: 'zstd', savedAt: new Date().toISOString(), buildDir: '/b', packages: 1, files: 1, sourceBytes: bytes }),
  );
  return dir;
}

export async function fleetTransferSection(o: { scratch: string; rows: Row[]; quick: boolean }): Promise<void> {
  const reps = o.quick ? 2 : 3;
  const figures = JSON.parse(readFileSync(join('scripts', 'bench', 'archives.json'), 'utf8')) as { layouts: { v1: { archive: { bytes: number } } } };
  const bytes = o.quick ? 32 << 20 : figures.layouts.v1.archive.bytes;
  const base = join(o.scratch, 'fleet-transfer');
  await fs.mkdir(base, { recursive: true });
  const service = await fakeCacheService();
  const load: number[] = [loadavg()[0]];
  const out: Record<string, { putMs: number[]; fetchMs: number[]; putMsPerGiB: number; fetchMsPerGiB: number }> = {};
  try {
    const hostA = join(base, 'host-a');
    const key = (): ArchiveKey & { exact: string } => ({ exact: randomBytes(16).toString('hex'), fallback: randomBytes(16).toString('hex'), parts: {} });
    const k0 = key();
    const data = join(await makeArchive(hostA, k0, bytes), DATA);
    const cps: number[] = [];
    for (let i = 0; i < reps; i++) {
      const to = join(base, `cp-${i}`);
      cps.push(await time(() => execFileSync('cp', [data, to])));
      await fs.rm(to);
    }
    const stores: [string, () => FleetStore][] = [
      ['directory', () => open({ kind: 'directory', path: join(base, 'shared') }, {})],
      ['actions-cache-v2', () => open({ kind: 'actions-cache' }, service.env({ write: 'refs/heads/main' }, 'v2'))],
      ['actions-cache-v1', () => open({ kind: 'actions-cache' }, v1(service.env({ write: 'refs/heads/main' }, 'v1')))],
    ];
    await fs.mkdir(join(base, 'shared'));
    for (const [name, make] of stores) {
      note(`11f. ${name}: put and fetch of ${(bytes / 2 ** 20).toFixed(0)} MiB x ${reps} ...`);
      const store = make();
      const puts: number[] = [];
      const fetches: number[] = [];
      for (let i = 0; i < reps; i++) {
        const k = key();
        const dir = await makeArchive(hostA, k, bytes);
        const t0 = performance.now();
        const p = await store.put({ root: hostA, repository: 'bench/fleet', domain: 'ref-main', key: k, dir });
        if (!p.put) throw new Error(`11f: ${name} put: ${p.reason}: ${p.detail}`);
        puts.push(performance.now() - t0);
        const hostB = join(base, `host-b-${name}-${i}`);
        await fs.mkdir(hostB);
        const t1 = performance.now();
        const f = await store.fetch({ root: hostB, repository: 'bench/fleet', domains: ['ref-main'], key: k });
        if (!f.fetched) throw new Error(`11f: ${name} fetch: ${f.reason}: ${f.detail}`);
        fetches.push(performance.now() - t1);
        load.push(loadavg()[0]);
        await fs.rm(hostB, { recursive: true });
        await fs.rm(dir, { recursive: true });
      }
      out[name] = {
        putMs: puts.map(Math.round),
        fetchMs: fetches.map(Math.round),
        putMsPerGiB: perGiB(median(puts), bytes),
        fetchMsPerGiB: perGiB(median(fetches), bytes),
      };
      o.rows.push([
        '11f',
        `${name}: put of a ${(bytes / 2 ** 20).toFixed(0)} MiB archive (loopback)`,
        spread(puts),
        `cp ${spread(cps)}`,
        ratio(median(puts), median(cps)),
      ]);
      o.rows.push(['11f', `${name}: fetch into an empty host tier (loopback)`, spread(fetches), `cp ${spread(cps)}`, ratio(median(fetches), median(cps))]);
    }
    if (o.quick) return;
    const result = {
      measured: new Date().toISOString().slice(0, 10),
      what:
        'One dependency archive put to and fetched from each fleet store on one machine: loopback (127.0.0.1 for the ' +
        "Actions cache service's stand-in, a local directory for the shared one), so the fixed costs of each store's client, " +
        "copies and checksums, with no network link's bandwidth: add the link's time per GiB for a real fleet. " +
        "Each call starts the store's worker process from the TypeScript sources (dist/fleet-worker starts faster); " +
        "see 'load' for how busy the machine was. Medians of 'reps'.",
      machine: `${cpus().length} x ${cpus()[0]?.model?.trim()}, node ${process.version}`,
      load: { min: Math.min(...load), max: Math.max(...load) },
      reps,
      archiveBytes: bytes,
      cpMsPerGiB: perGiB(median(cps), bytes),
      stores: out,
      command: 'BENCH_ONLY=11f npm run bench',
    };
    writeFileSync(join('scripts', 'bench', 'fleet-transfer.json'), JSON.stringify(result, null, 2) + '\n');
    note('11f. figures written to scripts/bench/fleet-transfer.json');
  } finally {
    await service.close();
    if (existsSync(base)) await fs.rm(base, { recursive: true, force: true });
  }
}

function open(setting: Parameters<typeof openFleetStore>[0], env: Record<string, string>): FleetStore {
  const s = openFleetStore(setting, { ...process.env, ...env }, 'action');
  if (!s || 'unavailable' in s) throw new Error(`11f: no store: ${JSON.stringify(s)}`);
  return s;
}

/** v1's environment: no switch to v2 left from the runner's own. */
const v1 = (env: Record<string, string>) => {
  const e = { ...env };
  delete e.ACTIONS_CACHE_SERVICE_V2;
  return e;
};
