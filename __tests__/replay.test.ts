import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { type LocalRegistry, localRegistry } from './helpers/registry.js';
import { type ReplayJob, type ReplayResult, type ReplayStep, replay } from '../scripts/sim/pool.js';
import { jobPool } from './helpers/runner.js';
import { registryDeps } from './helpers/workspace.js';
import { scaled } from './helpers/pace.js';

/*
 * Issue 14, part 3: the fleet simulator checked against real cargo. Each trace runs through the
 * bundled action with real cargo builds against a sparse registry on 127.0.0.1 (each runner
 * with its own checkout), and through the simulator's pool model (scripts/sim/pool.ts, the
 * same code `npm run simulate` runs, over the same decision functions). Job by job, the slot
 * rule, the reset decision and "dependencies recompiled: none / some" must agree.
 */
const { job, cleanup } = jobPool();
let reg: LocalRegistry;
let scratch: string;

beforeAll(async () => {
  reg = await localRegistry('ci-replay-');
  scratch = reg.scratch;
});
afterAll(async () => {
  await cleanup();
  await reg.close();
});

const checkout = (runner: string) => reg.checkout(runner);

const deps = registryDeps;
const CMD: Record<string, string[]> = { test: ['cargo', 'build'], lint: ['cargo', 'check'] };

/**
 * Runs the steps through the real action: each step's jobs start together, build, then end in
 * order. A `{ close: [n] }` step is the action's run on `pull_request: closed` for PR n.
 */
async function realRun(root: string, steps: ReplayStep[], inputs: Record<string, string>): Promise<(ReplayResult & { previousSlot?: string })[][]> {
  const out: (ReplayResult & { previousSlot?: string })[][] = [];
  const lastSlot = new Map<string, string>();
  for (const step of steps) {
    if (!Array.isArray(step)) {
      for (const pr of step.close) {
        const j = await job({
          pr,
          runner: 'r-close',
          event: { name: 'pull_request', ref: `refs/pull/${pr}/merge`, payload: { action: 'closed', number: pr, pull_request: { number: pr } } },
        });
        const m = await j.run('main', { root, ...inputs });
        expect([m.code, m.outputs.slot]).toEqual([0, undefined]);
      }
      out.push([]);
      continue;
    }
    const js = await Promise.all(step.map((s) => job({ pr: s.pr, branch: s.branch, runId: String(s.runId), job: s.job, runner: s.runner })));
    const mains = await Promise.all(js.map((j) => j.run('main', { root, ...inputs })));
    for (const m of mains) expect({ code: m.code, errors: m.errors }).toEqual({ code: 0, errors: [] });
    const builds = await Promise.all(js.map(async (j, i) => j.exec([...CMD[step[i].job], '--locked'], await checkout(step[i].runner))));
    for (const b of builds) if (b.code !== 0) throw new Error(b.stderr);
    for (const j of js) expect((await j.run('post')).code).toBe(0);
    out.push(
      step.map((s, i) => {
        const line = /Trust domain \S+ \S+; slot (\S+) \((own-job|own-key|base|same-job|lru|new): .*?\); (?:starting fresh: )?(.*)\.$/m.exec(mains[i].stdout);
        const who = `${s.pr ?? s.branch ?? 'main'}/${s.job}`;
        const previousSlot = lastSlot.get(who);
        lastSlot.set(who, line?.[1] ?? '?');
        return {
          slot: line?.[1] ?? '?',
          tier: line?.[2] ?? '?',
          reason: line?.[3] ?? mains[i].stdout,
          deps: deps(builds[i].stderr).length ? 'some' : 'none',
          previousSlot,
        };
      }),
    );
  }
  return out;
}

/**
 * What to compare: the rule, the reset decision's reason and whether dependencies were rebuilt.
 * An empty slot counts as new: jobs starting at once may take the slot another one just made
 * (before its lease), which the action then logs as a free empty slot; either way it starts cold
 * in a slot nobody else used.
 */
const view = (rs: ReplayResult[][]) => rs.map((step) => step.map((r) => `${r.reason === 'empty' ? 'new' : r.tier} | ${r.reason} | deps ${r.deps}`));

// Real disk levels that give the chooser the view the simulator is given: room (the disk under
// disk-target), or pressure (disk-target below any real disk, threshold above: no pruning).
const ROOM = { 'disk-threshold': '99%', 'disk-target': '98%' };
const PRESSURE = { 'disk-threshold': '99%', 'disk-target': '1%' };

test(
  'the rotation (main, PR 1, 2, 3, then 2 more rounds) on 3 shuffled runners: the simulator and real cargo agree; every later push recompiles nothing',
  async () => {
    const order: [number | undefined, string][] = [
      [undefined, 'r1'],
      [1, 'r2'],
      [2, 'r3'],
      [3, 'r1'],
      [1, 'r3'],
      [2, 'r1'],
      [3, 'r2'],
      [1, 'r1'],
      [2, 'r2'],
      [3, 'r3'],
      [undefined, 'r2'],
    ];
    const steps: ReplayJob[][] = order.map(([pr, runner], i) => [{ pr, job: 'test', runner, runId: 600 + i }]);
    const predicted = replay(steps, { room: true });
    const real = await realRun(join(scratch, 'root-rotation'), steps, ROOM);
    expect(view(real)).toEqual(view(predicted));
    expect(predicted.map((s) => s[0].tier)).toEqual(['new', 'base', 'new', 'new', 'own-job', 'own-job', 'own-job', 'own-job', 'own-job', 'own-job', 'new']);
    for (const r of real.slice(4, 10)) expect([r[0].deps, r[0].slot]).toEqual(['none', r[0].previousSlot]);
  },
  scaled(900_000),
);

test(
  'two jobs per push, concurrent jobs and PRs, shuffled runners: the simulator and real cargo agree job by job',
  async () => {
    let run = 700;
    const push = (pr: number | undefined, jobs: [string, string][]) => {
      run++;
      return jobs.map(([j, runner]) => ({ pr, job: j, runner, runId: run }));
    };
    const steps: ReplayJob[][] = [
      push(undefined, [
        ['test', 'r1'],
        ['lint', 'r2'],
      ]),
      push(1, [
        ['test', 'r3'],
        ['lint', 'r1'],
      ]),
      push(2, [
        ['test', 'r2'],
        ['lint', 'r3'],
      ]),
      push(3, [
        ['test', 'r3'],
        ['lint', 'r1'],
      ]),
      [
        ...push(1, [
          ['test', 'r1'],
          ['lint', 'r2'],
        ]),
        ...push(2, [['test', 'r3']]),
      ],
      [
        ...push(2, [['lint', 'r1']]),
        ...push(3, [
          ['test', 'r2'],
          ['lint', 'r3'],
        ]),
      ],
      [
        ...push(1, [
          ['test', 'r2'],
          ['lint', 'r3'],
        ]),
        ...push(2, [['test', 'r1']]),
      ],
      [
        ...push(2, [['lint', 'r2']]),
        ...push(3, [
          ['test', 'r3'],
          ['lint', 'r1'],
        ]),
      ],
    ];
    const predicted = replay(steps, { room: true });
    const real = await realRun(join(scratch, 'root-two-jobs'), steps, ROOM);
    expect(view(real)).toEqual(view(predicted));
    // From each PR's second push on, every job is back in its own slot with nothing recompiled.
    const later = real.slice(4).flat();
    expect(later.length).toBe(12);
    for (const r of later) expect([r.tier, r.deps, r.slot]).toEqual(['own-job', 'none', r.previousSlot]);
  },
  scaled(900_000),
);

test(
  'under pressure the simulator and real cargo agree too: among builds of equal worth the least recently used is wiped, never the newest',
  async () => {
    const steps: ReplayJob[][] = [
      [
        { job: 'test', runner: 'r1', runId: 800 },
        { pr: 1, job: 'test', runner: 'r2', runId: 801 },
        { pr: 2, job: 'test', runner: 'r3', runId: 802 },
      ],
      [{ pr: 3, job: 'test', runner: 'r1', runId: 803 }],
      [{ pr: 4, job: 'test', runner: 'r2', runId: 804 }],
      [{ pr: 2, job: 'test', runner: 'r3', runId: 805 }],
      [{ pr: 1, job: 'test', runner: 'r1', runId: 806 }],
    ];
    const predicted = replay(steps, { room: false });
    const real = await realRun(join(scratch, 'root-pressure'), steps, PRESSURE);
    expect(view(real)).toEqual(view(predicted));
    expect(
      view(predicted)
        .slice(1)
        .map((s) => s[0]),
    ).toEqual([
      'base | seeded by the base branch: last used by a push to main | deps none',
      'same-job | last used by acme/widgets#pr-1 | deps some', // the oldest: PR 1's, not PR 3's newer one
      'own-job | warm: last used by the same trust domain (pr-2) | deps none',
      'same-job | last used by acme/widgets#pr-3 | deps some',
    ]);
  },
  scaled(900_000),
);

test(
  "a value-ordered eviction: a closed PR's build, the newest on the host, is wiped before older builds of open PRs, and theirs stay warm; the simulator and real cargo agree",
  async () => {
    const steps: ReplayStep[] = [
      [
        { pr: 1, job: 'test', runner: 'r1', runId: 900 },
        { pr: 2, job: 'test', runner: 'r2', runId: 901 },
        { pr: 3, job: 'test', runner: 'r3', runId: 902 },
      ],
      [{ pr: 3, job: 'test', runner: 'r1', runId: 903 }], // PR 3's build is now the newest
      { close: [3] }, // PR 3 merges
      [{ pr: 4, job: 'test', runner: 'r2', runId: 904 }], // plain LRU would wipe PR 1's, the oldest
      [{ pr: 1, job: 'test', runner: 'r3', runId: 905 }],
      [{ pr: 2, job: 'test', runner: 'r1', runId: 906 }],
    ];
    const predicted = replay(steps, { room: false });
    const real = await realRun(join(scratch, 'root-closed'), steps, PRESSURE);
    expect(view(real)).toEqual(view(predicted));
    expect(
      view(predicted)
        .slice(3)
        .map((s) => s[0]),
    ).toEqual([
      'same-job | last used by acme/widgets#pr-3 | deps some',
      'own-job | warm: last used by the same trust domain (pr-1) | deps none',
      'own-job | warm: last used by the same trust domain (pr-2) | deps none',
    ]);
  },
  scaled(900_000),
);
