import { describe, expect, test } from '@jest/globals';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unitsText } from '../src/job/summary.js';
import { scaled } from './helpers/pace.js';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type UnitDir, type WarmthEntry, LOG_MAX, appendWarmth, countUnits, cutOff, fingerprintDirs, parseLog, readUnits, readWarmth, startedWarm, warmShare, warmthLog } from '../src/pool/warmth.js';

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
    ['rebuilt: rustc started during the lease, the old .json still there (it failed)', [lib('app-0123456789abcdef', START + 5000, before)], { built: 1, fresh: 0, builtCrates: ['app'] }],
    ['blocked by a failed dependency: only its hash file emptied, so not fresh', [{ name: 'app-0123456789abcdef', files: [{ name: 'invoked.timestamp', mtimeMs: before }, { name: 'bin-app', mtimeMs: START + 5000 }, { name: 'bin-app.json', mtimeMs: before }] }], { built: 1, fresh: 0, builtCrates: ['app'] }],
    ['a compile that failed during the lease, no fingerprint yet', [lib('app-0123456789abcdef', START + 5000)], { built: 1, fresh: 0, builtCrates: ['app'] }],
    ['an old failed compile this job never touched: neither', [lib('app-0123456789abcdef', before)], { built: 0, fresh: 0, builtCrates: [] }],
    ['a build script run has no invoked.timestamp: its .json decides', [run('a-0123456789abcdef', START + 1), run('b-0123456789abcdef', before)], { built: 1, fresh: 1, builtCrates: ['a'] }],
    ['a write at the lease\'s start is this job\'s', [lib('c-0123456789abcdef', START, START)], { built: 1, fresh: 0, builtCrates: ['c'] }],
    ['the previous lease\'s last write, 300 ms before the start in the same second, is not', [lib('c-0123456789abcdef', START - 300, START - 300)], { built: 0, fresh: 1, builtCrates: [] }],
    ['one crate, several units (lib, build script, its run): named once', [lib('a-0000000000000001', START + 1, START + 2), lib('a-0000000000000002', START + 1, START + 2), run('a-0000000000000003', START + 3)], { built: 3, fresh: 0, builtCrates: ['a'] }],
    ['names sorted; a name without a hash kept whole', [lib('zeta-0123456789abcdef', START + 1, START + 1), lib('odd', START + 1, START + 1)], { built: 2, fresh: 0, builtCrates: ['odd', 'zeta'] }],
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

describe('unitsText (the summary row)', () => {
  test.each<[Parameters<typeof unitsText>[0], string]>([
    [{ built: 0, fresh: 0, builtCrates: [] }, 'none in the target dir (no cargo build in this job?)'],
    [{ built: 7, fresh: 0, builtCrates: ['a', 'b'] }, '7 built (a, b), 0 fresh: a cold start'],
    [{ built: 0, fresh: 7, builtCrates: [] }, '0 built, 7 fresh: a warm start, nothing recompiled'],
    [{ built: 2, fresh: 48, builtCrates: ['app'] }, '2 built (app), 48 fresh'],
    [{ built: 300, fresh: 2 }, '300 built, 2 fresh'],
  ])('%j', (u, want) => expect(unitsText(u)).toBe(want));
});

const entry = (o: Partial<WarmthEntry>): WarmthEntry => ({ t: '2026-11-25T10:00:00.000Z', repository: 'acme/widgets', job: 'test', key: 'pr-1', runner: 'r1', slot: 's000', built: 0, fresh: 10, ...o });

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
  test('profiles and --target profiles, nothing deeper; dep-info and output caches are not read', async () => {
    const t = await fs.mkdtemp(join(tmpdir(), 'warmth-fp-'));
    try {
      const unit = async (dir: string, files: string[]) => {
        await fs.mkdir(dir, { recursive: true });
        for (const f of files) await fs.writeFile(join(dir, f), 'x');
      };
      await unit(join(t, 'debug', '.fingerprint', 'a-0123456789abcdef'), ['invoked.timestamp', 'lib-a', 'lib-a.json', 'dep-lib-a', 'output-lib-a']);
      await unit(join(t, 'release', '.fingerprint', 'b-0123456789abcdef'), ['run-build-script-build-script-build.json', 'run-build-script-build-script-build']);
      await unit(join(t, 'x86_64-unknown-linux-gnu', 'debug', '.fingerprint', 'c-0123456789abcdef'), ['invoked.timestamp']);
      // Deeper than <target>/<triple>/<profile>: not cargo's, never read.
      await unit(join(t, 'debug', 'build', 'x', '.fingerprint', 'd-0123456789abcdef'), ['lib-d.json']);
      await unit(join(t, 'a', 'b', 'c', '.fingerprint', 'e-0123456789abcdef'), ['lib-e.json']);
      await unit(join(t, 'doc', 'x', '.fingerprint', 'f-0123456789abcdef'), ['lib-f.json']);
      await fs.writeFile(join(t, 'debug', '.fingerprint', 'stray-file'), 'x');
      expect(fingerprintDirs(t).map((d) => d.slice(t.length + 1)).sort()).toEqual(['debug/.fingerprint', 'release/.fingerprint', 'x86_64-unknown-linux-gnu/debug/.fingerprint']);
      const units = readUnits(t).map((u) => [u.name, u.files.map((f) => f.name).sort()]).sort();
      expect(units).toEqual([
        ['a-0123456789abcdef', ['invoked.timestamp', 'lib-a', 'lib-a.json']],
        ['b-0123456789abcdef', ['run-build-script-build-script-build', 'run-build-script-build-script-build.json']],
        ['c-0123456789abcdef', ['invoked.timestamp']],
      ]);
      expect(readUnits(join(t, 'missing'))).toEqual([]);
    } finally {
      await fs.rm(t, { recursive: true, force: true });
    }
  });
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

  test('concurrent appends keep every line whole', () => withRoot(async (root) => {
    await Promise.all(Array.from({ length: 200 }, (_, i) => appendWarmth(root, entry({ built: i, runner: `r${i}`.padEnd(300, 'x') }))));
    const got = await readWarmth(root);
    expect(got.map((e) => e.built).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  }));

  test('past LOG_MAX the file becomes the older generation; both are read, older first', () => withRoot(async (root) => {
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

  test('a build that swaps the log for a symlink, a hard link or a FIFO gets nothing written outside the root', () => withRoot(async (root) => {
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
