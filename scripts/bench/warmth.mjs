// Bench section 7u (issue 14, part 4): the post step's count of compile units built and fresh
// over a target dir of `units` cargo units, against what post already spends on the same tree
// (`du` for the slot's size), measured in the same run. The tree is shaped like cargo's: four
// fingerprint files per unit, and an .rlib and .rmeta per unit in deps/ for du to walk.
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export async function benchWarmth({ scratch, mod, time, reps, units = 3000 }) {
  const [{ unitsSince }, { diskUsage }] = await Promise.all([mod('warmth'), mod('sizes')]);
  const target = join(scratch, 'warmth-target');
  const fp = join(target, 'debug', '.fingerprint');
  const deps = join(target, 'debug', 'deps');
  mkdirSync(deps, { recursive: true });
  const old = new Date(Date.now() - 3_600_000);
  for (let i = 0; i < units; i++) {
    const u = join(fp, `dep${i}-${i.toString(16).padStart(16, '0')}`);
    mkdirSync(u, { recursive: true });
    for (const f of ['invoked.timestamp', `lib-dep${i}`, `lib-dep${i}.json`, `dep-lib-dep${i}`]) {
      writeFileSync(join(u, f), '{}');
      // A tenth rebuilt during this lease, the rest fresh.
      if (i % 10) utimesSync(join(u, f), old, old);
    }
    writeFileSync(join(deps, `libdep${i}.rlib`), 'x');
    writeFileSync(join(deps, `libdep${i}.rmeta`), 'x');
  }
  const startedAt = new Date(Date.now() - 60_000).toISOString();
  let last;
  const count = [];
  const du = [];
  for (let i = 0; i < reps; i++) {
    count.push(await time(async () => { last = unitsSince(target, startedAt); }));
    du.push(await time(() => diskUsage(target)));
  }
  if (last.built !== units / 10 || last.fresh !== units - units / 10) throw new Error(`bench 7u: counted ${JSON.stringify(last)}`);
  return { units, count, du };
}
