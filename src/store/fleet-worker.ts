import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runBounded } from '../os/run.js';
import type { CacheRestoreRequest, CacheRestoreResult, CacheSaveRequest, CacheSaveResult } from './actions-cache-ops.js';
import type { DirFetch, DirFetchRequest, DirPut, DirPutRequest } from './fleet-dir.js';

/*
 * Every call to a fleet store runs in a worker process of its own (src/fleet-worker.ts, bundled
 * into dist/fleet-worker), given its request on stdin, answering with one line of JSON, and
 * killed at a time bound. A fleet store fails in ways a job's own process must never share: an
 * NFS server that stops answering blocks a read on a hard mount in the kernel, where no timer
 * reaches it; an HTTP call to a cache service that stops mid-transfer keeps a socket, and with it
 * the post step's process, alive. The worker takes either with it when it is killed, and the job
 * goes on (os/run.ts `runBounded`). It also keeps @actions/cache (3.5 MB, 90 ms to load) out of
 * every other bundle.
 */

export type WorkerRequest =
  | ({ op: 'dir-fetch' } & DirFetchRequest)
  | ({ op: 'dir-put' } & DirPutRequest)
  | ({ op: 'cache-restore' } & CacheRestoreRequest)
  | ({ op: 'cache-save' } & CacheSaveRequest);

/** What each request answers. */
export interface WorkerResults {
  'dir-fetch': DirFetch;
  'dir-put': DirPut;
  'cache-restore': CacheRestoreResult;
  'cache-save': CacheSaveResult;
}

/** What the worker's libraries said on the way (@actions/core's annotations and lines), kept for the job's log. */
export interface WorkerNotes {
  warnings: string[];
  errors: string[];
  /** The last lines of its log. */
  lines: string[];
}

export type WorkerReply<T> = { ok: true; result: T; notes: WorkerNotes } | { ok: false; timedOut: boolean; detail: string; notes: WorkerNotes };

/** The line the worker writes its answer on: the last line of its stdout. */
export const REPLY_MARK = 'cargo-isolate-fleet-worker-reply ';

/**
 * The command that runs the worker: the bundle beside this one (dist/<entry>/index.js ->
 * dist/fleet-worker/index.js), or, where this module runs as TypeScript (the tests, the bench),
 * src/fleet-worker.ts under the project's loader.
 */
export function workerCommand(here = fileURLToPath(import.meta.url)): string[] {
  if (here.endsWith('.ts')) {
    const top = dirname(dirname(dirname(here)));
    return ['--import', pathToFileURL(join(top, 'scripts', 'lib', 'typescript.mjs')).href, join(top, 'src', 'fleet-worker.ts')];
  }
  return [join(dirname(here), '..', 'fleet-worker', 'index.js')];
}

const noNotes: WorkerNotes = { warnings: [], errors: [], lines: [] };

/** Pure: the worker's stdout as its reply. */
export function parseReply<T>(stdout: string): { result?: T; error?: string; notes: WorkerNotes } | undefined {
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(REPLY_MARK));
  if (!line) return undefined;
  try {
    return JSON.parse(line.slice(REPLY_MARK.length)) as { result?: T; error?: string; notes: WorkerNotes };
  } catch {
    return undefined;
  }
}

/**
 * Runs one request in a worker, within `timeoutMs`; never rejects. `cwd` and `env` are the
 * worker's (the Actions cache calls need both: workspace-relative paths).
 */
export async function callWorker<R extends WorkerRequest>(
  req: R,
  o: { timeoutMs: number; cwd?: string; env?: NodeJS.ProcessEnv },
): Promise<WorkerReply<WorkerResults[R['op']]>> {
  const r = await runBounded(process.execPath, [...workerCommand(), String(o.timeoutMs)], {
    timeoutMs: o.timeoutMs,
    input: JSON.stringify(req),
    cwd: o.cwd,
    env: o.env ?? process.env,
  });
  if (r.timedOut) return { ok: false, timedOut: true, detail: `no answer within ${Math.round(o.timeoutMs / 1000)} s: stopped`, notes: noNotes };
  const reply = parseReply<WorkerResults[R['op']]>(r.stdout);
  if (!reply) {
    const why = r.error ? r.error.message : r.stderr.trim().split('\n').slice(-3).join('; ') || `it exited with ${r.code ?? r.signal}`;
    return { ok: false, timedOut: false, detail: `the fleet store's worker process failed: ${why}`, notes: noNotes };
  }
  if (reply.error !== undefined || reply.result === undefined) return { ok: false, timedOut: false, detail: reply.error ?? 'no result', notes: reply.notes };
  return { ok: true, result: reply.result, notes: reply.notes };
}
