import { createHash } from 'node:crypto';

/*
 * Names made safe: any string (a branch, a repository, a job name) as a bounded, injective path
 * component, and a job's trust domain, `pr-<n>`, `ref-<branch>` or `tag-<tag>`, the key that says
 * whose content a slot may hand on to whom.
 */

export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

// Names that are already plain path components pass through unchanged (readable paths for the
// common case). Anything else becomes `<readable part>+<64-bit hash of the raw name>`: '+' never
// occurs in a passed-through name, so the mapping stays injective and a branch cannot be named
// so as to land in another branch's directory.
const PLAIN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Maps any string (branch, repository, job name) to a safe, bounded path component. */
export function safeComponent(raw: string, max = 64): string {
  if (PLAIN.test(raw) && raw.length <= max && !raw.includes('..')) return raw;
  const hash = sha256Hex(raw).slice(0, 16);
  const readable = raw
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[-._]+/, '')
    .slice(0, Math.max(0, max - hash.length - 1))
    .replace(/[-._]+$/, '');
  return readable ? `${readable}+${hash}` : `+${hash}`;
}

/**
 * The trust domain of a job: content written under one key is never reused under another.
 * Tags have a namespace of their own: a tag named `main` (which branch protection does not
 * cover) must not be keyed, and reused, as the main branch.
 */
export function contentKey(pr: number | undefined, branch: string, tag = false): string {
  return pr !== undefined ? `pr-${pr}` : `${tag ? 'tag' : 'ref'}-${safeComponent(branch, 80)}`;
}
