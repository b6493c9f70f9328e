// Section 12 of `npm run bench`: what the check of a shared CARGO_HOME's registry sources costs at a
// job's start (src/store/home-sources.ts), for a Cargo.lock of 200 real crates (Debian's packaged
// sources, scripts/lib/real-crates.mjs), measured in one run against:
//   - a warm host (everything verified, nothing changed since): the check a job start pays; against
//     one `find -newerct` over the same trees, the least any change-time check can cost;
//   - the same after one same-size edit with its mtime put back: found and repaired;
//   - the first check of a home (a new host, or the first start after an upgrade): every crate
//     extracted from its verified .crate and sealed; against `tar xzf` of the same 200 files.
// The budget for a warm host is 100 ms.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePackages, packRegistry } from '../lib/real-crates.mjs';
import { checkSources } from '../../src/store/home-sources.js';
import { type Row, median, note, ratio, spread } from './kit.js';

const N = Number(process.env.BENCH_SOURCES_CRATES ?? 200);
const DIR = '127.0.0.1-0123456789abcdef';
const SOURCE = 'sparse+http://127.0.0.1:1/index/';

export async function sourcesSection(o: { scratch: string; rows: Row[]; reps: number }): Promise<void> {
  const { scratch, rows, reps } = o;
  note(`12. the shared CARGO_HOME's sources check at a job's start, ${N} real crates ...`);
  const dir = join(scratch, 'sources');
  mkdirSync(dir, { recursive: true });
  ensurePackages();
  const regDir = join(dir, 'registry');
  await packRegistry(regDir);
  const files = readdirSync(join(regDir, 'crates'))
    .filter((f) => f.endsWith('.crate'))
    .sort()
    .slice(0, N);
  const locked = files.map((f) => {
    const m = /^(.+)-(\d+\.\d+\.\d+.*)\.crate$/.exec(f)!;
    return {
      name: m[1],
      version: m[2],
      source: SOURCE,
      checksum: createHash('sha256')
        .update(readFileSync(join(regDir, 'crates', f)))
        .digest('hex'),
    };
  });
  const root = join(dir, 'root');
  const home = join(root, 'homes', 'u0');
  const cache = join(home, 'registry', 'cache', DIR);
  mkdirSync(cache, { recursive: true });
  mkdirSync(join(root, 'homes', 'u0-verified'), { recursive: true });
  for (const f of files) await fs.copyFile(join(regDir, 'crates', f), join(cache, f));
  const recordFile = join(root, 'homes', 'u0-verified', 'sources.json');
  const check = () => checkSources({ root, home, recordFile, locked, dirsOf: async () => [DIR], writable: [], lockWaitSeconds: 60 });
  const src = join(home, 'registry', 'src', DIR);
  const timed = async <T>(fn: () => Promise<T>) => {
    const t0 = performance.now();
    const r = await fn();
    return { ms: performance.now() - t0, r };
  };

  // The first check of a home: extraction of every crate, against tar's.
  const firsts: number[] = [];
  const tars: number[] = [];
  let entries = 0;
  for (let i = 0; i < Math.max(2, Math.ceil(reps / 5)); i++) {
    execFileSync('chmod', ['-R', 'u+w', join(home, 'registry')]);
    await fs.rm(join(home, 'registry', 'src'), { recursive: true, force: true });
    await fs.rm(join(root, 'homes', 'u0-verified', 'sources.json'), { force: true });
    const first = await timed(check);
    if (first.r.extracted !== files.length) throw new Error(`expected ${files.length} crates extracted, got ${JSON.stringify(first.r)}`);
    firsts.push(first.ms);
    const t = join(dir, `tar-${i}`);
    mkdirSync(t);
    const t0 = performance.now();
    for (const f of files) execFileSync('tar', ['xzf', join(cache, f), '-C', t]);
    tars.push(performance.now() - t0);
    await fs.rm(t, { recursive: true, force: true });
  }
  entries = Number(
    execFileSync('sh', ['-c', `find "${src}" | wc -l`])
      .toString()
      .trim(),
  );

  // A warm host: everything verified, nothing changed since.
  const warm: number[] = [];
  const finds: number[] = [];
  const dirs = readdirSync(src).map((d) => join(src, d));
  for (let i = 0; i < reps; i++) {
    const w = await timed(check);
    if (w.r.verified !== 0) throw new Error(`a warm check verified something: ${JSON.stringify(w.r)}`);
    warm.push(w.ms);
    const t0 = performance.now();
    execFileSync('find', [...dirs, ...files.map((f) => join(cache, f)), '-newerct', `@${Math.floor(Date.now() / 1000)}`, '-printf', '%p\\n']);
    finds.push(performance.now() - t0);
  }

  // One same-size edit, its mtime put back: found and repaired.
  const edited: number[] = [];
  const lib = execFileSync('sh', ['-c', `ls "${src}"/*/src/lib.rs | head -1`])
    .toString()
    .trim();
  for (let i = 0; i < Math.max(3, Math.ceil(reps / 3)); i++) {
    execFileSync('sh', [
      '-c',
      // Same size, mtime put back: only the change time tells.
      `R=$(mktemp) && cp -p "${lib}" "$R" && chmod u+w "${lib}" && ` +
        `head -c $(stat -c %s "${lib}") /dev/zero | tr '\\0' ' ' > "${lib}" && touch -r "$R" "${lib}" && rm -f "$R"`,
    ]);
    const e = await timed(check);
    if (e.r.repaired.length !== 1) throw new Error(`expected one crate repaired, got ${JSON.stringify(e.r)}`);
    edited.push(e.ms);
  }

  const budget = median(warm) <= 100 ? 'within the 100 ms budget' : 'OVER the 100 ms budget';
  const warmWhat = `sources check at a job's start, ${N}-crate lock, warm host (${entries.toLocaleString('en')} files and dirs, nothing changed): ${budget}`;
  rows.push(['12', warmWhat, spread(warm), `one find -newerct over the same trees ${spread(finds)}`, ratio(median(warm), median(finds))]);
  const editWhat = 'the same after one same-size edit with its mtime put back (found, repaired, compared again)';
  rows.push(['12', editWhat, spread(edited), `the warm check ${spread(warm)}`, ratio(median(edited), median(warm))]);
  const firstWhat = `the first check of a home: ${N} crates extracted from their verified .crate and sealed`;
  rows.push(['12', firstWhat, spread(firsts), `tar xzf of the same files ${spread(tars)}`, ratio(median(firsts), median(tars))]);
  execFileSync('chmod', ['-R', 'u+w', dir]);
}
