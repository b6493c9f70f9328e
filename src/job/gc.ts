import { type GuardReport, guardOptions } from '../pool/guard.js';
import type { Log } from '../os/log.js';
import { myUid } from '../os/proc.js';
import { currentIdentity } from '../model/identity.js';
import type { Settings } from '../model/settings.js';
import { formatBytes } from '../model/units.js';
import { handBackIdle } from '../owners/handback.js';
import { slotsOfAnotherUid } from '../owners/reclaim.js';
import { guardAndRecord } from './guard-run.js';

/*
 * `cargo-isolate gc`: the host's own guard run (a systemd timer, or an operator by hand), in host
 * scope unless told otherwise, then what only such a run does: give back to the root's owner what
 * root jobs never handed back, and name the slots of another uid this uid can neither reuse nor
 * remove. The CLI reads the flags and prints; the sequence and its words are here.
 */

export interface GcRun {
  guard: GuardReport;
  /** What went back to the root's owner (gc run as root). */
  handedBack: string[];
  /** A dry run that a real run would fail (`fail-below`): why. */
  wouldFail?: string;
}

export async function collectGarbage(s: Settings, root: string, o: { maxAgeMs?: number; log: Log }): Promise<GcRun> {
  const runner = s.runnerName ?? currentIdentity().runnerId;
  const guard = await guardAndRecord(guardOptions(s, root, runner, o.log, { maxAgeMs: o.maxAgeMs }), 'gc');
  // Run as root on a root owned by the runner's user: return what root jobs never handed back.
  const handedBack = s.dryRun ? [] : await handBackIdle(root, s.cleanupTimeoutMs);
  const others = await slotsOfAnotherUid(root, myUid());
  if (others.length) o.log.warning(otherUidsText(others));
  return { guard, handedBack, wouldFail: dryRunFloor(s, guard) };
}

/** Pure: the slots this uid passes over because another uid's files are in them. */
export function otherUidsText(others: { name: string; uid: number; paths: string[] }[]): string {
  const named = others.map((o) => `${o.name} (uid ${o.uid}${o.paths.length ? `: ${o.paths.slice(0, 2).join(', ')}` : ''})`).join(', ');
  return (
    `${named}: slots holding files of another uid, which this uid cannot reuse or remove: needs root. ` + "Run 'cargo-isolate gc' as root (docs/docker-run.md)."
  );
}

/** Pure: a dry run exits as the real run would: the floor against what would be free afterwards. */
export function dryRunFloor(s: Pick<Settings, 'dryRun' | 'failBelowBytes'>, r: Pick<GuardReport, 'after' | 'freedBytes'>): string | undefined {
  const projected = r.after.freeBytes + r.freedBytes;
  if (!s.dryRun || s.failBelowBytes === undefined || projected >= s.failBelowBytes) return undefined;
  return `a real run would fail: about ${formatBytes(projected)} would be free after pruning, below 'fail-below' (${formatBytes(s.failBelowBytes)}).`;
}

/** Pure: the line `gc` ends its report with (the guard's log has each removal): one total. */
export function gcText(r: Pick<GuardReport, 'removals' | 'freedBytes' | 'after' | 'dryRun'>, handedBack: string[]): string {
  const lines: string[] = [];
  const removed = r.removals.filter((x) => (r.dryRun ? x.outcome === 'would remove' : x.outcome === 'removed')).length;
  const left = r.dryRun ? [] : r.removals.filter((x) => x.outcome !== 'removed');
  const leftText = left.length ? `; ${left.length} left (${[...new Set(left.map((x) => x.outcome))].join(', ')})` : '';
  const disk = `disk ${r.after.usedPercent.toFixed(1)}% used, ${formatBytes(r.after.freeBytes)} free`;
  const back = handedBack.length ? `; handed ${handedBack.join(', ')} back to the root's owner` : '';
  lines.push(`${r.dryRun ? 'would free' : 'freed'} ${formatBytes(r.freedBytes)} in ${removed} removal${removed === 1 ? '' : 's'}${leftText}; ${disk}${back}`);
  return lines.join('\n') + '\n';
}
