import { describe, expect, test } from '@jest/globals';
import { archiveKey, keyDifferences, redactedValue } from '../src/model/archive-key.js';
import {
  type FleetReason,
  cacheKeyOf,
  partsForFleet,
  cacheKeysFor,
  isFleetFault,
  parseArchiveStore,
  parseCacheKey,
  storeName,
  untrustedEntry,
} from '../src/model/archive-store.js';
import { InputError, fromVariables, readSettings } from '../src/model/settings.js';
import { fleetLine, openFleetStore, restoreRefusal, saveRefusal } from '../src/store/fleet-store.js';
import { parseReply, REPLY_MARK, workerCommand } from '../src/store/fleet-worker.js';

/*
 * The fleet tier's pure decisions (model/archive-store.ts, and the pure parts of
 * store/fleet-store.ts and fleet-worker.ts), as tables: what `archive-store` names, the names an
 * archive goes by in the Actions cache service and which of them a start may restore, which
 * entries of a shared directory a job trusts, what the cache client's log says a failed save was,
 * and which outcomes are warnings. The stores themselves: __tests__/fleet-stores.test.ts.
 */

describe('the archive-store setting', () => {
  test.each([
    ['', { kind: 'none' }],
    ['none', { kind: 'none' }],
    ['actions-cache', { kind: 'actions-cache' }],
    [' actions-cache ', { kind: 'actions-cache' }],
    ['/mnt/ci-archives', { kind: 'directory', path: '/mnt/ci-archives' }],
    ['/mnt/ci-archives/', { kind: 'directory', path: '/mnt/ci-archives' }],
    ['/mnt//ci/./archives', { kind: 'directory', path: '/mnt/ci/archives' }],
  ])('%j names %j', (text, store) => expect(parseArchiveStore(text)).toEqual(store));

  test.each([
    ['actions_cache', /did you mean 'actions-cache'/],
    ['action-cache', /did you mean 'actions-cache'/],
    ['github', /spelled 'actions-cache'/],
    ['true', /spelled 'actions-cache'/],
    ['mnt/ci-archives', /relative path/],
    ['./archives', /relative path/],
    ['/', /whole filesystem/],
    ['/mnt/a\nb', /control character/],
  ])('%j is refused: %s', (text, hint) => {
    const r = parseArchiveStore(text);
    expect('hint' in r && r.hint).toMatch(hint);
  });

  test('refusals name what the user set: the input, the variable, the flag', () => {
    expect(() => readSettings((n) => (n === 'archive-store' ? 'gha' : ''), {})).toThrow(
      /^Input 'archive-store' is 'gha': the Actions cache service is spelled 'actions-cache'\. Expected 'actions-cache', or the absolute path/,
    );
    expect(() => readSettings(fromVariables({ CARGO_ISOLATE_ARCHIVE_STORE: 'srv/x' }), {})).toThrow(
      /^Variable CARGO_ISOLATE_ARCHIVE_STORE is 'srv\/x': a relative path/,
    );
    // The action's input defaults to the runner's variable, as the root does.
    expect(readSettings(() => '', { CARGO_ISOLATE_ARCHIVE_STORE: '/mnt/a' }).archiveStore).toEqual({ kind: 'directory', path: '/mnt/a' });
    expect(() => readSettings(() => '', { CARGO_ISOLATE_ARCHIVE_STORE: 'nfs' })).toThrow(/^Variable CARGO_ISOLATE_ARCHIVE_STORE is 'nfs'/);
    expect(readSettings(() => '', {}).archiveStore).toEqual({ kind: 'none' });
  });

  test("a flag may not name the Actions cache service (a command on the host has no token); the runner's variable may, for the action's steps", () => {
    const flag = { get: (n: string) => (n === 'archive-store' ? 'actions-cache' : ''), origin: (n: string) => ({ kind: 'flag' as const, name: `--${n}` }) };
    expect(() => readSettings(flag, {})).toThrow(InputError);
    expect(() => readSettings(flag, {})).toThrow(/^Option '--archive-store' is 'actions-cache': the Actions cache service needs the runtime token/);
    expect(readSettings(fromVariables({ CARGO_ISOLATE_ARCHIVE_STORE: 'actions-cache' }), {}).archiveStore).toEqual({ kind: 'actions-cache' });
  });

  test('which store a job gets: the Actions cache service only in an action step the runner gave one, a directory everywhere', () => {
    const token = { ACTIONS_RUNTIME_TOKEN: 't', ACTIONS_RESULTS_URL: 'http://x/' };
    const open = (s: Parameters<typeof openFleetStore>[0], env: Record<string, string>, via: Parameters<typeof openFleetStore>[2]) => {
      const r = openFleetStore(s, env, via);
      return r === undefined ? 'none' : 'unavailable' in r ? `unavailable: ${r.unavailable}` : r.name;
    };
    expect(open({ kind: 'none' }, token, 'action')).toBe('none');
    expect(open({ kind: 'actions-cache' }, token, 'action')).toBe('the Actions cache service');
    expect(open({ kind: 'actions-cache' }, { ...token, ACTIONS_RESULTS_URL: '', ACTIONS_CACHE_URL: 'http://x/' }, 'action')).toBe('the Actions cache service');
    expect(open({ kind: 'actions-cache' }, {}, 'action')).toMatch(/^unavailable: the runner gave this job no Actions cache service/);
    expect(open({ kind: 'actions-cache' }, token, 'hook')).toMatch(/^unavailable: .*the runner hooks never have/);
    expect(open({ kind: 'actions-cache' }, token, 'cli')).toMatch(/^unavailable: .*a command on the host never has/);
    for (const via of ['action', 'hook', 'cli'] as const) expect(open({ kind: 'directory', path: '/mnt/a' }, {}, via)).toBe('the shared directory /mnt/a');
    expect(storeName({ kind: 'none' })).toBe('no fleet store');
  });
});

describe("an archive's names in the Actions cache service", () => {
  const input = {
    repository: 'acme/w',
    workflow: 'ci',
    job: 'test',
    jobKey: '',
    rustc: 'rustc 1.95.0',
    lockedDependencies: ['serde 1.0.0'],
    env: {},
    host: { arch: 'x64', os: 'debian 12', libc: 'glibc 2.36' },
    cargoHome: '/r/homes/u1001',
    view: 'host',
  };
  const key = archiveKey(input);
  const noLock = archiveKey({ ...input, lockedDependencies: undefined });

  test('a start asks for its exact key in its own domain, then its base, then the newest under its fallback in each', () => {
    const { primary, restoreKeys } = cacheKeysFor(['pr-7', 'ref-main'], key);
    expect(primary).toBe(`cargo-isolate-deps/v1/pr-7/${key.fallback}/${key.exact}`);
    expect(restoreKeys).toEqual([
      `cargo-isolate-deps/v1/ref-main/${key.fallback}/${key.exact}`,
      `cargo-isolate-deps/v1/pr-7/${key.fallback}/`,
      `cargo-isolate-deps/v1/ref-main/${key.fallback}/`,
    ]);
    expect(cacheKeysFor(['ref-main'], noLock)).toEqual({ primary: `cargo-isolate-deps/v1/ref-main/${key.fallback}/`, restoreKeys: [] });
    // Never a comma (the service's separator), never past its 512 characters.
    const long = cacheKeyOf('ref-' + 'x'.repeat(80), key.fallback, key.exact!);
    expect(long.length).toBeLessThan(512);
    expect(long).not.toMatch(/,/);
  });

  test.each([
    ['its exact key, own domain', `cargo-isolate-deps/v1/pr-7/F/E`, { domain: 'pr-7', how: 'exact' }],
    ['its exact key, the base', `cargo-isolate-deps/v1/ref-main/F/E`, { domain: 'ref-main', how: 'exact' }],
    ['another lock under its fallback', `cargo-isolate-deps/v1/ref-main/F/${'0'.repeat(32)}`, { domain: 'ref-main', how: 'fallback' }],
    ['another PR', `cargo-isolate-deps/v1/pr-8/F/E`, undefined],
    ['a domain whose name starts like its own', `cargo-isolate-deps/v1/ref-main-2/F/E`, undefined],
    ['another fallback key', `cargo-isolate-deps/v1/ref-main/${'1'.repeat(32)}/E`, undefined],
    ['an older format', `cargo-isolate-deps/v0/ref-main/F/E`, undefined],
    ['a longer name', `cargo-isolate-deps/v1/ref-main/F/E/x`, undefined],
    ['the crate store', `cargo-isolate-crates-v1-abc`, undefined],
  ])('a match on %s: %j', (_what, name, want) => {
    const matched = name.replace(/\bF\b/, key.fallback).replace(/\bE\b/, key.exact!);
    const r = parseCacheKey(matched, ['pr-7', 'ref-main'], key);
    expect(r && { domain: r.domain, how: r.how }).toEqual(want);
  });
});

describe('what leaves the host in archive.json', () => {
  test("the variables' values as digests; the rest as it is; a digest is the same value to a start that compares", () => {
    const parts = { repository: 'acme/w', rustc: 'rustc 1.95.0', 'env.RUSTFLAGS': '-C link-arg=-Wl,--secret=hunter2', 'env.CFLAGS': '-I/home/me/sdk' };
    const sent = partsForFleet(parts);
    expect(sent).toEqual({
      repository: 'acme/w',
      rustc: 'rustc 1.95.0',
      'env.RUSTFLAGS': redactedValue(parts['env.RUSTFLAGS']),
      'env.CFLAGS': redactedValue(parts['env.CFLAGS']),
    });
    expect(JSON.stringify(sent)).not.toMatch(/hunter2|\/home\/me/);
    expect(partsForFleet(sent)).toEqual(sent); // sent on again (fetched, then sent from another host): unchanged
    expect(keyDifferences(sent, parts)).toEqual([]);
    expect(keyDifferences(sent, { ...parts, 'env.RUSTFLAGS': '-C opt-level=3' })).toEqual(['env.RUSTFLAGS']);
    expect(keyDifferences(sent, { ...parts, rustc: 'rustc 1.96.0' })).toEqual(['rustc']);
  });
});

describe('what a job of a uid trusts in a shared directory', () => {
  const ok = (path: string, kind: 'file' | 'directory' = 'directory') => ({ path, kind, uid: 1001, mode: kind === 'file' ? 0o100644 : 0o40755 });
  test.each([
    ['its own, writable by it alone', [ok('/s/u1001'), ok('/s/u1001/a/archive.json', 'file')], undefined],
    ['read-only files too', [{ ...ok('/s/f', 'file'), mode: 0o100444 }], undefined],
    ["another uid's file", [ok('/s/u1001'), { ...ok('/s/u1001/a/archive.tar.zst', 'file'), uid: 0 }], /belongs to uid 0, not to this job's uid 1001/],
    ["another uid's directory on the way", [{ ...ok('/s/u1001'), uid: 4242 }], /\/s\/u1001 belongs to uid 4242/],
    ['a group-writable directory', [{ ...ok('/s/u1001/a'), mode: 0o40775 }], /writable by its group \(mode 775\)/],
    ['a world-writable file', [{ ...ok('/s/x', 'file'), mode: 0o100666 }], /writable by every user \(mode 666\)/],
    ['a sticky world-writable directory', [{ ...ok('/s/x'), mode: 0o41777 }], /writable by every user \(mode 1777\)/],
    ['a symbolic link', [{ path: '/s/x', kind: 'other' as const, uid: 1001, mode: 0o120777 }], /not a plain file or directory/],
  ])('%s', (_what, entries, want) => {
    const r = untrustedEntry(entries, 1001);
    if (want === undefined) expect(r).toBeUndefined();
    else expect(r).toMatch(want);
  });
});

describe("what the Actions cache client's log says a call was", () => {
  const notes = (o: { warnings?: string[]; errors?: string[]; lines?: string[] }) => ({ warnings: [], errors: [], lines: [], ...o });
  test.each([
    [
      'a race (v2: 409 Conflict)',
      notes({
        lines: [
          'debug: Failed to reserve cache: Error: Failed to CreateCacheEntry: Received non-retryable error: Failed request: (409) Conflict: cache entry with the same key, version, and scope already exists',
          'Failed to save: Unable to reserve cache with key k, another job may be creating this cache.',
        ],
      }),
      'raced',
    ],
    [
      'a race (v1)',
      notes({ lines: ['Failed to save: Unable to reserve cache with key k, another job may be creating this cache. More details: Cache already exists.'] }),
      'raced',
    ],
    ['a full cache', notes({ warnings: ['Cache reservation failed: cache storage quota exceeded'] }), 'error'],
    ['a rate limit', notes({ lines: ['debug: Failed to reserve cache: RateLimitError: Rate limited: Failed request: (429) Too Many Requests'] }), 'error'],
    ['a read-only cache mode', notes({ lines: ["Cache save skipped: the effective cache-mode 'read' does not permit writes."] }), 'read-only'],
    [
      'a token the service made read-only',
      notes({ warnings: ['Failed to save: Unable to reserve cache with key k. More details: cache write denied: read-only token'] }),
      'read-only',
    ],
    ['an upload that failed', notes({ errors: ['Failed to save: Cache upload failed because 500'] }), 'error'],
    ['nothing said at all', notes({}), 'error'],
  ])('a save that took nothing: %s', (_what, n, reason) => expect(saveRefusal(n).reason).toBe(reason));

  test('a restore that matched nothing: a miss, a fault it warned about, or a cache mode that reads nothing', () => {
    expect(restoreRefusal(notes({ lines: ['Cache not found'] }))).toBeUndefined();
    expect(restoreRefusal(notes({ warnings: ['Failed to restore: Cache service responded with 503'] }))).toEqual({
      reason: 'error',
      detail: 'Failed to restore: Cache service responded with 503',
    });
    expect(restoreRefusal(notes({ lines: ["Cache restore skipped: the effective cache-mode 'none' does not permit reads."] }))?.reason).toBe('unavailable');
  });

  test("the worker's reply is its last marked line; anything else is no reply", () => {
    const n = notes({});
    expect(parseReply(`noise\n${REPLY_MARK}${JSON.stringify({ result: 1, notes: n })}\n`)).toEqual({ result: 1, notes: n });
    expect(parseReply('noise\n')).toBeUndefined();
    expect(parseReply(`${REPLY_MARK}{not json`)).toBeUndefined();
    // From a bundle, the worker is the bundle beside it; as TypeScript, src/fleet-worker.ts under the loader.
    expect(workerCommand('/a/dist/post/index.js')).toEqual(['/a/dist/fleet-worker/index.js']);
    expect(workerCommand('/a/src/store/fleet-worker.ts')).toEqual(['--import', 'file:///a/scripts/lib/typescript.mjs', '/a/src/fleet-worker.ts']);
  });
});

describe('which outcomes are warnings', () => {
  test.each<[FleetReason, boolean]>([
    ['missing', false],
    ['exists', false],
    ['raced', false],
    ['read-only', false],
    ['unavailable', false],
    ['refused', true],
    ['error', true],
    ['timeout', true],
  ])('%s: %s', (reason, fault) => {
    expect(isFleetFault(reason)).toBe(fault);
    expect(fleetLine('the Actions cache service', 'fetch', { fetched: false, reason, detail: 'why', ms: 1500 }).warning).toBe(fault);
  });
  test('the lines a job logs', () => {
    expect(fleetLine('the shared directory /m', 'fetch', { fetched: true, dir: '/d', domain: 'ref-main', how: 'exact', bytes: 3 << 20, ms: 2500 }).text).toBe(
      'the shared directory /m: fetched the exact archive of ref-main (3.0 MiB) in 2.5 s into the host tier.',
    );
    expect(
      fleetLine('the Actions cache service', 'fetch', { fetched: false, reason: 'timeout', detail: 'no answer within 30 s: stopped', ms: 30000 }).text,
    ).toBe('the Actions cache service: no answer within 30 s: stopped. This job starts without it.');
    expect(fleetLine('the Actions cache service', 'put', { put: false, reason: 'error', detail: 'Failed to save: quota.', ms: 1 }).text).toBe(
      'the Actions cache service: Failed to save: quota. The host tier keeps it.',
    );
  });
});
