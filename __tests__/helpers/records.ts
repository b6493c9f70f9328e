import type { DirRecord } from '../../src/model/record.js';
import type { UseEntry } from '../../src/pool/value.js';

/** A slot record for the pure decisions' tables: a PR's build job on runner r1, then `o`. */
export const slotRecord = (o: Partial<DirRecord> = {}): DirRecord => ({
  format: 1,
  name: 's',
  layout: 'slot',
  repository: 'acme/w',
  key: 'pr-1',
  runnerId: 'r1',
  runnerName: 'r1',
  host: 'h',
  workflow: 'ci',
  runId: '10',
  runAttempt: '1',
  job: 'build',
  jobUid: 'u',
  leasedAt: '2026-01-01T00:00:00Z',
  lastUsed: '2026-01-01T00:00:00Z',
  ...o,
});

/**
 * One job's line in the host's history for the value tables: a cold `test` of pr-1 (90 units
 * built, 20 minutes), `at` ms after the table's epoch (`iso` says when that is), then `o`.
 */
export const historyLine =
  (iso: (ms: number) => string) =>
  (o: Partial<UseEntry> & { at: number }): UseEntry => ({
    t: iso(o.at),
    repository: 'acme/w',
    workflow: 'ci',
    job: 'test',
    key: 'pr-1',
    run: String(o.at),
    built: 90,
    fresh: 0,
    ms: 20 * 60_000,
    ...o,
  });
