import type { DirRecord } from '../model/record.js';
import { writeAtomic } from './fsutil.js';
import { readTextIfPresent } from './absent.js';

// A slot's record (model/record.ts) on disk: read when it can be, written whole.

/** A slot's or job directory's record (model/record.ts) on disk; unknown when absent or unreadable. */
export async function readRecord(path: string): Promise<DirRecord | undefined> {
  const text = await readTextIfPresent(path, { notADirectory: 'absent' });
  if (text === undefined) return undefined;
  try {
    const r = JSON.parse(text) as DirRecord;
    return r && r.format === 1 ? r : undefined;
  } catch {
    return undefined; // torn by a crash of an older writer: treated as unknown
  }
}

/** Written whole or not at all: a reader (the guard, status, the next lease) never sees half a record. */
export const writeRecord = (path: string, record: DirRecord): Promise<void> => writeAtomic(path, JSON.stringify(record, null, 2) + '\n');
