// The shared CARGO_HOME's sources and top, on a real filesystem without cargo: the tar reader
// against archives GNU tar makes, the decisions as tables, and the check against each way a job
// can change what another reads (edits with the mtime put back, renames, extra and missing files,
// a replaced .crate, a removed tree), as store/home-sources.ts and job/home-top.ts make them.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CARGO_OK, CARGO_OK_TEXT, CrateFormatError, GENERATED_MTIME, expectedTree, readCrate } from '../src/store/tar.js';
import { type SourceRecord, checkSources, planTarget, readSources, splitCrate } from '../src/store/home-sources.js';
import { topFate } from '../src/job/home-top.js';
import { blobPath } from '../src/store/crates.js';
import { readSettings } from '../src/model/settings.js';
import { removeScratch } from './helpers/scratch.js';

let scratch: string;
beforeAll(async () => {
  scratch = await fs.mkdtemp(join(tmpdir(), 'ci-home-check-'));
});
afterAll(async () => {
  execFileSync('chmod', ['-R', 'u+w', scratch]);
  await removeScratch(scratch);
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A .crate as `tar czf` makes one from `files` (path -> text; a trailing `*` marks it executable). */
async function makeCrate(dir: string, top: string, files: Record<string, string>, tarArgs: string[] = []): Promise<Buffer> {
  const build = join(dir, 'build');
  await fs.rm(build, { recursive: true, force: true });
  for (const [p, text] of Object.entries(files)) {
    const path = join(build, top, p.replace(/\*$/, ''));
    await fs.mkdir(join(path, '..'), { recursive: true });
    await fs.writeFile(path, text, { mode: p.endsWith('*') ? 0o755 : 0o644 });
  }
  const out = join(dir, `${top}.crate`);
  execFileSync('tar', ['czf', out, '--owner=0', '--group=0', '--mtime=2020-01-01', ...tarArgs, '-C', build, top]);
  return fs.readFile(out);
}

describe('reading a .crate', () => {
  test('names of every length, pax headers, modes, links, and what cargo skips', async () => {
    const long = `${'d'.repeat(80)}/${'n'.repeat(90)}.rs`;
    const files = { 'Cargo.toml': '[package]\n', 'src/lib.rs': 'pub fn f() {}\n', [long]: 'long\n', 'run.sh*': '#!/bin/sh\n' };
    for (const format of ['gnu', 'pax', 'ustar']) {
      const dir = join(scratch, `fmt-${format}`);
      await fs.mkdir(dir);
      const args = [`--format=${format}`];
      if (format === 'ustar') delete (files as Record<string, string>)[long]; // ustar's prefix holds 155 bytes at most
      const entries = readCrate(await makeCrate(dir, 'demo-1.0.0', files, args), 'demo-1.0.0');
      const byPath = new Map(entries.map((e) => [e.path, e]));
      expect([format, byPath.get('src/lib.rs')?.data?.toString()]).toEqual([format, 'pub fn f() {}\n']);
      if (format !== 'ustar') expect([format, byPath.get(long)?.data?.toString()]).toEqual([format, 'long\n']);
      expect(byPath.get('run.sh')?.mode).toBe(0o755);
      expect(byPath.get('src/lib.rs')?.mode).toBe(0o644);
      expect(byPath.get('src/lib.rs')?.mtime).toBe(Date.parse('2020-01-01T00:00:00Z') / 1000);
      expect(byPath.get('Cargo.toml')?.mtime).toBe(GENERATED_MTIME); // cargo stamps what it generates
      expect(byPath.get('src')?.kind).toBe('dir');
    }
    // A symlink, a hard link, cargo's own marker and a `..` entry (skipped, as the tar crate skips it).
    const dir = join(scratch, 'links');
    const build = join(dir, 'build', 'demo-1.0.0');
    await fs.mkdir(join(build, 'src'), { recursive: true });
    await fs.writeFile(join(build, 'src', 'a.rs'), 'a\n');
    await fs.link(join(build, 'src', 'a.rs'), join(build, 'src', 'b.rs'));
    await fs.symlink('a.rs', join(build, 'src', 'c.rs'));
    await fs.writeFile(join(build, CARGO_OK), 'planted');
    execFileSync('tar', ['czf', join(dir, 'x.crate'), '-C', join(dir, 'build'), 'demo-1.0.0']);
    const e = new Map(readCrate(await fs.readFile(join(dir, 'x.crate')), 'demo-1.0.0').map((x) => [x.path, x]));
    expect(e.get('src/b.rs')?.data?.toString()).toBe('a\n');
    expect(e.get('src/c.rs')).toMatchObject({ kind: 'symlink', target: 'a.rs' });
    expect(e.has(CARGO_OK)).toBe(false);
    const tree = expectedTree([...e.values()]);
    expect(tree.get(CARGO_OK)?.data?.toString()).toBe(CARGO_OK_TEXT);
  });

  test('an entry outside the crate directory, or no gzip at all, is refused as cargo refuses it', async () => {
    const dir = join(scratch, 'outside');
    await fs.mkdir(join(dir, 'build', 'other-1.0.0'), { recursive: true });
    await fs.writeFile(join(dir, 'build', 'other-1.0.0', 'x'), 'x');
    execFileSync('tar', ['czf', join(dir, 'x.crate'), '-C', join(dir, 'build'), 'other-1.0.0']);
    expect(() => readCrate(execFileSync('cat', [join(dir, 'x.crate')]), 'demo-1.0.0')).toThrow(CrateFormatError);
    expect(() => readCrate(Buffer.from('not a crate'), 'demo-1.0.0')).toThrow(/not a gzip stream/);
  });
});

describe('decisions', () => {
  const rec = (o: Partial<SourceRecord> = {}): SourceRecord => ({ sha256: 'a', from: 'lock', at: 1000, used: 1000, sealed: true, ...o });
  const both = { src: true, crateFile: true };
  type On = { src: boolean; crateFile: boolean };
  const plans: [string, { lockSha?: string }, SourceRecord | undefined, On, string[], boolean, boolean, string][] = [
    ['nothing there, never recorded', {}, undefined, { src: false, crateFile: false }, [], false, true, 'skip'],
    ['nothing there any more', {}, rec(), { src: false, crateFile: false }, [], false, true, 'drop'],
    ['recorded, nothing changed', { lockSha: 'a' }, rec(), both, [], false, true, 'ok'],
    ['never recorded', { lockSha: 'a' }, undefined, both, [], false, true, 'verify all, hash'],
    ['recorded against another checksum than the lock', { lockSha: 'b' }, rec(), both, [], false, true, 'verify all, hash'],
    ['a file changed', { lockSha: 'a' }, rec(), both, ['src/lib.rs'], false, true, 'verify src/lib.rs'],
    ['the directory itself changed', { lockSha: 'a' }, rec(), both, ['', 'src/lib.rs'], false, true, 'verify all'],
    ['the .crate changed', { lockSha: 'a' }, rec(), both, [], true, true, 'verify , hash'],
    ['declared writable since', { lockSha: 'a' }, rec(), both, [], false, false, 'verify all, hash'],
    ['sources gone, locked', { lockSha: 'a' }, rec(), { src: false, crateFile: true }, [], false, true, 'extract'],
    ['sources gone, not locked', {}, rec(), { src: false, crateFile: true }, [], false, true, 'ok'],
    ['only a .crate, never recorded', {}, undefined, { src: false, crateFile: true }, [], false, true, 'verify all, hash'],
  ];
  test.each(plans)('%s', (_, t, r, on, changed, crateChanged, sealed, want) => {
    const p = planTarget(t, r, on, changed, crateChanged, sealed);
    const said = p.action === 'verify' ? `verify ${p.only ? p.only.join(',') : 'all'}${p.crate ? ', hash' : ''}` : p.action === 'skip' ? 'skip' : p.action;
    expect(said).toBe(want);
  });

  test.each([
    ['serde-1.0.152', [['serde', '1.0.152']]],
    ['proc-macro2-1.0.47', [['proc-macro2', '1.0.47']]],
    ['sval-1.0.0-alpha.5', [['sval', '1.0.0-alpha.5']]],
    ['a-1-2.0.0', [['a-1', '2.0.0']]],
  ])('%s splits into its name and version', (crate, want) => {
    expect(splitCrate(crate).map((x) => [x.name, x.version])).toEqual(want);
  });

  const entry = (changedMs: number, runnerCopy = false) => ({ name: 'credentials.toml', changedMs, runnerCopy });
  const fates: [string, ReturnType<typeof entry>, { slot: string; startedMs: number }[], string][] = [
    ['no other job running', entry(5000), [], 'remove'],
    ['another job running since before the write: may be its', entry(5000), [{ slot: 's002', startedMs: 1000 }], 'keep'],
    ['another job started after the write: not its', entry(5000), [{ slot: 's002', startedMs: 9000 }], 'remove'],
    ['only this job itself', entry(5000), [{ slot: 's001', startedMs: 1000 }], 'remove'],
    ["the runner's own file, unchanged", entry(5000, true), [], 'keep'],
  ];
  test.each(fates)('top of the home: %s', (_, e, live, want) => {
    expect(topFate(e, 's001', live)).toBe(want);
  });

  test('writable-sources: names separated by commas, spaces or lines; anything else is refused, naming the input', () => {
    const read = (v: string) => readSettings((n) => (n === 'writable-sources' ? v : ''), { HOME: '/home/r' });
    expect(read('').writableSources).toEqual([]);
    expect(read('maili-registry, jemalloc-sys\nfoo_bar').writableSources).toEqual(['maili-registry', 'jemalloc-sys', 'foo_bar']);
    expect(() => read('ok ../etc')).toThrow(
      "Input 'writable-sources' is 'ok ../etc': '../etc' is not a crate name. Expected crate names separated by commas or spaces (e.g. maili-registry, jemalloc-sys).",
    );
  });
});

describe('checking the sources of a home', () => {
  let home: string;
  let root: string;
  let crate: Buffer;
  const D = '127.0.0.1-0123456789abcdef';
  const top = 'demo-1.0.0';
  const files = {
    'Cargo.toml': '[package]\nname = "demo"\n',
    'src/lib.rs': 'pub fn v() -> u64 { 1 }\n',
    'src/more/deep.rs': 'x\n',
    'build.sh*': '#!/bin/sh\n',
  };
  const src = () => join(home, 'registry', 'src', D, top);
  const crateFile = () => join(home, 'registry', 'cache', D, `${top}.crate`);
  const check = (o: { locked?: boolean; writable?: string[]; now?: number } = {}) =>
    checkSources({
      root,
      home,
      recordFile: join(root, 'homes', 'u0-verified', 'sources.json'),
      locked: o.locked === false ? undefined : [{ name: 'demo', version: '1.0.0', source: 'sparse+http://127.0.0.1:1/index/', checksum: sha(crate) }],
      dirsOf: async () => [D],
      writable: o.writable ?? [],
      lockWaitSeconds: 5,
      now: o.now,
    });
  const sh = (script: string) => execFileSync('sh', ['-c', script], { env: { ...process.env, S: src(), C: crateFile() } });

  beforeAll(async () => {
    root = join(scratch, 'root');
    home = join(root, 'homes', 'u0');
    await fs.mkdir(join(root, 'homes', 'u0-verified'), { recursive: true });
    crate = await makeCrate(scratch, top, files);
    await fs.mkdir(join(home, 'registry', 'cache', D), { recursive: true });
    await fs.mkdir(join(home, 'registry', 'src', D), { recursive: true });
    await fs.writeFile(crateFile(), crate);
    // As cargo leaves it: extracted, writable, its marker written.
    execFileSync('tar', ['xzf', crateFile(), '-C', join(home, 'registry', 'src', D)]);
    await fs.writeFile(join(src(), CARGO_OK), CARGO_OK_TEXT);
  });

  test('a tree cargo extracted is verified and sealed once; after that a check finds nothing to do, without a lock', async () => {
    // A locked crate cargo never fetched (another platform's dependency) is nobody's trouble.
    const absent = await checkSources({
      root,
      home,
      recordFile: join(root, 'homes', 'u0-verified', 'other.json'),
      locked: [{ name: 'winapi', version: '0.3.9', source: 'sparse+http://127.0.0.1:1/index/', checksum: 'f'.repeat(64) }],
      dirsOf: async () => [D],
      writable: [],
      lockWaitSeconds: 5,
    });
    expect(absent).toMatchObject({ checked: 0, verified: 0, unchecked: [] });
    const first = await check();
    expect(first).toMatchObject({ checked: 1, verified: 1, repaired: [], unchecked: [] });
    expect((await fs.stat(join(src(), 'src', 'lib.rs'))).mode & 0o777).toBe(0o444);
    expect((await fs.stat(join(src(), 'build.sh'))).mode & 0o777).toBe(0o555);
    expect((await fs.stat(join(src(), 'src'))).mode & 0o777).toBe(0o555);
    expect((await fs.stat(crateFile())).mode & 0o777).toBe(0o444);
    const again = await check();
    expect(again).toMatchObject({ checked: 1, verified: 0, repaired: [] });
  });

  test('a same-size edit whose mtime was put back is found and repaired', async () => {
    sh(
      'f="$S/src/lib.rs"; cp -p "$f" /tmp/.ref-$$; chmod u+w "$f"; printf "pub fn v() -> u64 { 7 }\\n" > "$f"; touch -r /tmp/.ref-$$ "$f"; chmod 444 "$f"; rm /tmp/.ref-$$',
    );
    const r = await check();
    expect(r.repaired).toEqual([{ crate: `${D}/${top}`, paths: ['src/lib.rs (content)'] }]);
    expect(await fs.readFile(join(src(), 'src', 'lib.rs'), 'utf8')).toBe(files['src/lib.rs']);
    expect((await fs.stat(join(src(), 'src', 'lib.rs'))).mtimeMs).toBe(Date.parse('2020-01-01T00:00:00Z'));
    // The repair's own writes were looked at again after it (a change racing the repair would be
    // seen there): the next check finds nothing to compare.
    expect(await check()).toMatchObject({ verified: 0, repaired: [] });
  });

  test('a file replaced by rename, an extra file, a removed one: each found, the tree made whole again', async () => {
    sh(
      'chmod 755 "$S/src" "$S/src/more"; printf "pub fn v() -> u64 { 1 }\\n" > "$S/src/new"; mv -f "$S/src/new" "$S/src/lib.rs"; echo evil > "$S/src/evil.rs"; rm "$S/src/more/deep.rs"; chmod 555 "$S/src" "$S/src/more"',
    );
    const r = await check();
    expect(r.repaired[0].paths.sort()).toEqual(['src/evil.rs (extra)', 'src/lib.rs (mode)', 'src/more/deep.rs (missing)']);
    expect(existsSync(join(src(), 'src', 'evil.rs'))).toBe(false);
    expect(await fs.readFile(join(src(), 'src', 'more', 'deep.rs'), 'utf8')).toBe('x\n');
    expect(await check()).toMatchObject({ verified: 0, repaired: [] });
  });

  test('sealed: a job that is not root can neither write nor remove the sources', () => {
    const as = (cmd: string) =>
      execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', cmd], { env: { S: src() }, stdio: 'pipe' });
    execFileSync('chmod', ['o+x', scratch, root, home, join(home, 'registry'), join(home, 'registry', 'src')]);
    execFileSync('chown', ['-R', '65534', home]);
    expect(() => as('echo x >> "$S/src/lib.rs"')).toThrow(/Permission denied/);
    expect(() => as('rm -rf "$S"')).toThrow(/Permission denied/);
    expect(existsSync(join(src(), 'src', 'lib.rs'))).toBe(true);
    execFileSync('chown', ['-R', '0', home]);
  });

  test('a replaced .crate comes back from the crate store; without one it goes with its sources, for cargo to fetch again', async () => {
    await fs.mkdir(join(blobPath(root, sha(crate)), '..'), { recursive: true });
    await fs.writeFile(blobPath(root, sha(crate)), crate, { mode: 0o444 });
    sh('chmod u+w "$C"; printf junk >> "$C"');
    const r = await check();
    expect(r.replaced).toEqual([{ crate: `${D}/${top}`, how: 'replaced from the crate store' }]);
    expect(sha(await fs.readFile(crateFile()))).toBe(sha(crate));
    await fs.rm(blobPath(root, sha(crate)), { force: true });
    sh('chmod u+w "$C"; printf junk >> "$C"');
    const gone = await check();
    expect(gone.replaced[0].how).toMatch(/moved away with its sources/);
    expect(existsSync(crateFile()) || existsSync(src())).toBe(false);
  });

  test('sources removed: a locked crate is extracted again from its verified .crate, whole and sealed', async () => {
    await fs.writeFile(crateFile(), crate);
    const r = await check();
    expect(r).toMatchObject({ extracted: 1, unchecked: [] });
    expect(await fs.readFile(join(src(), CARGO_OK), 'utf8')).toBe(CARGO_OK_TEXT);
    expect((await fs.stat(join(src(), 'src'))).mode & 0o777).toBe(0o555);
    sh('chmod -R u+w "$S"; rm -rf "$S"');
    expect((await check()).extracted).toBe(1);
    expect((await fs.readdir(join(home, 'registry', 'src', D))).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  test('without a lock file: what was verified, by the checksum it was verified against', async () => {
    sh('chmod u+w "$S/src/lib.rs"; echo "// planted" >> "$S/src/lib.rs"');
    const r = await check({ locked: false });
    expect(r.repaired[0].paths).toContain('src/lib.rs (content)');
    const rec = await readSources(join(root, 'homes', 'u0-verified', 'sources.json'));
    expect(rec.crates[`${D}/${top}`]).toMatchObject({ sha256: sha(crate), sealed: true });
  });

  test('writable-sources: left writable, still verified; what its build script adds stays', async () => {
    const r = await check({ writable: ['demo'] });
    expect(r.verified).toBe(1);
    expect((await fs.stat(join(src(), 'src'))).mode & 0o777).toBe(0o755);
    sh('echo generated > "$S/src/generated.rs"; printf "pub fn v() -> u64 { 9 }\\n" > "$S/src/lib.rs"');
    const again = await check({ writable: ['demo'] });
    expect(again.repaired[0].paths).toEqual(['src/lib.rs (content)']);
    expect(existsSync(join(src(), 'src', 'generated.rs'))).toBe(true);
    // Declared once, it stays writable for the jobs that do not declare it, for a while.
    expect(await check()).toMatchObject({ verified: 0 });
    const later = Date.now() + 31 * 86_400_000;
    expect((await check({ now: later })).verified).toBe(1);
    expect((await fs.stat(join(src(), 'src'))).mode & 0o777).toBe(0o555);
    expect(existsSync(join(src(), 'src', 'generated.rs'))).toBe(false);
  });

  test('a record from the future (the clock was set back) is not trusted', async () => {
    const file = join(root, 'homes', 'u0-verified', 'sources.json');
    const rec = await readSources(file);
    rec.crates[`${D}/${top}`].at = Date.now() + 3_600_000;
    await fs.writeFile(file, JSON.stringify(rec));
    sh('chmod u+w "$S/src/lib.rs"; echo "// planted" >> "$S/src/lib.rs"');
    const r = await check();
    expect(r.repaired[0].paths).toContain('src/lib.rs (content)');
  });

  test("sources no job needed for three weeks are made writable for cargo's own clean-up; used again, sealed again", async () => {
    const day = 86_400_000;
    await check({ now: Date.now() + 31 * day }); // writable-sources above has expired: sealed, used then
    const later = Date.now() + (31 + 22) * day;
    const none = await checkSources({
      root,
      home,
      recordFile: join(root, 'homes', 'u0-verified', 'sources.json'),
      locked: [],
      writable: [],
      lockWaitSeconds: 5,
      now: later,
    });
    expect(none.unsealed).toBe(1);
    expect((await fs.stat(join(src(), 'src'))).mode & 0o777).toBe(0o755);
    const used = await check({ now: later });
    expect(used.verified).toBe(1);
    expect((await fs.stat(join(src(), 'src'))).mode & 0o777).toBe(0o555);
  });
});
