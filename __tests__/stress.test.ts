import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { report, stress } from './helpers/stress.js';
import { makeWorkspace } from './helpers/workspace.js';
import { removeScratch } from './helpers/scratch.js';
import { scaled } from './helpers/pace.js';

// npm test runs 2 rounds; npm run test:stress runs STRESS_ROUNDS (default 10).
const ROUNDS = Number(process.env.STRESS_ROUNDS ?? 2);
let scratch: string;
let mnt: string;

beforeAll(async () => {
  scratch = await fs.mkdtemp(join(tmpdir(), 'ci-stress-'));
  mnt = join(scratch, 'fs');
  await fs.mkdir(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=128m', 'tmpfs', mnt]);
});
afterAll(async () => {
  await removeScratch(scratch); // unmounts the tmpfs first
});

test(
  `reliability under cancellations, kills and hostile builds (${ROUNDS} rounds)`,
  async () => {
    const canary = join(scratch, 'canary');
    await fs.mkdir(join(canary, 'sub'), { recursive: true });
    for (let i = 0; i < 10; i++) await fs.writeFile(join(canary, `f${i}`), `precious ${i}`);
    await fs.writeFile(join(canary, 'sub', 'deep'), 'deep');
    const ws = await makeWorkspace(join(scratch, 'ws'), 3);
    const counts = await stress({
      root: join(mnt, 'root'),
      workspace: ws,
      canary,
      rounds: ROUNDS,
      jobsPerRound: 6,
      threshold: 40,
      log: (l) => process.stdout.write(`${l}\n`),
    });
    const lines = report(counts);
    process.stdout.write(lines.join('\n') + '\n');
    expect(counts.buildFailures).toEqual([]);
    expect(counts.builtOk).toBe(counts.buildsExpected);
    expect(counts.liveRemovals).toEqual([]);
    expect(counts.canaryChanges).toBe(0);
    expect(counts.roundsUnderThreshold).toBe(counts.rounds);
    expect(counts.doubleOwners).toEqual([]);
    expect(counts.jobs).toBe(ROUNDS * 6);
    // Every round after the first starts over the threshold with an idle build to free.
    expect(counts.guardRemovals).toBeGreaterThanOrEqual(ROUNDS - 1);
  },
  scaled(30 * 60_000),
);
