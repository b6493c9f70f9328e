// Section 9: a large git dependency seeded from the host's git store vs cloned by cargo from a
// git server on 127.0.0.1 (git daemon), in the same run. The repository holds incompressible
// blobs (random bytes), so neither side wins by compression. Both sides end with what a build
// needs: the baseline is `cargo fetch --locked` into an empty CARGO_HOME (clone + checkout);
// the measured side is seeding (link, then fsck of every object) followed by the same
// `cargo fetch --locked` with the server stopped (checkout only).
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { commitGitDep, makeGitConsumer, serveGit } from '../lib/gitdep.mjs';
import * as gitstore from '../../src/store/gitstore.js';
import { prepareRoot } from '../../src/pool/root.js';
import { cargoVersion } from '../../src/store/crates.js';
import { type Row, median, note, spread, time } from './kit.js';

const run = promisify(execFile);

export async function benchGitStore({ scratch, rows, quick }: { scratch: string; rows: Row[]; quick: boolean }) {
  const mib = Number(process.env.BENCH_GIT_MB ?? (quick ? 50 : 64));
  const reps = quick ? 3 : 5;
  note(`9. seeding a ${mib} MiB git dependency vs cloning it from git daemon ...`);
  const srv = join(scratch, 'git-srv');
  commitGitDep(join(srv, 'bigfork'), { name: 'bigfork', answer: 9, init: true, padMiB: mib });
  const server = await serveGit(srv);
  try {
    const ws = makeGitConsumer(join(scratch, 'git-consumer'), 'bigfork', server.url('bigfork'));
    const env = (home: string) => ({ ...process.env, CARGO_HOME: home, CARGO_NET_GIT_FETCH_WITH_CLI: 'false' });
    await run('cargo', ['generate-lockfile'], { cwd: ws, env: env(join(scratch, 'git-lock-home')) });
    const clones: number[] = [];
    const fetchHome = join(scratch, 'git-fetch-home');
    for (let i = 0; i < reps; i++) {
      await fs.rm(fetchHome, { recursive: true, force: true });
      clones.push(await time(() => run('cargo', ['fetch', '--locked'], { cwd: ws, env: env(fetchHome) })));
    }
    const root = await prepareRoot(join(scratch, 'git-root'), {});
    const locked = gitstore.parseGitLock(await fs.readFile(join(ws, 'Cargo.lock'), 'utf8'));
    const version = await cargoVersion(ws, process.env);
    if (!version) throw new Error('bench 9: cargo --version failed');
    const git = gitstore.systemGit();
    const pub = await gitstore.publishGit(root, fetchHome, locked, version, git);
    if (pub.published.length !== 1) throw new Error(`bench 9: publishing failed: ${JSON.stringify(pub.notPublished)}`);
    await server.close(); // from here on, nothing can be fetched
    const seeds: Record<'link' | 'copy', number[]> = { link: [], copy: [] };
    const ready: number[] = [];
    let report: gitstore.GitSeedReport | undefined;
    for (let i = 0; i < reps; i++) {
      for (const mode of ['link', 'copy'] as const) {
        const home = join(scratch, `git-seed-${mode}-${i}`);
        seeds[mode].push(await time(async () => (report = await gitstore.seedGit(root, home, locked, version, mode, git))));
        if (report!.seeded.length !== 1) throw new Error(`bench 9: seeding failed: ${JSON.stringify(report!.notSeeded)}`);
        if (mode === 'link') ready.push(seeds.link.at(-1)! + (await time(() => run('cargo', ['fetch', '--locked'], { cwd: ws, env: env(home) }))));
      }
    }
    const mb = (report!.seededBytes / 1e6).toFixed(0);
    const clone = `cargo clone from git daemon: ${spread(clones)}`;
    rows.push([
      '9',
      `seed a ${mb} MB git dependency (link, fsck-verified)`,
      spread(seeds.link),
      clone,
      `${(median(clones) / median(seeds.link)).toFixed(1)}x faster`,
    ]);
    rows.push(['9', `seed it by copy (fork PRs)`, spread(seeds.copy), clone, `${(median(clones) / median(seeds.copy)).toFixed(1)}x faster`]);
    rows.push(['9', 'seed + cargo fetch --locked, server stopped (checkout)', spread(ready), clone, `${(median(clones) / median(ready)).toFixed(1)}x faster`]);
  } finally {
    await server.close();
  }
}
