import { readEventPayload } from '../model/identity.js';
import { trustDomain } from '../model/record.js';
import { formatBytes } from '../model/units.js';
import { scanSlots } from '../pool/lease.js';
import { appendWarmth } from '../pool/warmth.js';
import { prepareRoot } from '../pool/root.js';
import type { Settings } from '../model/settings.js';
import { domainArchives, removeHostArchive } from '../store/archive-host.js';

/*
 * A PR that closed (merged or not) never runs again, unless it is reopened: its builds on the
 * host are worth nothing (value.ts). The host learns it from a run of the action on
 * `pull_request: closed`, which leases nothing, or from `cargo-isolate forget` in a closing
 * workflow of another CI system. Hosts that never see either still let the PR's builds go:
 * a key idle for longer than its usual gap loses worth with its idle time. Its dependency archives
 * (job/tiers.ts) go at once: no other trust domain may restore them.
 */

/** Pure: the PR this run says has closed, when it is a `pull_request` (or `_target`) run for a closed PR. */
export function closedPr(
  env: Record<string, string | undefined>,
  payload: { action?: string; number?: number; pull_request?: { number?: number } },
): { repository: string; key: string } | undefined {
  if (!/^pull_request(_target)?$/.test(env.GITHUB_EVENT_NAME ?? '') || payload.action !== 'closed') return undefined;
  const n = payload.pull_request?.number ?? payload.number;
  if (!Number.isSafeInteger(n) || (n as number) <= 0 || !env.GITHUB_REPOSITORY) return undefined;
  return { repository: env.GITHUB_REPOSITORY, key: `pr-${n}` };
}

export function closedRun(env: Record<string, string | undefined>): { repository: string; key: string } | undefined {
  return closedPr(env, readEventPayload(env) as Parameters<typeof closedPr>[1]);
}

/** The action's main step on a run for a closed PR: the host learns it; undefined for any other run. */
export async function forgetClosedRun(s: Pick<Settings, 'root'>, env: Record<string, string | undefined>): Promise<string | undefined> {
  const closed = closedRun(env);
  if (!closed) return undefined;
  return (await forgetDomain(await prepareRoot(s.root, env), closed.repository, closed.key)).message;
}

/**
 * Records that `repository`'s trust domain `key` has closed, in the host's history; returns
 * what its idle slots hold, which the next guard and the next jobs take first.
 */
export async function forgetDomain(
  root: string,
  repository: string,
  key: string,
  branch?: string,
): Promise<{ slots: string[]; bytes: number; archives: { removed: number; bytes: number; kept: number }; message: string }> {
  await appendWarmth(root, { t: new Date().toISOString(), repository, key, closed: true });
  const mine = trustDomain({ repository, key });
  const slots = (await scanSlots(root)).filter((s) => s.record && trustDomain(s.record) === mine && (s.record.sizes?.target ?? 0) > 0);
  const bytes = slots.reduce((a, s) => a + (s.record?.sizes?.target ?? 0), 0);
  const held = slots.length
    ? `its builds in ${slots.map((s) => s.name).join(', ')} (${formatBytes(bytes)}) are now the first to go when the disk needs room`
    : 'it holds no build on this host';
  const what = key.startsWith('pr-')
    ? `pull request #${key.slice(3)} of ${repository} (${key}) has closed`
    : `branch ${branch ?? key} of ${repository} (${key}) was deleted`;
  const archives = await forgetArchives(root, repository, key);
  return { slots: slots.map((s) => s.name), bytes, archives, message: `${what}: ${held}${archives.text}.` };
}

/**
 * A closed PR's (or deleted branch's) dependency archives: nobody else may restore them, and it
 * never runs again, so they go now. One a restore is reading right now stays for the guard.
 */
async function forgetArchives(root: string, repository: string, key: string): Promise<{ removed: number; bytes: number; kept: number; text: string }> {
  let removed = 0;
  let bytes = 0;
  let kept = 0;
  for (const a of await domainArchives(root, repository, key)) {
    const r = await removeHostArchive(root, a.dir, `${key} of ${repository} closed: its dependency archive`, 120_000).catch(() => undefined);
    if (r?.outcome === 'removed' || r?.outcome === 'left-in-trash') {
      removed++;
      bytes += a.bytes;
    } else if (r?.outcome !== 'absent') kept++;
  }
  const text =
    removed + kept === 0 ? '' : `; ${removed} dependency archives removed (${formatBytes(bytes)})${kept ? `, ${kept} being read left for the guard` : ''}`;
  return { removed, bytes, kept, text };
}
