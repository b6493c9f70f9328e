// Bench section 7u (issue 14, part 4): the post step's count of compile units built and fresh
// over a target dir of `units` cargo units, against what post already spends on the same tree
// (`du` for the slot's size), measured in the same run. The tree is shaped like cargo's, in the
// build-dir layout `layout`: v1 (cargo up to 1.99) keeps four fingerprint files per unit in
// `.fingerprint/<pkg>-<hash>/` and an .rlib and .rmeta per unit in deps/; v2 (cargo 1.100+) keeps
// them together in `build/<pkg>/<hash>/{fingerprint,out}/`, a package having one to three units.
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unitsSince } from '../../src/pool/warmth.js';
import { diskUsage } from '../../src/os/sizes.js';
import { time } from './kit.js';

export async function benchWarmth(o: { scratch: string; reps: number; units?: number; layout?: 'v1' | 'v2' }) {
  const { scratch, reps, units = 3000, layout = 'v1' } = o;
  const target = join(scratch, `warmth-target-${layout}`);
  const profile = join(target, 'debug');
  const old = new Date(Date.now() - 3_600_000);
  // The lease starts before the tree is written: on a busy machine writing it takes a while.
  const startedAt = new Date(Date.now() - 1000).toISOString();
  for (let i = 0; i < units; i++) {
    const pkg = `dep${Math.floor(i / 2)}`; // two units per package: a lib and its build script, say
    const hash = i.toString(16).padStart(16, '0');
    const fp = layout === 'v1' ? join(profile, '.fingerprint', `${pkg}-${hash}`) : join(profile, 'build', pkg, hash, 'fingerprint');
    const out = layout === 'v1' ? join(profile, 'deps') : join(profile, 'build', pkg, hash, 'out');
    mkdirSync(fp, { recursive: true });
    mkdirSync(out, { recursive: true });
    for (const f of ['invoked.timestamp', `lib-${pkg}`, `lib-${pkg}.json`, `dep-lib-${pkg}`]) {
      writeFileSync(join(fp, f), '{}');
      // A tenth rebuilt during this lease, the rest fresh.
      if (i % 10) utimesSync(join(fp, f), old, old);
    }
    writeFileSync(join(out, `lib${pkg}-${hash}.rlib`), 'x');
    writeFileSync(join(out, `lib${pkg}-${hash}.rmeta`), 'x');
  }
  let last = { built: -1, fresh: -1 };
  const count: number[] = [];
  const du: number[] = [];
  for (let i = 0; i < reps; i++) {
    count.push(await time(async () => (last = unitsSince(target, startedAt))));
    du.push(await time(() => diskUsage(target)));
  }
  if (last.built !== units / 10 || last.fresh !== units - units / 10) throw new Error(`bench 7u (${layout}): counted ${JSON.stringify(last)}`);
  return { units, count, du };
}
