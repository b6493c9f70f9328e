import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * The commit a build of cargo-isolate came from, for `--version` of a build that is not a release
 * (model/version.ts). Read from files, never by running git (a host may have none): the COMMIT
 * file scripts/pack.sh writes into a release tarball, else the checkout's .git (HEAD, then the ref
 * it names: loose, in a linked worktree's common directory, or packed). Undefined when neither
 * says (the action as GitHub downloads it: a tarball without either).
 */

const read = (p: string) => {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch {
    return undefined;
  }
};
const SHA = /^[0-9a-f]{40}$/;

/** The commit HEAD of the checkout at `top` names, from .git's files alone. */
function gitHead(top: string): string | undefined {
  let gitDir = join(top, '.git');
  try {
    if (statSync(gitDir).isFile()) gitDir = resolve(top, /^gitdir: (.+)$/m.exec(read(gitDir) ?? '')?.[1] ?? '');
  } catch {
    return undefined;
  }
  const head = read(join(gitDir, 'HEAD'));
  if (!head) return undefined;
  if (SHA.test(head)) return head;
  const ref = /^ref: (\S+)$/.exec(head)?.[1];
  if (!ref) return undefined;
  const common = resolve(gitDir, read(join(gitDir, 'commondir')) ?? '.');
  for (const dir of [gitDir, common]) {
    const loose = read(join(dir, ref));
    if (loose && SHA.test(loose)) return loose;
  }
  const packed = (read(join(common, 'packed-refs')) ?? '').split('\n').find((l) => l.endsWith(` ${ref}`));
  const sha = packed?.split(' ')[0];
  return sha && SHA.test(sha) ? sha : undefined;
}

/** The top of the tree this code runs from: the nearest directory above it with cargo-isolate's package.json (ncc puts one of its own next to each bundle). */
function treeTop(from: string): string | undefined {
  for (let dir = from, i = 0; i < 6; dir = dirname(dir), i++) if (/"name":\s*"cargo-isolate"/.test(read(join(dir, 'package.json')) ?? '')) return dir;
  return undefined;
}

/** The full commit this build came from, when its tree says; `from` is where to start looking (this module's directory). */
export function buildCommit(from = dirname(fileURLToPath(import.meta.url))): string | undefined {
  const top = treeTop(from);
  if (!top) return undefined;
  const packed = read(join(top, 'COMMIT'));
  return packed && SHA.test(packed) ? packed : gitHead(top);
}
