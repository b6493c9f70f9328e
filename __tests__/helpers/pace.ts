import { setTimeout as sleep } from 'node:timers/promises';
import { currentPace } from '../../scripts/lib/pace.mjs';

/*
 * Limits that only guard against a hang grow with how busy the machine was when the run started
 * (scripts/lib/pace.mjs, measured by jest.config.js). What a test asserts never does: a wait ends
 * on the outcome it waits for, or fails early when the process it waits on ends first.
 */
export const PACE = currentPace();

/** `ms` on an idle machine, as a limit for this run. */
export const scaled = (ms: number): number => Math.round(ms * PACE);

/**
 * Polls `ok` until it holds and returns the ms it took. Fails, naming `what`, when `unless`
 * settles first (the build or process it waits on ended: it never will hold), or after `ms`
 * (scaled) as a guard against a hang.
 */
export async function until(
  what: string,
  ok: () => boolean | Promise<boolean>,
  o: { ms?: number; unless?: Promise<unknown>; every?: number } = {},
): Promise<number> {
  const t0 = Date.now();
  const limit = scaled(o.ms ?? 30_000);
  let ended = false;
  o.unless?.then(
    () => (ended = true),
    () => (ended = true),
  );
  for (;;) {
    if (await ok()) return Date.now() - t0;
    if (ended) {
      if (await ok()) return Date.now() - t0;
      throw new Error(`waiting for ${what}: what it waited on ended first`);
    }
    if (Date.now() - t0 > limit) throw new Error(`waiting for ${what}: not within ${limit} ms (pace ${PACE})`);
    await sleep(o.every ?? 50);
  }
}
