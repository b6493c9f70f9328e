/*
 * The messages docs/troubleshooting.md quotes, each whole on one line: an operator who searches
 * the code for the words in the log finds them here, and the page's quotes are checked against
 * this file (__tests__/source-text.test.ts): every message here is quoted there, every quote there
 * stands here. The only file of src/ whose lines may run past 160 characters.
 *
 * Each message is a function of what varies in it; the module that says it decides when.
 */

/** A step on a platform without flock and /proc: the notice instead of isolation (platform.ts). */
export const notOnLinuxNotice = (platform: string, what: string) =>
  `cargo-isolate: isolation needs a Linux runner (flock, /proc), and this one runs ${platform}: ${what}.`;

/** A root on a filesystem whose flock may not exclude other machines (root.ts). */
export const unreliableFlockRoot = (root: string, fs: string, fsType: number) =>
  `The root ${root}: it is on ${fs} (statfs type 0x${(fsType >>> 0).toString(16)}), where flock may not exclude processes on other hosts or VMs: two jobs could lease one slot. Keep the root on a local filesystem.`;

/** The job's sccache client would start a server that dies with the job (start.ts). */
export const noHostSccacheServer = (why: string) =>
  `sccache: could not make sure a host server runs (${why}); the job's sccache client starts its own, which dies with this job.`;

/** A step (a `docker run` as root) left another uid's files where this uid's cargo writes (reclaim.ts). */
export const stepLeftFiles = (files: string, where: string, uid: number) =>
  `A step left files of ${files} in ${where}, where cargo of uid ${uid} must write: a \`docker run\` step as root?`;

/** The fix at the source, named in every notice about another uid's files from a step (reclaim.ts). */
export const FIX_AT_THE_SOURCE = 'Fix it at the source: docker run --user "$(id -u):$(id -g)" (docs/docker-run.md).';

/**
 * The job-completed hook could not give a container job's files back (end.ts): the slot is then
 * passed over by the runner's user, so the PR's next container job starts cold elsewhere.
 */
export const containerFilesKept = (o: { slot: string; seen: { root: string; uid: number }; hookUid: number; failed: string[] }) =>
  `This job's container built as uid ${o.seen.uid} in slot ${o.slot} (seen at ${o.seen.root}), and this hook, running as uid ${o.hookUid}, could not give those files back (${o.failed.join('; ')}). Jobs of uid ${o.hookUid} pass the slot over until a root job or 'cargo-isolate gc' run as root hands it back, so this PR's next container job starts cold in another slot. To keep container jobs warm, let the runner's user hand the files back: add it to the docker group, or allow it 'sudo -n chown', or run 'cargo-isolate gc' as root from a timer (docs/runner-hooks.md).`;

/** The action's main step let the job run as it would without it: the host, not the workflow, is at fault (main-impl.ts). */
export const actionLeftUnisolated = (why: string) =>
  `cargo-isolate: ${why.replace(/\.$/, '')}. This job runs without isolation (nothing exported): cargo uses its own directories.`;

/** The job-started hook let the job run as it would without it (hook-impl.ts). */
export const hookLeftUnisolated = (why: string) =>
  `cargo-isolate job-started hook: ${why.replace(/\.$/, '')}. This job runs without isolation (nothing exported).`;

/** A CARGO_ISOLATE_* name nobody reads, in the environment or a runner's .env (variables.ts). */
export const notOurVariable = (name: string, where: string, near: string | undefined) =>
  near
    ? `${name} (${where}) is not a variable cargo-isolate reads: did you mean CARGO_ISOLATE_${near}?`
    : `${name} (${where}) is not a variable cargo-isolate reads (docs/runner-hooks.md lists them)`;

/** An `export NAME=` or `NAME =` line of a runner's .env: the runner takes the whole left side as the name (variables.ts). */
export const oneNameToTheRunner = (name: string, where: string, what: string, bare: string) =>
  `'${name}' (${where}) is one name to the runner, ${what} included, so ${bare} is not set: write ${bare}=value, with nothing before the name and no space before '='`;

/** A line of a runner's .env without '=' (variables.ts). */
export const notNameValue = (line: string, where: string) => `'${line}' (${where}) is not NAME=value, so the runner skips it`;

/** A shared CARGO_HOME's sources changed since they were verified: repaired at a start or an end (job/shared-home.ts). */
export const sourcesRepaired = (home: string, crate: string, paths: string) =>
  `CARGO_HOME ${home}: the sources of ${crate} were changed since they were verified (${paths}); repaired from what was verified. A build script writing next to its own sources? See writable-sources.`;

/** The start could not check the shared CARGO_HOME: the job builds with a private one in its slot (job/shared-home.ts). */
export const privateHomeAfterAll = (reason: string, home: string) =>
  `CARGO_HOME: ${reason}; this job builds with ${home} (registry crates compile again here, and compile-cache keys differ).`;
/** What a `same-job` slot is, in the log's and the summary's slot line (choose.ts TIER_TEXT). */
export const SAME_JOB_TIER = 'this job under another PR or branch (emptied; a path sccache knows)';

/** The slot holding this job's warm build is leased by an earlier run worth waiting for (lease.ts). */
export const waitingForOwnBuild = (slot: string, why: string, seconds: number) =>
  `Slot ${slot} holds this job's warm build and is still leased by an earlier run (${why}); waiting up to ${seconds} s for it.`;

/** The same, when waiting cannot pay (lease.ts). */
export const notWaitingForOwnBuild = (slot: string, why: string) =>
  `Slot ${slot} holds this job's warm build but is leased by an earlier run: ${why}, so waiting cannot pay; taking the next-best slot now.`;

/** A slot without a lease where cargo still holds its locks: passed over (lease.ts). */
export const cargoStillInSlot = (slot: string) =>
  `Slot ${slot} has no lease but cargo still holds its locks (a build left running by a cancelled job?); not using it.`;

/** A slot holding a container job's files the completed hook could not give back: passed over (lease.ts). */
export const containerFilesInSlot = (o: { slot: string; uid: number; seenAt: string; me: number }) =>
  `Slot ${o.slot} holds files of uid ${o.uid} from a container job's build (seen at ${o.seenAt}) that were never handed back to uid ${o.me} (the completed hook could use neither docker nor sudo?); passing it over, so this job does not start from that build. A root job or 'cargo-isolate gc' run as root hands them back; see docs/runner-hooks.md.`;

/** A slot holding another uid's files below its directories, from a `docker run` step: passed over (lease.ts). */
export const stepFilesInSlot = (o: { slot: string; files: string; me: number }) =>
  `Slot ${o.slot} holds files of ${o.files} where cargo of uid ${o.me} must write (a \`docker run\` step as root, without --user?); passing it over. A root job or 'cargo-isolate gc' run as root hands them back; see docs/docker-run.md.`;

/** A slot holding a root container job's files, its post step never run: passed over (lease.ts). */
export const rootJobFilesInSlot = (o: { slot: string; uid: number; me: number }) =>
  `Slot ${o.slot} holds files of uid ${o.uid} that were never handed back to uid ${o.me} (a root container job whose post step did not run); passing it over. A root job or 'cargo-isolate gc' run as root cleans it.`;

/** Idle data the guard could not remove because another uid's files are in it (guard.ts). */
export const idleNeedsRoot = (count: number, bytes: string, me: number) =>
  `${count} idle entries (${bytes}) hold files of another uid that uid ${me} cannot remove: root container jobs whose post step did not hand them back, or \`docker run\` steps as root (docs/docker-run.md). Run 'cargo-isolate gc' as root (the systemd timer in the README) to remove them.`;

/** The guard removed all it may and the disk is still over its threshold (guard.ts). */
export const stillOverThreshold = (o: { root: string; threshold: string; disk: string; live: string; others: string; scoped?: boolean }) =>
  `The disk of ${o.root} is still over the threshold ${o.threshold} after pruning (${o.disk}). Live jobs hold ${o.live}; idle data of other runners and the host's dependency archives holds ${o.others}` +
  (o.scoped ? ", left to the host's gc timer (prune-scope: runner)." : '.');

/** Less free than `fail-below` after pruning: the job fails now (guard.ts). */
export const belowFailBelow = (o: { root: string; free: string; floor: string; live: string; others: string }) =>
  `Only ${o.free} free on ${o.root} after pruning, below 'fail-below' (${o.floor}): failing now rather than inside rustc later. Live jobs hold ${o.live}; other runners' idle data holds ${o.others}.`;

/** The shared directory of `archive-store` is not there: never created, so an unmounted mount point does not fill the host's disk (fleet-dir.ts). */
export const fleetStoreNotMounted = (store: string, why: string) =>
  `${store} cannot be read (${why}): is the shared filesystem mounted? A missing store is never created, so that an unmounted mount point does not fill this host's disk`;

/** The share maps this job's uid to another (NFS's root squashing): what it wrote there, its jobs would refuse (fleet-dir.ts). */
export const fleetStoreMapsUid = (dir: string, owner: number, uid: number) =>
  `${dir} belongs to uid ${owner}, not this job's uid ${uid} (a share that maps this uid to another, such as NFS's root squashing): what this job wrote there, its jobs would refuse`;

/** `archive-store: actions-cache` where no action step runs: the runner hooks, `cargo-isolate run` (fleet-store.ts). */
export const actionsCacheNeedsToken = (who: string) =>
  `the Actions cache service needs the runtime token that only a workflow's action steps get, which ${who}: the host tier only here (a shared directory works everywhere)`;
