import { describeCopy } from '../pool/warm-copy.js';
import { appendSummary } from '../os/runner-io.js';
import type { GuardReport } from '../pool/guard.js';
import type { EndedJob, StartedJob } from './types.js';
import { formatBytes, formatDuration } from '../model/units.js';
import { TIER_TEXT } from '../pool/choose.js';
import { describeBase } from '../model/base.js';
import { type UnitCount } from '../pool/warmth.js';
import { describeServer } from '../host/sccache.js';
import { VERSION } from '../model/version.js';
import { START_TIER_TEXT, type StartTier, describeRestore, describeSave } from './tiers.js';
import { describeSources } from './shared-home.js';

/*
 * What a person reads about one job: the action's job summary (one table of what the job got and
 * what its end did, then the guard's removals), the lines the runner's hooks write instead, and
 * the words for units built and fresh. Pure but for writeSummary.
 */

type Row = [string, string];

/**
 * Pure: what cargo built and found fresh, e.g. `2 built (app, util), 48 fresh`. `kept` says the
 * slot's previous build was there (decideReset's `warm`): if cargo still rebuilt everything, the
 * words say so instead of calling the start both warm and cold.
 */
export function unitsText(u: UnitCount, kept?: boolean): string {
  if (u.built + u.fresh === 0) return 'none in the target dir (no cargo build in this job?)';
  const named = u.built > 0 && u.builtCrates?.length ? ` (${u.builtCrates.join(', ')})` : '';
  const what =
    u.built === 0
      ? ': a warm start, nothing recompiled'
      : u.fresh === 0
        ? kept
          ? ": everything recompiled although the slot's last build was kept (another workspace path, toolchain, profile or features)"
          : ': a cold start'
        : '';
  return `${u.built} built${named}, ${u.fresh} fresh${what}`;
}

/** Pure: which tier a start came from and, for a start from none, why each tier missed. */
export function startedFromText(from: StartTier, misses: { tier: StartTier; why: string }[] = []): string {
  const missed = misses.map((m) => `${m.tier}: ${m.why}`).join('; ');
  return `${from} (${START_TIER_TEXT[from]})${missed ? `; missed: ${missed}` : ''}`;
}

/** Pure: the rows of the job summary, so tests can read what a person will see. */
export function summaryRows(job: StartedJob | undefined, ended: EndedJob, guard: GuardReport | undefined): { main: Row[]; guard: string[][] } {
  const main: Row[] = [];
  if (job) {
    const id = job.identity;
    main.push(['Trust domain', `${id.repository} ${id.key}`]);
    main.push([
      job.layout === 'slot' ? 'Slot' : 'Job directory',
      `${job.slot} (${job.layout === 'slot' ? `${job.tier}: ${TIER_TEXT[job.tier]}` : 'new'}` +
        `${job.waitedMs > 1000 ? `, waited ${formatDuration(job.waitedMs)}` : ''})`,
    ]);
    if (id.base && job.layout === 'slot') main.push(['Base', describeBase(id.base, job.tier)]);
    main.push(['Start', job.reset.reset ? `fresh: ${job.reset.reason}` : job.reset.reason]);
    main.push(['Runner', `${id.runnerId} (from ${id.runnerFrom}${id.container ? ', in a container' : ''})`]);
    if (job.foreign?.length)
      main.push([
        'Passed over',
        `${job.foreign.join(', ')}: files of another uid never handed back (a root job whose post step did not run, or a \`docker run\` step as root)`,
      ]);
    main.push(['CARGO_TARGET_DIR', job.dirs.target]);
    main.push(['CARGO_HOME', `${job.exports?.CARGO_HOME ?? job.dirs.cargoHome}${job.home ? ` (${job.home.reason})` : ''}`]);
    if (job.copy) main.push(['Warm copy', describeCopy(job.copy)]);
    if (job.restore) main.push(['Archive restore', describeRestore(job.restore)]);
    main.push(['TMPDIR', job.dirs.tmp]);
    if (job.sccache) main.push(['sccache', describeServer(job.sccache)]);
    main.push(['Held for', formatDuration(Date.now() - Date.parse(job.startedAt))]);
  }
  const seed = job?.crates?.seed;
  if (seed) {
    main.push([
      'Crates seeded',
      `${seed.seeded} of ${seed.locked} locked (${formatBytes(seed.seededBytes)} not downloaded, ${seed.mode}); ` +
        `${seed.present} already there, ${seed.missing} not in the store`,
    ]);
    if (seed.copiedInstead) main.push(['Crates copied', `${seed.copiedInstead} copied instead of linked: ${seed.copyReason}`]);
    for (const m of seed.mismatches) main.push(['Crate not seeded', `${m.crate}: ${m.why}`]);
  }
  const gs = job?.crates?.gitSeed;
  if (gs) {
    main.push([
      'Git deps seeded',
      `${gs.seeded.length} of ${gs.locked} locked (${formatBytes(gs.seededBytes)} not fetched, ${gs.mode}); ${gs.present} already there`,
    ]);
    for (const n of gs.notSeeded) main.push(['Git dep not seeded', `${n.dep}: ${n.why}`]);
  }
  // What went into a store, or why nothing did.
  const published = (p: { allowed: boolean; policy: string; publishedBytes: number; skipped: number }, count: number) =>
    p.allowed
      ? `${count} new (${formatBytes(p.publishedBytes)}), ${p.skipped} already stored`
      : `none: publish-crates is '${p.policy}' and this job is not trusted (fork PR)`;
  const gp = ended.gitPublished;
  if (gp) {
    main.push(['Git deps published', published(gp, gp.published.length)]);
    for (const n of gp.notPublished) main.push(['Git dep not published', `${n.dep}: ${n.why}`]);
  }
  const pub = ended.published;
  if (pub) {
    main.push(['Crates published', published(pub, pub.published)]);
    for (const m of pub.mismatches) main.push(['Crate not published', `${m.crate}: ${m.why}`]);
  }
  if (ended.from) main.push(['Started from', startedFromText(ended.from, ended.misses)]);
  for (const [when, h] of [
    ['at the start', job?.homeCheck],
    ['at the end', ended.homeCheck],
  ] as const) {
    if (h?.sources) main.push([`CARGO_HOME sources ${when}`, describeSources(h.sources)]);
    if (h?.top?.removed.length)
      main.push([
        `CARGO_HOME top ${when}`,
        `removed ${h.top.removed.join(', ')} ` +
          `(${h === ended.homeCheck ? 'written while this job ran, by it or by jobs that ended' : 'left by jobs that ended'})`,
      ]);
  }
  if (ended.units)
    main.push(['Compile units', unitsText(ended.units, job?.reset.warm || job?.copy?.outcome === 'copied' || job?.restore?.outcome === 'restored')]);
  if (ended.archive) main.push(['Archive save', describeSave(ended.archive)]);
  if (ended.sizes)
    main.push([
      'Sizes after the job',
      `target ${formatBytes(ended.sizes.target)}${ended.sizes.cargoHome ? `, private cargo-home ${formatBytes(ended.sizes.cargoHome)}` : ''}`,
    ]);
  for (const r of ended.removed.filter((x) => x.outcome !== 'absent')) main.push(['Cleanup', `${r.outcome}: ${r.path}`]);
  if (ended.handedBack) main.push(['Handed back', ended.handedBack]);
  if (ended.foreign)
    main.push([
      "Another uid's files",
      `${ended.foreign.found.length} entries: ` +
        (ended.foreign.handedBack
          ? `handed back with ${ended.foreign.handedBack}`
          : ended.foreign.marked
            ? 'could not hand back; slot marked, passed over by this uid'
            : 'could not hand back'),
    ]);
  main.push(['Lease', ended.released ? 'released' : 'already ended']);
  const times = Object.entries({ ...job?.phases, ...(ended.releaseMs !== undefined ? { release: ended.releaseMs } : {}) });
  if (times.length) main.push(['Time per phase', times.map(([k, v]) => `${k} ${formatDuration(v)}`).join(', ')]);
  const disk = (d: { usedPercent: number; freeBytes: number }) => `${d.usedPercent.toFixed(1)}% used (${formatBytes(d.freeBytes)} free)`;
  const disks = [
    guard && `before the guard ${disk(guard.before)}`,
    guard && `after it ${disk(guard.after)}`,
    ended.diskAtRelease && `at release ${disk(ended.diskAtRelease)}`,
  ].filter(Boolean);
  if (disks.length) main.push(['Disk', disks.join('; ')]);
  for (const w of ended.warnings) main.push(['Warning', w]);
  const g: string[][] = [];
  if (guard) {
    g.push(['Disk before', `${guard.before.usedPercent.toFixed(1)}% used, ${formatBytes(guard.before.freeBytes)} free`, '', '', '']);
    for (const r of guard.removals) g.push([r.outcome, r.path, formatBytes(r.bytes), formatDuration(r.ageMs), r.owner ?? 'unknown']);
    if (guard.needsRoot?.count)
      g.push(['needs root', `${guard.needsRoot.count} entries of another uid: run 'cargo-isolate gc' as root`, formatBytes(guard.needsRoot.bytes), '', '']);
    g.push(['Disk after', `${guard.after.usedPercent.toFixed(1)}% used, ${formatBytes(guard.after.freeBytes)} free`, formatBytes(guard.freedBytes), '', '']);
  }
  return { main, guard: g };
}

/**
 * Pure: where a step's milliseconds went, for its debug log (and `npm run bench`, which reads it):
 * `start-up` is Node's own start and the loading of the bundle, up to the step's first line.
 */
export function timingsLine(step: 'main' | 'post', parts: [string, number][], totalMs: number): string {
  const each = parts.filter(([, ms]) => ms >= 0.5).map(([k, ms]) => `${k} ${Math.round(ms)} ms`);
  return `Where the ${step} step's time went: ${each.join(', ')}; ${Math.round(totalMs)} ms since the process started.`;
}

/** Pure: the parts of a start that mainJob times itself (job.phases), and what it spent besides them, out of `ms`. */
export function withRest(phases: Record<string, number> | undefined, ms: number, rest: string): [string, number][] {
  const parts = Object.entries(phases ?? {});
  return [...parts, [rest, ms - parts.reduce((n, [, v]) => n + v, 0)]];
}

/** Pure: the job-started hook's one line for the job log (the action's main step logs its phases instead). */
export function startedLine(job: Pick<StartedJob, 'identity' | 'layout' | 'slot' | 'tier' | 'reset' | 'dirs' | 'exports' | 'restore'>): string {
  const where = `${job.layout === 'slot' ? 'slot' : 'job directory'} ${job.slot} (${job.tier}${job.reset.warm ? ', warm' : ''})`;
  const paths = `CARGO_TARGET_DIR=${job.dirs.target} CARGO_HOME=${job.exports.CARGO_HOME} TMPDIR=${job.dirs.tmp}`;
  const restored = job.restore?.outcome === 'restored' ? `; ${describeRestore(job.restore)}` : '';
  return `cargo-isolate ${VERSION}: ${job.identity.repository} ${job.identity.key} in ${where}; ${paths}${restored}.`;
}

/** Pure: the job-completed hook's one line for the job log and the job summary (the action writes a table). */
export function completedLine(
  job: Pick<StartedJob, 'identity' | 'layout' | 'slot' | 'tier'>,
  ended: Pick<EndedJob, 'sizes' | 'published' | 'units' | 'released' | 'view' | 'from' | 'archive'>,
): string {
  const pub = ended.published;
  const parts = [
    ended.sizes && `target ${formatBytes(ended.sizes.target)}, cargo-home ${formatBytes(ended.sizes.cargoHome)}`,
    ended.view && `built as uid ${ended.view.uid} under ${ended.view.root}`,
    ended.units && (ended.units.built + ended.units.fresh > 0 ? `units ${ended.units.built} built, ${ended.units.fresh} fresh` : 'no cargo build'),
    ended.from && `started from ${ended.from}`,
    ended.archive?.outcome === 'saved' && `dependency archive saved (${formatBytes(ended.archive.bytes ?? 0)})`,
    pub && (pub.allowed ? `${pub.published} crates published` : 'crates not published (untrusted)'),
    `lease ${ended.released ? 'released' : 'already ended'}`,
  ];
  const id = job.identity;
  return `cargo-isolate ${VERSION}: ${id.repository} ${id.key}, ${job.layout} ${job.slot} (${job.tier}); ${parts.filter(Boolean).join('; ')}.`;
}

/** Pure: an HTML table for the job summary, its first row the header. Cells are the rows' text as it is (paths, sizes). */
export function htmlTable(header: string[], rows: string[][]): string {
  const tr = (tag: 'th' | 'td', cells: string[]) => `<tr>${cells.map((c) => `<${tag}>${c}</${tag}>`).join('')}</tr>`;
  return `<table>${tr('th', header)}${rows.map((r) => tr('td', r)).join('')}</table>\n`;
}

export async function writeSummary(job: StartedJob | undefined, ended: EndedJob, guard: GuardReport | undefined): Promise<void> {
  const rows = summaryRows(job, ended, guard);
  let text = `<h3>cargo-isolate ${VERSION}</h3>\n${htmlTable(['What', 'Value'], rows.main)}`;
  if (rows.guard.length) {
    const g = guard!;
    text += `<h4>Disk guard (threshold ${g.threshold}, target ${g.target}, scope ${g.scope}${g.dryRun ? ', dry run' : ''})</h4>\n`;
    text += htmlTable(['Action', 'Path', 'Size', 'Idle for', 'Last owner'], rows.guard);
  }
  await appendSummary(text);
}
