import { describe, expect, test } from '@jest/globals';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unitsText } from '../src/job/summary.js';
import { scaled } from './helpers/pace.js';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  type UnitDir,
  type WarmthEntry,
  LOG_MAX,
  appendWarmth,
  countUnits,
  cutOff,
  inUse,
  parseLog,
  profileDirs,
  readUnits,
  readWarmth,
  startedWarm,
  warmShare,
  warmthLog,
} from '../src/pool/warmth.js';

/* The pure rules of warmth.ts, by table; the effects against a real cargo in fleet-metric.test.ts. */

const START = Date.parse('2026-11-25T10:00:00.400Z');
const CUT = cutOff('2026-11-25T10:00:00.400Z');
const before = START - 3_600_000;
const lib = (name: string, invoked: number, json?: number): UnitDir => ({
  name,
  files: [{ name: 'invoked.timestamp', mtimeMs: invoked }, ...(json !== undefined ? [{ name: 'lib-x.json', mtimeMs: json }] : [])],
});
const run = (name: string, json: number): UnitDir => ({ name, files: [{ name: 'run-build-script-build-script-build.json', mtimeMs: json }] });

describe('countUnits', () => {
  test.each<[string, UnitDir[], { built: number; fresh: number; builtCrates?: string[] }]>([
    ['nothing in the target dir', [], { built: 0, fresh: 0, builtCrates: [] }],
    ['a unit left alone is fresh', [lib('dep0-0123456789abcdef', before, before)], { built: 0, fresh: 1, builtCrates: [] }],
    ['a unit compiled during the lease is built', [lib('dep0-0123456789abcdef', START + 5000, START + 6000)], { built: 1, fresh: 0, builtCrates: ['dep0'] }],
    [
      'rebuilt: rustc started during the lease, the old .json still there (it failed)',
      [lib('app-0123456789abcdef', START + 5000, before)],
      { built: 1, fresh: 0, builtCrates: ['app'] },
    ],
    [
      'blocked by a failed dependency: only its hash file emptied, so not fresh',
      [
        {
          name: 'app-0123456789abcdef',
          files: [
            { name: 'invoked.timestamp', mtimeMs: before },
            { name: 'bin-app', mtimeMs: START + 5000 },
            { name: 'bin-app.json', mtimeMs: before },
          ],
        },
      ],
      { built: 1, fresh: 0, builtCrates: ['app'] },
    ],
    ['a compile that failed during the lease, no fingerprint yet', [lib('app-0123456789abcdef', START + 5000)], { built: 1, fresh: 0, builtCrates: ['app'] }],
    ['an old failed compile this job never touched: neither', [lib('app-0123456789abcdef', before)], { built: 0, fresh: 0, builtCrates: [] }],
    [
      'a build script run has no invoked.timestamp: its .json decides',
      [run('a-0123456789abcdef', START + 1), run('b-0123456789abcdef', before)],
      { built: 1, fresh: 1, builtCrates: ['a'] },
    ],
    ["a write at the lease's start is this job's", [lib('c-0123456789abcdef', START, START)], { built: 1, fresh: 0, builtCrates: ['c'] }],
    [
      "the previous lease's last write, 300 ms before the start in the same second, is not",
      [lib('c-0123456789abcdef', START - 300, START - 300)],
      { built: 0, fresh: 1, builtCrates: [] },
    ],
    [
      'one crate, several units (lib, build script, its run): named once',
      [lib('a-0000000000000001', START + 1, START + 2), lib('a-0000000000000002', START + 1, START + 2), run('a-0000000000000003', START + 3)],
      { built: 3, fresh: 0, builtCrates: ['a'] },
    ],
    [
      'names sorted; a name without a hash kept whole',
      [lib('zeta-0123456789abcdef', START + 1, START + 1), lib('odd', START + 1, START + 1)],
      { built: 2, fresh: 0, builtCrates: ['odd', 'zeta'] },
    ],
  ])('%s', (_, units, want) => {
    expect(countUnits(units, CUT)).toEqual(want);
  });

  test('more than 20 built units are counted, not named', () => {
    const many = Array.from({ length: 21 }, (_, i) => lib(`dep${i}-0123456789abcdef`, START + 1, START + 1));
    expect(countUnits(many, CUT)).toEqual({ built: 21, fresh: 0 });
    expect(countUnits(many.slice(1), CUT).builtCrates).toHaveLength(20);
  });

  test('cutOff is the lease start to the millisecond', () => {
    expect(cutOff('2026-11-25T10:00:00.999Z')).toBe(Date.parse('2026-11-25T10:00:00.999Z'));
  });
});

describe('inUse: a profile holding both layouts counts the one cargo wrote last', () => {
  const at = (u: UnitDir, profile: string, layout: 'v1' | 'v2'): UnitDir => ({ ...u, profile, layout });
  const v1old = at(lib('dep0-0123456789abcdef', before, before), 'debug', 'v1');
  const v2cold = at(lib('dep0-fedcba9876543210', START + 5000, START + 6000), 'debug', 'v2');
  const v2warm = at(lib('dep0-fedcba9876543210', before + 1000, before + 1000), 'debug', 'v2');
  test.each<[string, UnitDir[], UnitDir[], { built: number; fresh: number }]>([
    ['one layout: all of it', [v1old], [v1old], { built: 0, fresh: 1 }],
    ['a slot upgraded to cargo 1.100: its first (cold) v2 build is not half warm', [v1old, v2cold], [v2cold], { built: 1, fresh: 0 }],
    ['the next, warm, v2 build: v2 was written after v1', [v1old, v2warm], [v2warm], { built: 0, fresh: 1 }],
    [
      'an older cargo back on the slot writes v1 again: v1 counts',
      [at(lib('a-0123456789abcdef', START + 1, START + 2), 'debug', 'v1'), v2warm],
      [at(lib('a-0123456789abcdef', START + 1, START + 2), 'debug', 'v1')],
      { built: 1, fresh: 0 },
    ],
    ['decided per profile: release holds only v1', [v1old, v2cold, at(v1old, 'release', 'v1')], [v2cold, at(v1old, 'release', 'v1')], { built: 1, fresh: 1 }],
    [
      'a tie goes to v2',
      [at(lib('a-0123456789abcdef', before, before), 'debug', 'v1'), at(lib('b-0123456789abcdef', before, before), 'debug', 'v2')],
      [at(lib('b-0123456789abcdef', before, before), 'debug', 'v2')],
      { built: 0, fresh: 1 },
    ],
    [
      'units without a profile (the tables above) are always kept',
      [lib('a-0123456789abcdef', before, before), v2cold],
      [lib('a-0123456789abcdef', before, before), v2cold],
      { built: 1, fresh: 1 },
    ],
  ])('%s', (_, units, kept, count) => {
    expect(inUse(units)).toEqual(kept);
    expect(countUnits(units, CUT)).toMatchObject(count);
  });
});

describe('unitsText (the summary row)', () => {
  test.each<[Parameters<typeof unitsText>[0], string]>([
    [{ built: 0, fresh: 0, builtCrates: [] }, 'none in the target dir (no cargo build in this job?)'],
    [{ built: 7, fresh: 0, builtCrates: ['a', 'b'] }, '7 built (a, b), 0 fresh: a cold start'],
    [{ built: 0, fresh: 7, builtCrates: [] }, '0 built, 7 fresh: a warm start, nothing recompiled'],
    [{ built: 2, fresh: 48, builtCrates: ['app'] }, '2 built (app), 48 fresh'],
    [{ built: 300, fresh: 2 }, '300 built, 2 fresh'],
  ])('%j', (u, want) => expect(unitsText(u)).toBe(want));
});

const entry = (o: Partial<WarmthEntry>): WarmthEntry => ({
  t: '2026-11-25T10:00:00.000Z',
  repository: 'acme/widgets',
  job: 'test',
  key: 'pr-1',
  runner: 'r1',
  slot: 's000',
  built: 0,
  fresh: 10,
  ...o,
});

describe('the history', () => {
  test.each<[string, { built: number; fresh: number }, boolean]>([
    ['all fresh', { built: 0, fresh: 10 }, true],
    ['a one-line change', { built: 2, fresh: 48 }, true],
    ['cold', { built: 50, fresh: 0 }, false],
    ['half and half: not warm', { built: 5, fresh: 5 }, false],
  ])('startedWarm: %s', (_, u, want) => expect(startedWarm(u)).toBe(want));

  test('parseLog skips torn and foreign lines and recovers a line glued to a torn one', () => {
    const a = JSON.stringify(entry({ built: 1 }));
    const b = JSON.stringify(entry({ built: 2 }));
    const c = JSON.stringify(entry({ built: 3 }));
    const text = [a, b.slice(0, 30) + c, '', 'garbage', '{"t":"x","repository":1}', JSON.stringify({ ...entry({}), built: 'many' }), b.slice(0, 50)].join('\n');
    expect(parseLog(text).map((e) => e.built)).toEqual([1, 3]);
  });

  test('warmShare: per repository and job (with its key), the latest N that ran cargo', () => {
    const t = (i: number) => new Date(Date.parse('2026-11-25T10:00:00Z') + i * 60_000).toISOString();
    const entries = [
      // acme/widgets test: 3 cold then 4 warm; only the latest 5 count.
      ...[0, 1, 2].map((i) => entry({ t: t(i), built: 10, fresh: 0 })),
      ...[3, 4, 5, 6].map((i) => entry({ t: t(i), built: 1, fresh: 9 })),
      entry({ t: t(7), built: 0, fresh: 0 }), // no cargo build: ignored
      entry({ t: t(1), job: 'build', jobKey: 'release', built: 4, fresh: 0 }),
      entry({ t: t(2), repository: 'acme/gadgets', built: 0, fresh: 3 }),
    ];
    expect(warmShare(entries.reverse(), 5)).toEqual([
      { repository: 'acme/gadgets', job: 'test', jobs: 1, warm: 1, unitsFresh: 1, last: t(2) },
      { repository: 'acme/widgets', job: 'build (release)', jobs: 1, warm: 0, unitsFresh: 0, last: t(1) },
      { repository: 'acme/widgets', job: 'test', jobs: 5, warm: 4, unitsFresh: 36 / 50, last: t(6) },
    ]);
  });
});

describe('reading fingerprint directories (a real temp dir)', () => {
  const withTarget = async (fn: (t: string, unit: (dir: string, files: string[]) => Promise<void>) => Promise<void>) => {
    const t = await fs.mkdtemp(join(tmpdir(), 'warmth-fp-'));
    const unit = async (dir: string, files: string[]) => {
      await fs.mkdir(join(t, dir), { recursive: true });
      for (const f of files) await fs.writeFile(join(t, dir, f), 'x');
    };
    try {
      await fn(t, unit);
    } finally {
      await fs.rm(t, { recursive: true, force: true });
    }
  };
  const read = (t: string) =>
    readUnits(t)
      .map((u) => [u.profile, u.layout, u.name, u.files.map((f) => f.name).sort()])
      .sort();

  test('layout v1: profiles and --target profiles, nothing deeper; dep-info and output caches are not read', () =>
    withTarget(async (t, unit) => {
      await unit('debug/.fingerprint/a-0123456789abcdef', ['invoked.timestamp', 'lib-a', 'lib-a.json', 'dep-lib-a', 'output-lib-a']);
      await unit('release/.fingerprint/b-0123456789abcdef', ['run-build-script-build-script-build.json', 'run-build-script-build-script-build']);
      await unit('x86_64-unknown-linux-gnu/debug/.fingerprint/c-0123456789abcdef', ['invoked.timestamp']);
      // v1's build script dirs under build/: not units, whatever they hold.
      await unit('debug/build/b-0123456789abcdef/out', ['generated.rs']);
      await unit('debug/build/b-0123456789abcdef', ['invoked.timestamp', 'output', 'root-output']);
      // Deeper than <target>/<triple>/<profile>: not cargo's, never read.
      await unit('debug/build/x/.fingerprint/d-0123456789abcdef', ['lib-d.json']);
      await unit('a/b/c/.fingerprint/e-0123456789abcdef', ['lib-e.json']);
      await unit('doc/x/.fingerprint/f-0123456789abcdef', ['lib-f.json']);
      await fs.writeFile(join(t, 'debug', '.fingerprint', 'stray-file'), 'x');
      expect(
        profileDirs(t)
          .map((d) => d.slice(t.length + 1))
          .sort(),
      ).toEqual(['debug', 'release', 'x86_64-unknown-linux-gnu/debug']);
      expect(read(t)).toEqual([
        ['debug', 'v1', 'a-0123456789abcdef', ['invoked.timestamp', 'lib-a', 'lib-a.json']],
        ['release', 'v1', 'b-0123456789abcdef', ['run-build-script-build-script-build', 'run-build-script-build-script-build.json']],
        ['x86_64-unknown-linux-gnu/debug', 'v1', 'c-0123456789abcdef', ['invoked.timestamp']],
      ]);
      expect(readUnits(join(t, 'missing'))).toEqual([]);
    }));

  test("layout v2 (cargo 1.100): build/<pkg>/<hash>/fingerprint/, with out/, run/ and fine-grained locking's .lock beside it", () =>
    withTarget(async (t, unit) => {
      await unit('debug/build/a/0123456789abcdef/fingerprint', ['invoked.timestamp', 'lib-a', 'lib-a.json', 'dep-lib-a', 'output-lib-a']);
      await unit('debug/build/a/0123456789abcdef/out', ['liba-0123456789abcdef.rlib', 'a-0123456789abcdef.d']);
      await unit('debug/build/a/0123456789abcdef', ['.lock']);
      // A package with a build script: its compile and its run are two units of one package.
      await unit('debug/build/b/1111111111111111/fingerprint', [
        'invoked.timestamp',
        'build-script-build-script-build',
        'build-script-build-script-build.json',
      ]);
      await unit('debug/build/b/2222222222222222/fingerprint', ['run-build-script-build-script-build', 'run-build-script-build-script-build.json']);
      await unit('debug/build/b/2222222222222222/run', ['invoked.timestamp', 'stdout', 'stderr', 'root-output']);
      await unit('debug/build/b/2222222222222222/out', []);
      await unit('x86_64-unknown-linux-gnu/release/build/c/3333333333333333/fingerprint', ['lib-c.json']);
      await unit('debug/incremental/a-xyz', ['s-abc.lock']);
      // A unit dir whose fingerprint/ is not there yet (cargo made out/ first): nothing to read.
      await unit('debug/build/d/4444444444444444/out', []);
      expect(
        profileDirs(t)
          .map((d) => d.slice(t.length + 1))
          .sort(),
      ).toEqual(['debug', 'x86_64-unknown-linux-gnu/release']);
      expect(read(t)).toEqual([
        ['debug', 'v2', 'a-0123456789abcdef', ['invoked.timestamp', 'lib-a', 'lib-a.json']],
        ['debug', 'v2', 'b-1111111111111111', ['build-script-build-script-build', 'build-script-build-script-build.json', 'invoked.timestamp']],
        ['debug', 'v2', 'b-2222222222222222', ['run-build-script-build-script-build', 'run-build-script-build-script-build.json']],
        ['x86_64-unknown-linux-gnu/release', 'v2', 'c-3333333333333333', ['lib-c.json']],
      ]);
    }));

  test('a profile with both layouts (a slot built before and after cargo 1.100): both read, the newer counted', () =>
    withTarget(async (t, unit) => {
      await unit('debug/.fingerprint/a-0123456789abcdef', ['invoked.timestamp', 'lib-a', 'lib-a.json']);
      await unit('debug/build/a-fedcba9876543210', ['invoked.timestamp', 'output']);
      const old = new Date(Date.now() - 3_600_000);
      for (const f of ['invoked.timestamp', 'lib-a', 'lib-a.json']) await fs.utimes(join(t, 'debug/.fingerprint/a-0123456789abcdef', f), old, old);
      const startedAt = new Date(Date.now() - 60_000).toISOString();
      await unit('debug/build/a/0123456789abcdef/fingerprint', ['invoked.timestamp', 'lib-a', 'lib-a.json']);
      expect(read(t).map((u) => u.slice(0, 3))).toEqual([
        ['debug', 'v1', 'a-0123456789abcdef'],
        ['debug', 'v2', 'a-0123456789abcdef'],
      ]);
      expect(countUnits(readUnits(t), cutOff(startedAt))).toEqual({ built: 1, fresh: 0, builtCrates: ['a'] });
    }));
});

describe('the history file (a real temp root)', () => {
  const withRoot = async (fn: (root: string) => Promise<void>) => {
    const root = await fs.mkdtemp(join(tmpdir(), 'warmth-log-'));
    try {
      await fn(root);
    } finally {
      await fs.rm(root, { recursive: true, force: true });
    }
  };

  test('concurrent appends keep every line whole', () =>
    withRoot(async (root) => {
      await Promise.all(Array.from({ length: 200 }, (_, i) => appendWarmth(root, entry({ built: i, runner: `r${i}`.padEnd(300, 'x') }))));
      const got = await readWarmth(root);
      expect(got.map((e) => e.built).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    }));

  test('past LOG_MAX the file becomes the older generation; both are read, older first', () =>
    withRoot(async (root) => {
      const old = JSON.stringify(entry({ built: 1 })) + '\n';
      await fs.writeFile(warmthLog(root), old.repeat(Math.ceil(LOG_MAX / old.length)));
      await appendWarmth(root, entry({ built: 2 })); // the one that crosses the limit rotates
      await appendWarmth(root, entry({ built: 3 }));
      expect(existsSync(`${warmthLog(root)}.1`)).toBe(true);
      expect((await fs.readFile(warmthLog(root), 'utf8')).trim().split('\n')).toHaveLength(1);
      const got = await readWarmth(root);
      expect(got.slice(-2).map((e) => e.built)).toEqual([2, 3]);
      expect(got.length).toBe(Math.ceil(LOG_MAX / old.length) + 2);
    }));

  test('a build that swaps the log for a symlink, a hard link or a FIFO gets nothing written outside the root', () =>
    withRoot(async (root) => {
      const outside = join(root, '..', `${root.split('/').pop()}-outside`);
      await fs.writeFile(outside, 'precious\n');
      try {
        await fs.symlink(outside, warmthLog(root));
        await expect(appendWarmth(root, entry({}))).rejects.toThrow(/ELOOP/);
        expect(await readWarmth(root)).toEqual([]);
        await fs.rm(warmthLog(root));
        await fs.link(outside, warmthLog(root));
        await expect(appendWarmth(root, entry({}))).rejects.toThrow(/not a plain file of its own \(2 links\)/);
        await fs.rm(warmthLog(root));
        execFileSync('mkfifo', [warmthLog(root)]);
        // Without O_NONBLOCK, open(2) would wait for a reader forever: fail instead of hanging.
        const hung = new Promise((_, no) => setTimeout(() => no(new Error('appendWarmth hung on a FIFO')), scaled(10_000)).unref());
        await expect(Promise.race([appendWarmth(root, entry({})), hung])).rejects.toThrow(/ENXIO/);
        expect(await readWarmth(root)).toEqual([]);
        expect(await fs.readFile(outside, 'utf8')).toBe('precious\n');
      } finally {
        await fs.rm(outside, { force: true });
      }
    }));
});
