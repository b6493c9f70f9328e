import { type WorkerNotes, type WorkerRequest, REPLY_MARK } from './store/fleet-worker.js';
import { fetchFromDir, putToDir } from './store/fleet-dir.js';

/*
 * What dist/fleet-worker runs: one call to a fleet store, read from stdin as JSON, answered on
 * the last line of stdout (store/fleet-worker.ts says why a process of its own). What the
 * libraries print on the way (@actions/core's `::warning::` lines and the rest) is kept, not
 * printed: the job's process says it, once, in its own words. The worker ends itself at the time
 * bound its caller gave (argv[2], ms), should the caller be gone and no kill come.
 */

const decode = (v: string) => v.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');

/** Runs the request on stdin; the exit code is 0 whenever a reply was written. */
export async function runWorker(boundMs?: string): Promise<number> {
  const bound = Number(boundMs);
  if (bound > 0) setTimeout(() => process.exit(124), bound).unref();
  const notes: WorkerNotes = { warnings: [], errors: [], lines: [] };
  const write = process.stdout.write.bind(process.stdout);
  const keep = (text: string) => {
    for (const line of text.split(/\r?\n/).filter(Boolean)) {
      const m = /^::(warning|error)[^:]*::(.*)$/.exec(line);
      if (m) (m[1] === 'warning' ? notes.warnings : notes.errors).push(decode(m[2]));
      else if (!line.startsWith('::debug::')) notes.lines = [...notes.lines.slice(-19), line];
    }
  };
  process.stdout.write = ((chunk: string | Uint8Array) => {
    keep(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return true;
  }) as typeof process.stdout.write;
  const reply = (body: object) => write(`${REPLY_MARK}${JSON.stringify({ ...body, notes })}\n`);
  try {
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    const req = JSON.parse(input) as WorkerRequest;
    reply({ result: await serve(req) });
  } catch (e) {
    reply({ error: (e as Error).message });
  }
  return 0;
}

async function serve(req: WorkerRequest): Promise<unknown> {
  switch (req.op) {
    case 'dir-fetch':
      return fetchFromDir(req);
    case 'dir-put':
      return putToDir(req);
    case 'cache-restore': {
      // Imported here only: the directory's calls need none of it.
      const { cacheRestore } = await import('./store/actions-cache-ops.js');
      return cacheRestore(req);
    }
    case 'cache-save': {
      const { cacheSave } = await import('./store/actions-cache-ops.js');
      return cacheSave(req);
    }
  }
}
