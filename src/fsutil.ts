import { promises as fs } from 'node:fs';

/** True when something (even a dangling symlink) is at the path. */
export const exists = (p: string): Promise<boolean> => fs.lstat(p).then(() => true, () => false);
