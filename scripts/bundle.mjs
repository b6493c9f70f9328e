// Builds the committed bundles. ncc runs once per entry point so that each step loads only its own
// code (and @actions/cache only where it is used); the four builds are independent and run side by
// side. CI type-checks before it bundles, so ncc only transpiles (src/tsconfig.json says why its
// module setting differs).
//
// Each bundle's licenses.txt lists every package whose code it holds, from ncc's module list: ncc's
// own --license writes nothing when no third-party code is in the entry chunk, and since the steps
// no longer import @actions/core, third-party code is only in the chunk `cache: true` loads.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const stats = mkdtempSync(join(tmpdir(), 'cargo-isolate-bundle-'));

/** @param {string} entry */
function build(entry) {
  rmSync(`dist/${entry}`, { recursive: true, force: true });
  const args = ['--no-install', 'ncc', 'build', `src/${entry}.ts`, '-o', `dist/${entry}`, '--target', 'es2023', '--no-source-map-register'];
  const child = spawn('npx', [...args, '--stats-out', join(stats, `${entry}.json`), '--transpile-only'], { stdio: 'inherit' });
  return new Promise((/** @type {(v?: unknown) => void} */ resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`bundling src/${entry}.ts: ncc ended with ${signal ?? `exit code ${code}`}`)),
    );
  }).then(() => writeLicenses(entry));
}

/**
 * dist/<entry>/licenses.txt: for each package in the bundle, in name order, its name, its license
 * as package.json states it, and its license file.
 * @param {string} entry
 */
function writeLicenses(entry) {
  /** @type {{ modules?: { name?: string, modules?: unknown[] }[], chunks?: { modules?: unknown[] }[] }} */
  const s = JSON.parse(readFileSync(join(stats, `${entry}.json`), 'utf8'));
  /** @type {Set<string>} */
  const dirs = new Set();
  /** @param {unknown[] | undefined} ms */
  const walk = (ms) => {
    for (const m of /** @type {{ name?: string, modules?: unknown[] }[]} */ (ms ?? [])) {
      // ./node_modules/a/node_modules/@b/c/lib/x.js: the package is the last one on the path.
      const at = m.name?.lastIndexOf('node_modules/') ?? -1;
      if (m.name && at >= 0) {
        const rest = m.name.slice(at + 'node_modules/'.length).split('/');
        dirs.add(join(m.name.slice(0, at), 'node_modules', ...rest.slice(0, rest[0].startsWith('@') ? 2 : 1)));
      }
      walk(m.modules);
    }
  };
  walk(s.modules);
  for (const c of s.chunks ?? []) walk(c.modules);
  const packages = [...dirs].flatMap((dir) => {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f));
    const text = file ? readFileSync(join(dir, file), 'utf8').trim() : '';
    return [{ name: pkg.name, license: typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? ''), text }];
  });
  const seen = new Set();
  const unique = packages.sort((a, b) => a.name.localeCompare(b.name)).filter((p) => !seen.has(p.name) && seen.add(p.name));
  const out = join('dist', entry, 'licenses.txt');
  if (unique.length) writeFileSync(out, unique.map((p) => `${p.name}\n${p.license}\n${p.text}\n`).join('\n'));
  else if (existsSync(out)) rmSync(out);
}

const failed = (await Promise.allSettled(['main', 'post', 'cli', 'hook', 'fleet-worker'].map(build))).filter((r) => r.status === 'rejected');
rmSync(stats, { recursive: true, force: true });
for (const f of failed) console.error(f.reason.message);
if (failed.length) process.exitCode = 1;
