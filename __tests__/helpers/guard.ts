import { consoleLog } from '../../src/os/log.js';
import { type GuardReport, runGuard } from '../../src/pool/guard.js';
import { scaled } from './pace.js';

/**
 * A host-scope guard that removes whatever has been idle for over a second, as `gc --max-age 1s`
 * from a reaper would: the planted-link tests use it to show that nothing live is reached.
 */
export function pruneIdle(root: string, log = consoleLog(false, true)): Promise<GuardReport> {
  return runGuard({
    root,
    threshold: { kind: 'percent', percent: 99 },
    target: { kind: 'percent', percent: 98 },
    scope: 'host',
    runnerId: 'gc',
    dryRun: false,
    maxAgeMs: 1000,
    timeoutMs: scaled(30_000),
    log,
  });
}
