import { appendFileSync } from 'node:fs';

/*
 * The audit log (CARGO_ISOLATE_AUDIT): one line per lease, release and removal, with the liveness
 * evidence each rested on.
 */

/**
 * An optional append-only log of leases and removals (env CARGO_ISOLATE_AUDIT=<file>), with
 * the liveness evidence each decision rested on. The stress suite checks its invariants
 * against it; on a fleet it answers "who deleted this directory, and why was it idle?".
 * Lines are single O_APPEND writes, so concurrent writers never interleave within a line.
 */
export type AuditEvent =
  | { event: 'lease'; lock: string; dir: string; keeperPid: number; jobUid?: string }
  | { event: 'release'; lock: string; dir: string; keeperPid: number }
  | { event: 'remove'; path: string; outcome: string; why: string; evidence: string };

export function audit(e: AuditEvent): void {
  const file = process.env.CARGO_ISOLATE_AUDIT;
  if (!file) return;
  try {
    appendFileSync(file, JSON.stringify({ t: Date.now(), pid: process.pid, ...e }) + '\n');
  } catch {
    /* an audit log must never break a job */
  }
}
