import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { removeScratch } from './scratch.js';
import { makeConsumer, makeRegistry, serveRegistry } from '../../scripts/lib/registry.mjs';

export interface LocalRegistry {
  scratch: string;
  crates: ReturnType<typeof makeRegistry>;
  server: Awaited<ReturnType<typeof serveRegistry>>;
  /** A consumer workspace of every crate, locked against this registry; one per name. */
  checkout(name: string, prepare?: (dir: string) => Promise<void>): Promise<string>;
  close(): Promise<void>;
}

/**
 * A sparse registry of `count` crates served on 127.0.0.1, in a scratch directory of its own, and
 * locked consumers of it: what the warmth, replay, first-run and metric suites build. A runner's
 * work folder is its own, so suites that shuffle runners take one checkout per runner.
 */
export async function localRegistry(prefix: string, count = 6): Promise<LocalRegistry> {
  const scratch = await fs.mkdtemp(join(tmpdir(), prefix));
  const crates = makeRegistry(join(scratch, 'registry'), { count });
  const server = await serveRegistry(join(scratch, 'registry'));
  const checkouts = new Map<string, string>();
  return {
    scratch,
    crates,
    server,
    async checkout(name, prepare) {
      if (!checkouts.has(name)) {
        const dir = makeConsumer(join(scratch, `ws-${name}`), server.url, crates);
        if (prepare) await prepare(dir);
        await promisify(execFile)('cargo', ['generate-lockfile'], { cwd: dir, env: { ...process.env, CARGO_HOME: join(scratch, 'lockgen-home') } });
        checkouts.set(name, dir);
      }
      return checkouts.get(name)!;
    },
    async close() {
      await server.close();
      await removeScratch(scratch);
    },
  };
}
