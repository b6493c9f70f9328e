import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { contentKey, safeComponent, sha256Hex } from './key.js';

/** Who is asking for directories: derived from the runner's environment (GitHub or Forgejo/act). */
export interface JobIdentity {
  repository: string;
  eventName: string;
  pr?: number;
  branch: string;
  /** Trust domain: `pr-<n>` or `ref-<branch>`; see key.ts. */
  key: string;
  /** Head repository differs from the base repository (a fork PR), when the payload says. */
  fork: boolean;
  /** Workflow name: a cancel-in-progress predecessor runs the same workflow and job. */
  workflow: string;
  runId: string;
  runAttempt: string;
  job: string;
  runnerName: string;
  /** Runner name plus a hash of its work root: repo- and org-level runners may share a name. */
  runnerId: string;
  host: string;
  /** Matrix legs share run id and job id; the nonce makes each job's uid unique. */
  nonce: string;
  jobUid: string;
}

type Env = Record<string, string | undefined>;

interface EventPayload {
  number?: number;
  pull_request?: {
    number?: number;
    head?: { ref?: string; repo?: { full_name?: string } | null };
    base?: { repo?: { full_name?: string } };
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
export function identityFrom(env: Env, event: EventPayload, nonce: string, host: string): JobIdentity {
  const pr = prNumber(env, event);
  const branch =
    (pr !== undefined ? env.GITHUB_HEAD_REF || event.pull_request?.head?.ref : undefined) ||
    env.GITHUB_REF_NAME ||
    (env.GITHUB_REF ?? '').replace(/^refs\/(heads|tags)\//, '') ||
    'local';
  const head = event.pull_request?.head?.repo?.full_name;
  const base = event.pull_request?.base?.repo?.full_name;
  // A PR whose head repository is gone (deleted fork) has head.repo null: treat it as a fork.
  const fork = pr !== undefined && event.pull_request !== undefined && (head === undefined || head !== base);
  const runId = env.GITHUB_RUN_ID || `local-${process.pid}-${Date.now()}`;
  const runAttempt = env.GITHUB_RUN_ATTEMPT || '1';
  const job = env.GITHUB_JOB || 'job';
  const runnerName = env.RUNNER_NAME || `${host}`;
  const workRoot = env.RUNNER_WORKSPACE ? dirname(env.RUNNER_WORKSPACE) : '';
  const runnerId = workRoot ? `${runnerName}@${sha256Hex(`${host}:${workRoot}`).slice(0, 8)}` : runnerName;
  return {
    repository: env.GITHUB_REPOSITORY || 'local/local',
    eventName: env.GITHUB_EVENT_NAME || 'local',
    pr,
    branch,
    key: contentKey(pr, branch),
    fork,
    workflow: env.GITHUB_WORKFLOW || 'local',
    runId,
    runAttempt,
    job,
    runnerName,
    runnerId,
    host,
    nonce,
    jobUid: `${safeComponent(runId, 32)}-${safeComponent(runAttempt, 8)}-${safeComponent(job, 40)}-${nonce}`,
  };
}

export function currentIdentity(env: Env = process.env): JobIdentity {
  return identityFrom(env, readEventPayload(env), randomBytes(4).toString('hex'), hostname());
}
