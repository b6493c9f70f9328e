import { promises as fs } from 'node:fs';

/** True when something (even a dangling symlink) is at the path. */
export const exists = (p: string): Promise<boolean> => fs.lstat(p).then(() => true, () => false);

/** The error a uid gets for another uid's files: the cue to leave them to root (owner.ts). */
export const isPermissionError = (e: unknown): boolean => ['EACCES', 'EPERM'].includes((e as NodeJS.ErrnoException)?.code ?? '');
