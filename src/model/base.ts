/*
 * Where the first run of a trust domain starts from. Every PR, merge-queue entry, new branch
 * and tag is a trust domain of its own (key.ts), so its first run finds no slot of its own.
 * Its base is the branch whose pushes may seed it: a slot last used by a push there, for the
 * same job, is taken over without a wipe (choose.ts, tier `base`; prepare.ts, decideReset).
 *
 * Content flows one way only: from the base into the new domain, never back. The slot's
 * record names the new domain from then on, so the base branch's next push wipes it like any
 * other domain's slot, and a base never has a base of its own (the default branch has none).
 *
 * Pure: reads the environment and the parsed event payload only.
 */

/** Which rule gave the base: the kind of run, for the log and the summary. */
export type BaseRule = 'pull-request' | 'pull-request-target' | 'merge-queue' | 'new-branch' | 'branch' | 'tag' | 'release' | 'schedule' | 'manual';

export const BASE_RULE_TEXT: Record<BaseRule, string> = {
  'pull-request': 'pull request',
  'pull-request-target': 'pull_request_target',
  'merge-queue': 'merge queue',
  'new-branch': 'new branch',
  branch: 'branch push',
  tag: 'tag',
  release: 'release',
  schedule: 'scheduled run',
  manual: 'manual run',
};

export interface Base {
  /** A branch name (no `refs/heads/`): its pushes' slots may seed this domain. */
  branch: string;
  rule: BaseRule;
  /** Where the branch name was read: an environment variable or a payload field. */
  from: string;
}

/** The parts of an event payload (GitHub or Forgejo) the base is read from. */
export interface BasePayload {
  /** push: `true` for a new branch or tag (GitHub; Forgejo does not send it). */
  created?: boolean;
  /** push: the ref's previous commit, all zeros when the push created the ref (both forges). */
  before?: string;
  merge_group?: { base_ref?: string; head_ref?: string };
  pull_request?: { base?: { ref?: string } };
  release?: { tag_name?: string };
  repository?: { default_branch?: string };
}

type Env = Record<string, string | undefined>;

const branchOf = (ref: string) => ref.replace(/^refs\/heads\//, '');
const ZEROS = /^0{40}(0{24})?$/; // SHA-1 or SHA-256 object name of nothing

/**
 * Pure: the base of this run, or none (a push to the default branch; no payload to name the
 * default branch). `pr` is the PR number when the run is one; `ref` is the full ref the run
 * checks out (GITHUB_REF).
 */
export function baseOf(env: Env, event: BasePayload, pr: number | undefined): Base | undefined {
  const eventName = env.GITHUB_EVENT_NAME ?? '';
  const def = event.repository?.default_branch || undefined;
  const fallback = (rule: BaseRule): Base | undefined => (def ? { branch: def, rule, from: 'repository.default_branch' } : undefined);
  if (pr !== undefined) {
    // pull_request_target runs in the base branch's context (GITHUB_REF is the base), but
    // its key is the PR's and its trust the head repository's (identity.ts): as pull_request.
    const rule: BaseRule = eventName === 'pull_request_target' ? 'pull-request-target' : 'pull-request';
    if (env.GITHUB_BASE_REF) return { branch: env.GITHUB_BASE_REF, rule, from: 'GITHUB_BASE_REF' };
    if (event.pull_request?.base?.ref) return { branch: event.pull_request.base.ref, rule, from: 'pull_request.base.ref' };
    return fallback(rule);
  }
  if (eventName === 'merge_group') {
    const b = event.merge_group?.base_ref;
    return b ? { branch: branchOf(b), rule: 'merge-queue', from: 'merge_group.base_ref' } : fallback('merge-queue');
  }
  const ref = env.GITHUB_REF ?? '';
  if (eventName === 'release') return fallback('release');
  if (ref.startsWith('refs/tags/') || env.GITHUB_REF_TYPE === 'tag') return fallback('tag');
  const branch = env.GITHUB_REF_NAME || branchOf(ref);
  if (!branch || branch === def) return undefined; // the default branch is its own base
  if (eventName === 'schedule') return fallback('schedule');
  if (eventName === 'workflow_dispatch') return fallback('manual');
  const created = event.created === true || ZEROS.test(event.before ?? '');
  return fallback(eventName === 'push' && created ? 'new-branch' : 'branch');
}

/** What the log and the summary say about the base, given the slot rule the job got. */
export function describeBase(base: Base, tier: string): string {
  const what = `${base.branch} (${BASE_RULE_TEXT[base.rule]}; ${base.from})`;
  if (tier === 'base') return `a first run from ${what}`;
  if (tier === 'own-job' || tier === 'own-key') return `${what}, not needed: a slot of its own`;
  return `${what}, not used: no free slot of this job last used by a push there`;
}
