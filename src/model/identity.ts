import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { type Base, type BasePayload, baseOf } from './base.js';
import { contentKey, safeComponent } from './key.js';

/*
 * Who a job is, from the runner's environment (GitHub's, or Forgejo's and act's): repository,
 * event, PR or branch, its trust domain (key.ts), fork or not, workflow, job and run, the base a
 * first run may start from, and which runner it runs on (RUNNER_NAME, or the root for a
 * container without one).
 */

/** Who is asking for directories: derived from the runner's environment (GitHub or Forgejo/act). */
export interface JobIdentity {
  repository: string;
  eventName: string;
  pr?: number;
  branch: string;
  /** Trust domain: `pr-<n>`, `ref-<branch>` or `tag-<tag>`; see key.ts. */
  key: string;
  /** Head repository differs from the base repository (a fork PR), when the payload says. */
  fork: boolean;
  /** Workflow name: a cancel-in-progress predecessor runs the same workflow and job. */
  workflow: string;
  runId: string;
  runAttempt: string;
  job: string;
  /** The `key` input: what the job name cannot tell apart (matrix legs). */
  jobKey: string;
  /** The base's trust domain (`ref-<base>`): a push there may seed this domain's first run. */
  baseKey?: string;
  /** Where a first run starts from, and which rule said so (base.ts). */
  base?: Base;
  runnerName: string;
  /** Whose idle data `prune-scope: runner` frees; see runnerIdentity(). */
  runnerId: string;
  /** Where runnerId came from, for the log and the summary. */
  runnerFrom: RunnerFrom;
  host: string;
  /** The job runs in a container (a `container:` job, Forgejo's default). */
  container: boolean;
  /** Matrix legs share run id and job id; the nonce makes each job's uid unique. */
  nonce: string;
  jobUid: string;
}

type Env = Record<string, string | undefined>;

export type RunnerFrom = 'operator' | 'RUNNER_NAME' | 'host name' | 'root';

/**
 * Pure: who "this runner" is, for the guard's default scope. A runner is its registered name,
 * the same for its host jobs and its container jobs (the seeds' fleet runs both on the same
 * runners). The operator's word wins (input `runner-name` or CARGO_ISOLATE_RUNNER, which a
 * Forgejo runner can set for every job through `runner.envs`). Without RUNNER_NAME a host job
 * is its host; a container job's host name is the container's own, new every job, so there the
 * root (one per host) stands for the runner: every job on it is "this runner".
 */
export function runnerIdentity(
  env: Env,
  explicit: string | undefined,
  host: string,
  container: boolean,
): { runnerId: string; runnerName: string; runnerFrom: RunnerFrom } {
  const named = explicit?.trim() || env.CARGO_ISOLATE_RUNNER?.trim();
  if (named) return { runnerId: named, runnerName: named, runnerFrom: 'operator' };
  if (env.RUNNER_NAME) return { runnerId: env.RUNNER_NAME, runnerName: env.RUNNER_NAME, runnerFrom: 'RUNNER_NAME' };
  if (container) return { runnerId: '(this host)', runnerName: `(this host; container ${host})`, runnerFrom: 'root' };
  return { runnerId: host, runnerName: host, runnerFrom: 'host name' };
}

/** Docker and Podman mark their containers with these files. */
export function inContainer(): boolean {
  return existsSync('/.dockerenv') || existsSync('/run/.containerenv');
}

interface EventPayload extends BasePayload {
  number?: number;
  pull_request?: {
    number?: number;
    head?: { ref?: string; repo?: { full_name?: string } | null };
    base?: { ref?: string; repo?: { full_name?: string } };
  };
}

export function readEventPayload(env: Env): EventPayload {
  const path = env.GITHUB_EVENT_PATH;
  if (!path) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as EventPayload;
  } catch {
    return {}; // act and local runs may point at an empty or missing file
  }
}

function prNumber(env: Env, event: EventPayload): number | undefined {
  const fromPayload = event.pull_request?.number ?? (event.pull_request ? event.number : undefined);
  if (Number.isSafeInteger(fromPayload) && (fromPayload as number) > 0) return fromPayload;
  const m = /^refs\/pull\/(\d+)\//.exec(env.GITHUB_REF ?? '');
  return m ? Number(m[1]) : undefined;
}

/** Pure: identity from an environment and an already-parsed event payload. */
export function identityFrom(
  env: Env,
  event: EventPayload,
  nonce: string,
  host: string,
  o: { container?: boolean; runnerName?: string; jobKey?: string } = {},
): JobIdentity {
  const pr = prNumber(env, event);
  // pull_request_target checks out the base branch's ref: without the PR's number (an
  // unreadable payload) it would be keyed, and trusted, as the base branch. Such a run gets
  // a PR domain no real PR has, and is treated as a fork.
  const unnumbered = pr === undefined && /^pull_request(_target)?$/.test(env.GITHUB_EVENT_NAME ?? '');
  const branch =
    (pr !== undefined ? env.GITHUB_HEAD_REF || event.pull_request?.head?.ref : undefined) ||
    env.GITHUB_REF_NAME ||
    (env.GITHUB_REF ?? '').replace(/^refs\/(heads|tags)\//, '') ||
    'local';
  const head = event.pull_request?.head?.repo?.full_name;
  const base = event.pull_request?.base?.repo?.full_name;
  // A PR whose head repository is gone (deleted fork) has head.repo null: treat it as a fork.
  const fork = unnumbered || (pr !== undefined && event.pull_request !== undefined && (head === undefined || head !== base));
  const runId = env.GITHUB_RUN_ID || `local-${process.pid}-${Date.now()}`;
  const runAttempt = env.GITHUB_RUN_ATTEMPT || '1';
  const job = env.GITHUB_JOB || 'job';
  const container = o.container ?? false;
  const tag = pr === undefined && ((env.GITHUB_REF ?? '').startsWith('refs/tags/') || env.GITHUB_REF_TYPE === 'tag');
  const key = unnumbered ? contentKey(0, branch) : contentKey(pr, branch, tag);
  const found = baseOf(env, event, unnumbered ? 0 : pr);
  const baseKey = found && contentKey(undefined, found.branch);
  return {
    repository: env.GITHUB_REPOSITORY || 'local/local',
    eventName: env.GITHUB_EVENT_NAME || 'local',
    pr,
    branch,
    key,
    fork,
    workflow: env.GITHUB_WORKFLOW || 'local',
    runId,
    runAttempt,
    job,
    jobKey: o.jobKey ?? '',
    // A base that is this domain itself (a run on the base branch) seeds nothing.
    ...(found && baseKey !== key ? { baseKey, base: found } : {}),
    ...runnerIdentity(env, o.runnerName, host, container),
    host,
    container,
    nonce,
    jobUid: `${safeComponent(runId, 32)}-${safeComponent(runAttempt, 8)}-${safeComponent(job, 40)}-${nonce}`,
  };
}

export function currentIdentity(env: Env = process.env, o: { runnerName?: string; jobKey?: string } = {}): JobIdentity {
  return identityFrom(env, readEventPayload(env), randomBytes(4).toString('hex'), hostname(), { ...o, container: inContainer() });
}
