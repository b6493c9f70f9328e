import { describe, expect, test } from '@jest/globals';
import { BASE_RULE_TEXT, type BaseRule, baseOf, describeBase } from '../src/model/base.js';
import { identityFrom } from '../src/model/identity.js';

/*
 * Issue 20: the base of every kind of run, from the environment and event payload the runner
 * gives the job. Payloads are shaped as GitHub documents them ("Webhook events and payloads";
 * "Events that trigger workflows" for GITHUB_REF per event) and as Forgejo/Gitea sends a push
 * (modules/structs/hook.go PushPayload: no `created`, `before` all zeros for a new ref),
 * trimmed to the fields near the ones read, with the ones that must not be read kept in.
 */
const SHA = '9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c0b2d4f6e';
const ZERO = '0000000000000000000000000000000000000000';
const repository = { id: 1296269, name: 'widgets', full_name: 'acme/widgets', private: false, default_branch: 'main', master_branch: 'main' };
const fork = { ...repository, id: 99, full_name: 'mallory/widgets' };
const sender = { login: 'octocat', id: 1, type: 'User' };
const pull = (n: number, head: object, headRef = 'feature-x') => ({
  url: `https://api.github.com/repos/acme/widgets/pulls/${n}`,
  number: n,
  state: 'open',
  head: { label: 'x:feature-x', ref: headRef, sha: SHA, repo: head },
  base: { label: 'acme:main', ref: 'main', sha: SHA, repo: repository },
});
const gh = (event: string, ref: string, extra: Record<string, string> = {}) => ({
  GITHUB_ACTIONS: 'true',
  GITHUB_REPOSITORY: 'acme/widgets',
  GITHUB_EVENT_NAME: event,
  GITHUB_REF: ref,
  GITHUB_REF_NAME: ref.replace(/^refs\/(heads|tags)\//, '').replace(/^refs\/pull\/(\d+)\/merge$/, '$1/merge'),
  GITHUB_HEAD_REF: '',
  GITHUB_BASE_REF: '',
  GITHUB_RUN_ID: '4242',
  GITHUB_JOB: 'test',
  GITHUB_WORKFLOW: 'ci',
  ...extra,
});
const queueRef = `refs/heads/gh-readonly-queue/main/pr-31-${SHA}`;

type Case = [string, Record<string, string>, object, { key: string | RegExp; base?: string; rule?: BaseRule; from?: string; fork?: boolean }];
const cases: Case[] = [
  [
    'pull_request from a branch of the repository',
    gh('pull_request', 'refs/pull/7/merge', { GITHUB_HEAD_REF: 'feature-x', GITHUB_BASE_REF: 'main' }),
    { action: 'synchronize', number: 7, pull_request: pull(7, repository), repository, sender },
    { key: 'pr-7', base: 'main', rule: 'pull-request', from: 'GITHUB_BASE_REF', fork: false },
  ],
  [
    'pull_request from a fork',
    gh('pull_request', 'refs/pull/8/merge', { GITHUB_HEAD_REF: 'feature-x', GITHUB_BASE_REF: 'main' }),
    { action: 'opened', number: 8, pull_request: pull(8, fork), repository, sender },
    { key: 'pr-8', base: 'main', rule: 'pull-request', fork: true },
  ],
  // Runs in the base's context: GITHUB_REF is the base branch, yet the key is the PR's and
  // the trust is the head repository's.
  [
    'pull_request_target from a branch of the repository',
    gh('pull_request_target', 'refs/heads/main', { GITHUB_HEAD_REF: 'feature-x', GITHUB_BASE_REF: 'main' }),
    { action: 'opened', number: 9, pull_request: pull(9, repository), repository, sender },
    { key: 'pr-9', base: 'main', rule: 'pull-request-target', from: 'GITHUB_BASE_REF', fork: false },
  ],
  [
    'pull_request_target from a fork',
    gh('pull_request_target', 'refs/heads/main', { GITHUB_HEAD_REF: 'main', GITHUB_BASE_REF: 'main' }),
    { action: 'synchronize', number: 10, pull_request: pull(10, fork, 'main'), repository, sender },
    { key: 'pr-10', base: 'main', rule: 'pull-request-target', fork: true },
  ],
  [
    "pull_request_target whose payload could not be read: never the base branch's key",
    gh('pull_request_target', 'refs/heads/main', { GITHUB_HEAD_REF: 'main', GITHUB_BASE_REF: 'main' }),
    {},
    { key: 'pr-0', base: 'main', rule: 'pull-request-target', fork: true },
  ],
  [
    'push to the default branch',
    gh('push', 'refs/heads/main'),
    {
      ref: 'refs/heads/main',
      before: SHA,
      after: SHA,
      created: false,
      deleted: false,
      forced: false,
      base_ref: null,
      repository,
      pusher: { name: 'octocat' },
      sender,
    },
    { key: 'ref-main' },
  ],
  [
    'push to an existing branch',
    gh('push', 'refs/heads/dev'),
    { ref: 'refs/heads/dev', before: SHA, after: SHA, created: false, deleted: false, forced: false, base_ref: null, repository, sender },
    { key: 'ref-dev', base: 'main', rule: 'branch', from: 'repository.default_branch' },
  ],
  [
    'push creating a branch',
    gh('push', 'refs/heads/feature/login'),
    { ref: 'refs/heads/feature/login', before: ZERO, after: SHA, created: true, deleted: false, forced: false, base_ref: null, repository, sender },
    { key: /^ref-feature-login\+[0-9a-f]{16}$/, base: 'main', rule: 'new-branch', from: 'repository.default_branch' },
  ],
  // A tag's push names the branch whose head it points at in base_ref; the base is still the
  // default branch: a tag on an old commit of a release branch is built like any other.
  [
    'push of a tag',
    gh('push', 'refs/tags/v1.2.0'),
    { ref: 'refs/tags/v1.2.0', before: ZERO, after: SHA, created: true, deleted: false, forced: false, base_ref: 'refs/heads/main', repository, sender },
    { key: 'tag-v1.2.0', base: 'main', rule: 'tag', from: 'repository.default_branch' },
  ],
  // Branch protection on main does not cover a tag named main: it is not main's domain.
  [
    'push of a tag named like the default branch',
    gh('push', 'refs/tags/main'),
    { ref: 'refs/tags/main', before: ZERO, after: SHA, created: true, deleted: false, forced: false, base_ref: null, repository, sender },
    { key: 'tag-main', base: 'main', rule: 'tag' },
  ],
  [
    'the push GitHub also sends when a merge-queue branch is made',
    gh('push', queueRef),
    { ref: queueRef, before: ZERO, after: SHA, created: true, base_ref: null, repository, sender },
    { key: /^ref-gh-readonly-queue-main-pr-31-/, base: 'main', rule: 'new-branch' },
  ],
  [
    'merge_group',
    gh('merge_group', queueRef),
    {
      action: 'checks_requested',
      merge_group: {
        head_sha: SHA,
        head_ref: queueRef,
        base_sha: SHA,
        base_ref: 'refs/heads/main',
        head_commit: {
          id: SHA,
          tree_id: SHA,
          message: 'Merge #31',
          timestamp: '2026-11-24T10:00:00Z',
          author: { name: 'a', email: 'a@x' },
          committer: { name: 'a', email: 'a@x' },
        },
      },
      repository,
      sender,
    },
    { key: /^ref-gh-readonly-queue-main-pr-31-/, base: 'main', rule: 'merge-queue', from: 'merge_group.base_ref', fork: false },
  ],
  [
    'merge_group into a release branch',
    gh('merge_group', `refs/heads/gh-readonly-queue/release/1.x/pr-40-${SHA}`),
    {
      action: 'checks_requested',
      merge_group: { head_sha: SHA, head_ref: `refs/heads/gh-readonly-queue/release/1.x/pr-40-${SHA}`, base_sha: SHA, base_ref: 'refs/heads/release/1.x' },
      repository,
      sender,
    },
    { key: /^ref-gh-readonly-queue-release-1.x-pr-40-/, base: 'release/1.x', rule: 'merge-queue' },
  ],
  // GitHub documents no payload for schedule; the event file carries the cron line, and a
  // scheduled run is on the default branch: its own key, no base.
  [
    'schedule (on the default branch)',
    gh('schedule', 'refs/heads/main'),
    { schedule: '30 5 * * 1-5', workflow: '.github/workflows/nightly.yml', repository, sender },
    { key: 'ref-main' },
  ],
  [
    'schedule on another branch (Forgejo may run one there)',
    gh('schedule', 'refs/heads/stable'),
    { schedule: '30 5 * * 1-5', repository },
    { key: 'ref-stable', base: 'main', rule: 'schedule' },
  ],
  [
    'workflow_dispatch on the default branch',
    gh('workflow_dispatch', 'refs/heads/main'),
    { inputs: { level: 'full' }, ref: 'refs/heads/main', repository, sender, workflow: '.github/workflows/ci.yml' },
    { key: 'ref-main' },
  ],
  [
    'workflow_dispatch on another branch',
    gh('workflow_dispatch', 'refs/heads/dev'),
    { inputs: {}, ref: 'refs/heads/dev', repository, sender, workflow: '.github/workflows/ci.yml' },
    { key: 'ref-dev', base: 'main', rule: 'manual', from: 'repository.default_branch' },
  ],
  [
    'workflow_dispatch on a tag',
    gh('workflow_dispatch', 'refs/tags/v1.2.0'),
    { inputs: {}, ref: 'refs/tags/v1.2.0', repository, sender },
    { key: 'tag-v1.2.0', base: 'main', rule: 'tag' },
  ],
  [
    'release',
    gh('release', 'refs/tags/v2.0.0'),
    {
      action: 'published',
      release: { id: 1, tag_name: 'v2.0.0', target_commitish: 'main', name: 'v2.0.0', draft: false, prerelease: false },
      repository,
      sender,
    },
    { key: 'tag-v2.0.0', base: 'main', rule: 'release', from: 'repository.default_branch' },
  ],
  [
    'Forgejo push creating a branch',
    gh('push', 'refs/heads/topic', { GITHUB_ACTIONS: 'true', GITEA_ACTIONS: 'true' }),
    {
      ref: 'refs/heads/topic',
      before: ZERO,
      after: SHA,
      compare_url: 'https://code.example/acme/widgets/compare/0...9f',
      commits: [],
      total_commits: 0,
      head_commit: null,
      repository: { id: 3, name: 'widgets', full_name: 'acme/widgets', default_branch: 'trunk' },
      pusher: { login: 'o' },
      sender: { login: 'o' },
    },
    { key: 'ref-topic', base: 'trunk', rule: 'new-branch', from: 'repository.default_branch' },
  ],
  [
    'Forgejo push to the default branch',
    gh('push', 'refs/heads/trunk'),
    { ref: 'refs/heads/trunk', before: SHA, after: SHA, commits: [], repository: { full_name: 'acme/widgets', default_branch: 'trunk' } },
    { key: 'ref-trunk' },
  ],
  ['a push without a payload (act, a local run): no default branch known, no base', gh('push', 'refs/heads/dev'), {}, { key: 'ref-dev' }],
];

describe('the base of every kind of run', () => {
  test.each(cases)('%s', (_, env, payload, want) => {
    const id = identityFrom(env, payload as Parameters<typeof identityFrom>[1], 'n', 'h');
    if (typeof want.key === 'string') expect(id.key).toBe(want.key);
    else expect(id.key).toMatch(want.key);
    if (want.fork !== undefined) expect(id.fork).toBe(want.fork);
    if (want.base === undefined) {
      expect([id.base, id.baseKey]).toEqual([undefined, undefined]);
      return;
    }
    expect(id.base).toMatchObject({ branch: want.base, rule: want.rule, ...(want.from ? { from: want.from } : {}) });
    expect(id.baseKey).toBe(identityFrom(gh('push', `refs/heads/${want.base}`), {}, 'n', 'h').key); // the base's pushes' key
    expect(id.baseKey).not.toBe(id.key);
  });

  test('every rule has a text, and the log names the base and the rule', () => {
    const rules: BaseRule[] = ['pull-request', 'pull-request-target', 'merge-queue', 'new-branch', 'branch', 'tag', 'release', 'schedule', 'manual'];
    expect(Object.keys(BASE_RULE_TEXT).sort()).toEqual([...rules].sort());
    const b = { branch: 'main', rule: 'merge-queue' as const, from: 'merge_group.base_ref' };
    expect(describeBase(b, 'base')).toBe('a first run from main (merge queue; merge_group.base_ref)');
    expect(describeBase(b, 'own-job')).toMatch(/not needed: a slot of its own/);
    expect(describeBase(b, 'same-job')).toMatch(/not used/);
  });

  test('merge_group without a base_ref falls back to the default branch; without either, none', () => {
    expect(baseOf({ GITHUB_EVENT_NAME: 'merge_group', GITHUB_REF: queueRef }, { merge_group: {}, repository: { default_branch: 'main' } }, undefined)).toEqual({
      branch: 'main',
      rule: 'merge-queue',
      from: 'repository.default_branch',
    });
    expect(baseOf({ GITHUB_EVENT_NAME: 'merge_group', GITHUB_REF: queueRef }, {}, undefined)).toBeUndefined();
  });

  test("a SHA-256 repository's new branch (before is 64 zeros) is a new branch too", () => {
    const b = baseOf({ GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/x' }, { before: '0'.repeat(64), repository: { default_branch: 'main' } }, undefined);
    expect(b?.rule).toBe('new-branch');
  });
});
