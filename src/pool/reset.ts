import type { JobIdentity } from '../model/identity.js';
import { type DirRecord, trustDomain } from '../model/record.js';
import type { Settings } from '../model/settings.js';
import { fromBase } from './choose.js';

/*
 * What of a leased slot a job keeps (decideReset, pure): the reset step of the pool's policy
 * (policy.ts), after the chooser's rank and before the copy source. job/prepare.ts carries it out.
 */

export interface ResetDecision {
  reset: boolean;
  reason: string;
  /** The previous build is there to reuse: kept, and its target dir not emptied (by the guard or anyone). */
  warm?: boolean;
}

/** What a leased directory holds when the job takes it; a plain boolean means "target and CARGO_HOME alike". */
export type Content = boolean | { target: boolean; cargoHome: boolean };

const ago = (iso: string, now: number) => {
  const ms = now - Date.parse(iso);
  return Number.isFinite(ms) ? ` ${Math.max(0, Math.round(ms / 60_000))} min ago` : '';
};

/**
 * Pure: must the leased directory start empty? Content written under one trust domain (a PR,
 * possibly a fork) is never handed to another: target/, install/ (its bin/ is put on PATH), tmp/
 * and a private CARGO_HOME (a fork's: its registry/cache holds .crate files cargo uses
 * unchecked). The CARGO_HOME shared by a uid's trusted jobs is not the slot's (cargo-home.ts).
 *
 * The reason says "warm" only when a build is really there to reuse: a slot of the same trust domain
 * whose target dir the disk guard removed (`prunedAt`) or that is empty keeps the rest of its
 * content, but cargo compiles everything again, and the summary must say so.
 */
export function decideReset(
  reuse: Settings['reuse'],
  previous: DirRecord | undefined,
  hasContent: Content,
  me: Pick<JobIdentity, 'repository' | 'key' | 'baseKey'>,
  now = Date.now(),
): ResetDecision {
  const content = typeof hasContent === 'boolean' ? { target: hasContent, cargoHome: hasContent } : hasContent;
  if (!content.target && !content.cargoHome) return { reset: false, reason: 'empty' };
  // `warm` is what the reason says when the build is there; `why` names the rule when it is not.
  const kept = (warm: string, why = warm): ResetDecision => {
    if (content.target && !previous?.prunedAt) return { reset: false, reason: warm, warm: true };
    const gone = previous?.prunedAt ? `the disk guard removed its target dir${ago(previous.prunedAt, now)}` : 'its target dir is empty';
    return { reset: false, reason: `kept (${why}), but ${gone}: cargo builds everything again; CARGO_HOME's crates are kept`, warm: false };
  };
  if (reuse === 'never') return { reset: true, reason: 'reuse: never' };
  if (reuse === 'always') return kept('reuse: always');
  if (!previous) return { reset: true, reason: 'no record of who used it last' };
  // Trusted content may seed a PR, never the reverse: the record then names the PR, so the
  // base branch's next push wipes it (it is another trust domain's slot from then on).
  if (fromBase(previous, me)) return kept(`seeded by the base branch: last used by a push to ${previous.key.slice(4)}`);
  if (trustDomain(previous) !== trustDomain(me)) return { reset: true, reason: `last used by ${trustDomain(previous)}` };
  return kept(`warm: last used by the same trust domain (${previous.key})`, `last used by the same trust domain (${previous.key})`);
}
