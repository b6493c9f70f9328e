import * as core from '../os/runner-io.js';
import type { StartedJob } from './types.js';
import type { GuardReport } from '../pool/guard.js';

/*
 * The action's channel from the main step to the post step (the runner hooks' is hook-state.ts).
 * The runner hands GITHUB_STATE entries to the post step as STATE_<name>; a name written twice
 * keeps the last value, so `lease` is saved the moment the lease exists (a cancel during
 * preparation still lets post release it) and again, complete, at the end of main.
 */

const LEASE = 'lease';
const JOB = 'job';
const GUARD = 'guard';
/** Main joined the runner hook's lease (hook-state.ts): the job-completed hook releases it, not post. */
const HOOK = 'hook';

export type LeaseState = Pick<StartedJob, 'root' | 'layout' | 'slot' | 'dirs' | 'keeperPid' | 'cleanupTimeoutMs'>;

export const saveLease = (l: LeaseState) => core.saveState(LEASE, JSON.stringify(l));
export const saveJob = (j: StartedJob) => core.saveState(JOB, JSON.stringify(j));
export const saveGuard = (g: GuardReport) => core.saveState(GUARD, JSON.stringify(g));

function load<T>(name: string): T | undefined {
  const raw = core.getState(name);
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return undefined;
  }
}

export const loadLease = () => load<LeaseState>(LEASE);
export const loadJob = () => load<StartedJob>(JOB);
export const loadGuard = () => load<GuardReport>(GUARD);
export const saveHookJoined = () => core.saveState(HOOK, 'joined');
export const loadHookJoined = () => core.getState(HOOK) === 'joined';
