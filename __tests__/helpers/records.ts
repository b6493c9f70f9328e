import type { DirRecord } from '../../src/model/record.js';

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
