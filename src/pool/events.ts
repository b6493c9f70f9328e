import { rootPaths } from '../model/layout.js';
import type { Outcome } from './guard.js';
import { appendLine, parseLines } from './jsonlog.js';

/*
 * What jobs tell the metrics besides their units (warmth.ts): each guard run, each lease and how
 * long it waited, each job the runner's hooks left without isolation. One line per event in
 * <root>/events.jsonl (jsonlog.ts: O_APPEND, rotation, torn lines skipped); `cargo-isolate
 * metrics` turns the lines into counters (job/metrics.ts EVENT_METRICS, one row per event: an
 * event added here without its metrics does not compile). Appending never fails a job.
 */

/** Who ran the job's main work: the action's main step, the runner's job-started hook, or `cargo-isolate run`. */
export type Via = 'action' | 'hook' | 'cli';

export type FleetEvent =
  /** A guard run: a job's (before its lease) or the timer's `gc`. */
  | { t: string; event: 'guard'; trigger: 'job' | 'gc'; result: GuardResult; freed: number; removals: number }
  /** A lease taken: how long the job waited for it, and whether its build was there to reuse. */
  | { t: string; event: 'lease'; via: Via; waitedMs: number; warm: boolean }
  /** The job-started hook let a job run without isolation (a bad variable, a refused root, ...). */
  | { t: string; event: 'unisolated'; reason: string }
  /** A dependency archive restored at a job's start (or looked for in vain), or saved at its end (job/tiers.ts). */
  | { t: string; event: 'archive'; tier: ArchiveTier; op: 'restore'; result: RestoreResult; bytes?: number; ms?: number }
  | { t: string; event: 'archive'; tier: ArchiveTier; op: 'save'; result: SaveResult; bytes?: number; ms?: number };

/** Where an archive came from or went: the host's root, or a store every host reaches. */
export type ArchiveTier = 'host' | 'fleet';
/** restored; missed: none fitted; refused: one was corrupt (truncated, altered, unreadable) and was removed; failed: it could not be read. */
export type RestoreResult = 'restored' | 'missed' | 'refused' | 'failed';
export type SaveResult = 'saved' | 'failed';

export type EventName = FleetEvent['event'];

/** under: nothing to do; freed: removed something and ended under the threshold; over: still over it; failed: fail-below. */
export type GuardResult = 'under' | 'freed' | 'over' | 'failed';

/** Pure: a guard run's result from its report. */
export function guardResult(r: { over: boolean; removals: { outcome: Outcome }[] }): GuardResult {
  return r.over ? 'over' : r.removals.some((x) => x.outcome === 'removed') ? 'freed' : 'under';
}

export const eventsLog = (root: string): string => rootPaths(root).events;

type NewEvent = FleetEvent extends infer E ? (E extends FleetEvent ? Omit<E, 't'> : never) : never;

/** Appends one event; returns the error instead of throwing (a job never fails over its metrics). */
export async function recordEvent(root: string, e: NewEvent): Promise<Error | undefined> {
  try {
    await appendLine(root, eventsLog(root), { t: new Date().toISOString(), ...e });
    return undefined;
  } catch (err) {
    return err as Error;
  }
}

/** Every event the log may hold: one entry per member of FleetEvent, or this does not compile. */
const KNOWN: Record<EventName, true> = { guard: true, lease: true, unisolated: true, archive: true };

/** Pure: the events of a log's text; torn and unknown lines are skipped. */
export function parseEvents(text: string): FleetEvent[] {
  return parseLines<FleetEvent>(text, (o) => typeof o.event === 'string' && Object.hasOwn(KNOWN, o.event));
}
