import { DiskFullError, type GuardOptions, type GuardReport, runGuard } from '../pool/guard.js';
import { guardResult, recordEvent } from '../pool/events.js';

/*
 * A guard run and the line it leaves in the events log (events.ts), by one rule for a job's start
 * (mainJob) and for `cargo-isolate gc`: what `cargo_isolate_guard_runs_total` and
 * `cargo_isolate_guard_freed_bytes_total` count (docs/metrics.md).
 */

/** Who ran the guard: a job before its lease, or `cargo-isolate gc` (the host's timer, or a person). */
export type GuardTrigger = 'job' | 'gc';

type GuardEvent = Parameters<typeof recordEvent>[1];

/**
 * Pure: the event a guard run leaves, or none. A run that fails the floor (`fail-below`) counts
 * as failed. A dry run frees nothing: a job's guard with `dry-run: true` still ran before its
 * lease and counts with nothing freed, but `gc --dry-run` is a person looking, not a guard run,
 * and does not count.
 */
export function guardEvent(
  trigger: GuardTrigger,
  dryRun: boolean,
  outcome: (Pick<GuardReport, 'over' | 'removals' | 'freedBytes'> & Partial<Pick<GuardReport, 'acting' | 'othersBytes'>>) | 'failed',
): GuardEvent | undefined {
  if (outcome === 'failed') return { event: 'guard', trigger, result: 'failed', freed: 0, removals: 0 };
  if (dryRun && trigger === 'gc') return undefined;
  return {
    event: 'guard',
    trigger,
    result: guardResult(outcome),
    freed: dryRun ? 0 : outcome.freedBytes,
    removals: dryRun ? 0 : outcome.removals.length,
  };
}

/** Runs the guard and records it (guardEvent); a failure to record is a debug line, never the run's failure. */
export async function guardAndRecord(o: GuardOptions, trigger: GuardTrigger): Promise<GuardReport> {
  const record = async (outcome: Parameters<typeof guardEvent>[2]) => {
    const e = guardEvent(trigger, o.dryRun, outcome);
    const err = e && (await recordEvent(o.root, e));
    if (err) o.log.debug(`Recording the guard run in ${o.root}'s events log: ${err.message}`);
  };
  let report: GuardReport;
  try {
    report = await runGuard(o);
  } catch (e) {
    if (e instanceof DiskFullError) await record('failed');
    throw e;
  }
  await record(report);
  return report;
}
