// The previous release, for its column of the comparison (docs/simulation.md): its whole src/ at
// commit PREVIOUS, read from git and transpiled into .sim/previous/ (its chooser and guard import
// the modules they were written against; folders have moved since), behind the current policy's
// interface (src/pool/policy.ts `Policy`). This file is the only one that knows that release's
// API; the simulator sees one more `Policy`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import {
  type Candidate,
  type DiskView,
  type Me,
  type Policy,
  type PrunePlan,
  SHIPPED,
  type Scope,
  type SlotPlan,
  type SlotView,
} from '../../src/pool/policy.js';

export const PREVIOUS = 'd6cfea6d312a60adda995414aea65c0640e94d27';

/** What the previous release's chooser exported that its column uses. */
interface ItsChooser {
  rankSlots(slots: SlotView[], me: Me, disk: DiskView): SlotPlan;
}
/**
 * Its guard's plan: no build kept for last and no values; in runner scope, other runners' idle
 * data only in `fallback`, after all of this runner's.
 */
interface ItsGuard {
  planPrune<C extends Candidate>(cands: C[], scope: Scope, runnerId: string): Omit<PrunePlan<C>, 'kept'> & { fallback: C[] };
}

const transpile = (text: string) => ts.transpileModule(text, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;

/**
 * The previous release as a policy, or undefined where its commit is not there (a tarball
 * without git history: the tables go without its column).
 */
export async function loadPrevious(repo = resolve('.')): Promise<Policy | undefined> {
  let choose: ItsChooser;
  let guard: ItsGuard;
  try {
    const dir = join(repo, '.sim', 'previous');
    const git = (args: string[]) => execFileSync('git', args, { cwd: repo, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    for (const f of git(['ls-tree', '-r', '--name-only', PREVIOUS, 'src'])
      .split('\n')
      .filter((n) => n.endsWith('.ts'))) {
      const dest = join(dir, f.replace(/\.ts$/, '.js'));
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, transpile(git(['show', `${PREVIOUS}:${f}`])));
    }
    // One at a time: jest's ESM linker trips over two concurrent imports of one graph.
    choose = await import(join(dir, 'src', 'pool', 'choose.js'));
    guard = await import(join(dir, 'src', 'pool', 'guard.js'));
  } catch {
    return undefined;
  }
  // What that release did not have is the current policy's (the guard's levels, the reset, the
  // disk checks), as the simulation always ran it; what it did differently is its own.
  return {
    ...SHIPPED,
    // No values: idle builds went by age.
    values: () => undefined,
    keep: (slots, me) =>
      choose
        .rankSlots(slots, me, { room: false })
        .candidates.filter((c) => c.tier === 'own-job' || c.tier === 'base')
        .slice(0, 1)
        .map((c) => c.name),
    prune: (cands, scope, runnerId) => {
      const p = guard.planPrune(cands, scope, runnerId);
      return { ordered: [...p.ordered, ...p.fallback], live: p.live, liveBytes: p.liveBytes, others: [], othersBytes: p.othersBytes, kept: [] };
    },
    rank: (slots, me, disk) => choose.rankSlots(slots, me, disk),
    // It waited lease-wait for any earlier run of the job.
    wait: (_me, _predecessor, leaseWaitMs) => ({ ms: leaseWaitMs, why: 'an earlier run of this job' }),
    // No warm copies, no archives, and compile-cache keys of its own in every slot.
    copySource: () => undefined,
    restoreSource: () => undefined,
    keepFetched: () => false,
    saveArchive: () => ({ save: false, why: 'the previous release had no archives' }),
    compileCacheKey: (slot, job) => `${slot}|${job}`,
  };
}
