import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { sha256Hex } from '../model/key.js';
import { writeAtomic } from '../os/fsutil.js';
import { readTextIfPresent } from '../os/absent.js';

/*
 * cargo's directory names, learned rather than computed. cargo names a registry's index dir
 * (registry/index/<name>) and a git dependency's database (git/db/<name>) by a hash of the source
 * whose inputs change between cargo versions. So a publisher writes down the names its cargo
 * used, per cargo version and source, in <store>/dirs/, and a seeder seeds only under those.
 * The crate store and the git store share this; each keeps its own dirs/ folder.
 */

const record = (dirsDir: string, version: string, source: string) => join(dirsDir, `${sha256Hex(`${version}\n${source}`).slice(0, 32)}.json`);

/** A name that stays one directory: no separator, never `.`, `..` or a hidden name. */
const plainName = (d: string) => /^[A-Za-z0-9._-]+$/.test(d) && !d.startsWith('.');

/** The names publishers of `source` with cargo `version` saw; none when nobody has published. */
export async function knownDirs(dirsDir: string, version: string, source: string): Promise<string[]> {
  const text = await readTextIfPresent(record(dirsDir, version, source), { notADirectory: 'absent' });
  try {
    return text === undefined ? [] : (JSON.parse(text) as { dirs: string[] }).dirs.filter(plainName);
  } catch {
    return []; // not a record this module wrote
  }
}

/**
 * Adds `dir` to what is known for `source` and cargo `version`. `field` names the source in the
 * record as each store has always written it (`source` for a registry, `url` for a git repository).
 * Two publishers learning at once may each write their own list; either list is correct, and the
 * next publisher adds what the other one lost.
 */
export async function learnDir(dirsDir: string, version: string, source: string, dir: string, field: 'source' | 'url'): Promise<void> {
  const known = await knownDirs(dirsDir, version, source);
  if (known.includes(dir)) return;
  const file = record(dirsDir, version, source);
  await fs.mkdir(dirname(file), { recursive: true });
  await writeAtomic(file, JSON.stringify({ version, [field]: source, dirs: [...known, dir] }) + '\n');
}
