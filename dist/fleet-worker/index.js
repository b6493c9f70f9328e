import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
/******/ var __webpack_modules__ = ({

/***/ 4477:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {


// EXPORTS
__nccwpck_require__.d(__webpack_exports__, {
  W: () => (/* binding */ runWorker)
});

// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __nccwpck_require__(6760);
// EXTERNAL MODULE: external "node:url"
var external_node_url_ = __nccwpck_require__(3136);
;// CONCATENATED MODULE: external "node:child_process"
const external_node_child_process_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:child_process");
// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __nccwpck_require__(8161);
;// CONCATENATED MODULE: ./src/os/run.ts


/**
 * Runs a command to its end, capturing the tails of its output; never rejects. After `timeoutMs`
 * it gets SIGKILL: a stuck rm, chown or cp must not hold a job or a guard forever. The one place
 * `rm`, `chmod`, `chown`, `cp`, `sudo`, `docker` and the questions put to `cargo` are run from.
 */
function run_runCommand(cmd, args, timeoutMs, o = {}) {
    return new Promise((res) => {
        const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL', cwd: o.cwd, env: o.env });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout = (stdout + d.toString()).slice(-20_000)));
        child.stderr.on('data', (d) => (stderr = (stderr + d.toString()).slice(-2000)));
        child.on('error', (e) => res({ code: null, signal: null, stdout, stderr, error: e }));
        child.on('exit', (code, signal) => res({ code, signal, stdout, stderr }));
    });
}
/**
 * Runs a command in a process group of its own, `input` on its stdin, and resolves with its
 * output when it exits or when `timeoutMs` passes, whichever comes first; never rejects. At the
 * bound the whole group gets SIGKILL (the command and what it started: tar, zstd) and is left
 * behind with its pipes closed and unreferenced: a process blocked in the kernel (a read from an
 * NFS server that is down, on a hard mount) ignores even SIGKILL until the server answers, and
 * waiting for its exit, or keeping its pipes open, would hold this process (a post step) with it.
 */
function run_runBounded(cmd, args, o) {
    return new Promise((res) => {
        const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd: o.cwd, env: o.env, detached: true });
        let stdout = '';
        let stderr = '';
        let settled = false;
        const done = (r) => {
            if (settled)
                return;
            settled = true;
            clearTimeout(timer);
            res({ ...r, stdout, stderr });
        };
        const timer = setTimeout(() => {
            try {
                if (child.pid !== undefined)
                    process.kill(-child.pid, 'SIGKILL');
            }
            catch {
                // already gone
            }
            for (const s of [child.stdin, child.stdout, child.stderr])
                s.destroy();
            child.unref();
            done({ code: null, signal: 'SIGKILL', timedOut: true });
        }, o.timeoutMs);
        child.stdout.on('data', (d) => (stdout = (stdout + d.toString()).slice(-200_000)));
        child.stderr.on('data', (d) => (stderr = (stderr + d.toString()).slice(-2000)));
        child.stdin.on('error', () => undefined);
        child.stdin.end(o.input ?? '');
        child.on('error', (e) => done({ code: null, signal: null, error: e, timedOut: false }));
        child.on('close', (code, signal) => done({ code, signal, timedOut: false }));
    });
}
/** Pure: the exit code a shell reports for a process a signal ended (bash: 128 + the signal's number). */
function signalExit(sig) {
    const n = sig ? constants.signals[sig] : undefined;
    return n === undefined ? 1 : 128 + n;
}
/**
 * A command a person asked for (`cargo-isolate run -- CMD`), in the foreground: it gets this
 * process's stdin and stderr, and its stdout too unless `onStdout` takes it (the demo prints it
 * through a stdout that tolerates a closed pipe); SIGINT and SIGTERM are passed on while it runs.
 * Never rejects: its exit code, as a shell gives it (128 + the signal's number when a signal ended
 * it: 137 for SIGKILL, an out-of-memory kill; 139 for SIGSEGV; 130 for SIGINT), or 127 and why it
 * could not start.
 */
function runInForeground(cmd, env, onStdout) {
    return new Promise((res) => {
        const child = spawn(cmd[0], cmd.slice(1), { stdio: ['inherit', onStdout ? 'pipe' : 'inherit', 'inherit'], env });
        child.stdout?.on('data', (d) => onStdout?.(d.toString()));
        const forward = (sig) => child.kill(sig);
        const done = (r) => {
            process.off('SIGINT', forward).off('SIGTERM', forward);
            res(r);
        };
        process.on('SIGINT', forward).on('SIGTERM', forward);
        child.on('error', (error) => done({ code: 127, error }));
        child.on('close', (code, sig) => done({ code: code ?? signalExit(sig) }));
    });
}

;// CONCATENATED MODULE: ./src/store/fleet-worker.ts



/** The line the worker writes its answer on: the last line of its stdout. */
const REPLY_MARK = 'cargo-isolate-fleet-worker-reply ';
/**
 * The command that runs the worker: the bundle beside this one (dist/<entry>/index.js ->
 * dist/fleet-worker/index.js), or, where this module runs as TypeScript (the tests, the bench),
 * src/fleet-worker.ts under the project's loader.
 */
function workerCommand(here = fileURLToPath(import.meta.url)) {
    if (here.endsWith('.ts')) {
        const top = dirname(dirname(dirname(here)));
        return ['--import', pathToFileURL(join(top, 'scripts', 'lib', 'typescript.mjs')).href, join(top, 'src', 'fleet-worker.ts')];
    }
    return [join(dirname(here), '..', 'fleet-worker', 'index.js')];
}
const noNotes = { warnings: [], errors: [], lines: [] };
/** Pure: the worker's stdout as its reply. */
function parseReply(stdout) {
    const line = stdout
        .split('\n')
        .reverse()
        .find((l) => l.startsWith(REPLY_MARK));
    if (!line)
        return undefined;
    try {
        return JSON.parse(line.slice(REPLY_MARK.length));
    }
    catch {
        return undefined;
    }
}
/**
 * Runs one request in a worker, within `timeoutMs`; never rejects. `cwd` and `env` are the
 * worker's (the Actions cache calls need both: workspace-relative paths).
 */
async function callWorker(req, o) {
    const r = await runBounded(process.execPath, [...workerCommand(), String(o.timeoutMs)], {
        timeoutMs: o.timeoutMs,
        input: JSON.stringify(req),
        cwd: o.cwd,
        env: o.env ?? process.env,
    });
    if (r.timedOut)
        return { ok: false, timedOut: true, detail: `no answer within ${Math.round(o.timeoutMs / 1000)} s: stopped`, notes: noNotes };
    const reply = parseReply(r.stdout);
    if (!reply) {
        const why = r.error ? r.error.message : r.stderr.trim().split('\n').slice(-3).join('; ') || `it exited with ${r.code ?? r.signal}`;
        return { ok: false, timedOut: false, detail: `the fleet store's worker process failed: ${why}`, notes: noNotes };
    }
    if (reply.error !== undefined || reply.result === undefined)
        return { ok: false, timedOut: false, detail: reply.error ?? 'no result', notes: reply.notes };
    return { ok: true, result: reply.result, notes: reply.notes };
}

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __nccwpck_require__(7598);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __nccwpck_require__(3024);
;// CONCATENATED MODULE: ./src/model/key.ts

/*
 * Names made safe: any string (a branch, a repository, a job name) as a bounded, injective path
 * component, and a job's trust domain, `pr-<n>`, `ref-<branch>` or `tag-<tag>`, the key that says
 * whose content a slot may hand on to whom.
 */
function key_sha256Hex(text) {
    return (0,external_node_crypto_.createHash)('sha256').update(text).digest('hex');
}
// Names that are already plain path components pass through unchanged (readable paths for the
// common case). Anything else becomes `<readable part>+<64-bit hash of the raw name>`: '+' never
// occurs in a passed-through name, so the mapping stays injective and a branch cannot be named
// so as to land in another branch's directory.
const PLAIN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Maps any string (branch, repository, job name) to a safe, bounded path component. */
function key_safeComponent(raw, max = 64) {
    if (PLAIN.test(raw) && raw.length <= max && !raw.includes('..'))
        return raw;
    const hash = key_sha256Hex(raw).slice(0, 16);
    const readable = raw
        .normalize('NFKD')
        .replace(/[^A-Za-z0-9._-]+/g, '-')
        .replace(/\.{2,}/g, '.')
        .replace(/^[-._]+/, '')
        .slice(0, Math.max(0, max - hash.length - 1))
        .replace(/[-._]+$/, '');
    return readable ? `${readable}+${hash}` : `+${hash}`;
}
/**
 * The trust domain of a job: content written under one key is never reused under another.
 * Tags have a namespace of their own: a tag named `main` (which branch protection does not
 * cover) must not be keyed, and reused, as the main branch.
 */
function contentKey(pr, branch, tag = false) {
    return pr !== undefined ? `pr-${pr}` : `${tag ? 'tag' : 'ref'}-${key_safeComponent(branch, 80)}`;
}

;// CONCATENATED MODULE: ./src/model/archive-key.ts

/*
 * What decides whether a dependency archive's artifacts are fresh for another job, as plain data
 * in and two keys out. Cargo itself re-checks every unit after a restore (its fingerprints hash
 * the toolchain, the flags, the source paths), so a wrong key never builds a wrong binary: it
 * restores an archive whose units cargo then rebuilds, which costs the restore for nothing. The
 * key is there to find the archive cargo will find fresh, and to say why none was found.
 *
 *   exact     every part below and the locked dependencies: a start with the same key finds
 *             every dependency unit fresh.
 *   fallback  the same without the lock: the newest archive of an older Cargo.lock is near,
 *             and cargo rebuilds only what changed (a bumped crate and what depends on it).
 *
 * Parts that cargo does not see, or sees only through the build scripts' own checks:
 *   - the host's architecture, OS release and libc: a build script links a system library it
 *     found there and says nothing when the host is upgraded;
 *   - the C toolchain variables build scripts read (CC, CFLAGS, AR, PKG_CONFIG_*, CMAKE_*, ...):
 *     most build scripts declare them with `rerun-if-env-changed`, so a mismatch reruns them,
 *     but an archive whose build scripts all rerun is worth little;
 *   - the CARGO_HOME string and the path view (the host's or a container's `/__t`): a registry
 *     crate's fingerprint hashes the absolute path of its source, so another home rebuilds all.
 * Repository, workflow, job and the `key` input say which commands built it: two jobs of one
 * workspace (a `clippy` job, a `test` job) compile other units with other features.
 */
/** Bumped when what an archive holds changes (store/archive-content): older archives never match. */
const archive_key_ARCHIVE_FORMAT = 1;
/** Variables read by name: cargo's own that change artifacts, and the C toolchain's. */
const NAMED = new Set([
    'RUSTFLAGS',
    'CARGO_ENCODED_RUSTFLAGS',
    'CARGO_BUILD_RUSTFLAGS',
    'RUSTC',
    'CARGO_BUILD_RUSTC',
    'CARGO_BUILD_TARGET',
    'CARGO_INCREMENTAL',
    'CARGO_BUILD_DEP_INFO_BASEDIR',
    'CARGO_TARGET_APPLIES_TO_HOST',
    'RUSTC_BOOTSTRAP',
    '__CARGO_DEFAULT_LIB_METADATA',
    'CC',
    'CXX',
    'AR',
    'RANLIB',
    'CFLAGS',
    'CXXFLAGS',
    'CPPFLAGS',
    'LDFLAGS',
    'ARFLAGS',
    'CRATE_CC_NO_DEFAULTS',
]);
/** Variables read by form: profiles, unstable flags, per-target settings, pkg-config, CMake. */
const PATTERNS = (/* unused pure expression or super */ null && ([
    /^CARGO_PROFILE_/,
    /^CARGO_UNSTABLE_/,
    /^CARGO_HOST_(RUSTFLAGS|LINKER)$/,
    /^CARGO_TARGET_[A-Z0-9_]+_(RUSTFLAGS|LINKER|AR)$/,
    /^(HOST|TARGET)_(CC|CXX|AR|RANLIB|CFLAGS|CXXFLAGS|CPPFLAGS|LDFLAGS)$/,
    /^(CC|CXX|AR|RANLIB|CFLAGS|CXXFLAGS|CPPFLAGS|LDFLAGS)_[A-Za-z0-9_]+$/,
    /^PKG_CONFIG/,
    /^CMAKE_/,
]));
/**
 * Pure: the variables of `env` that change what cargo or a build script writes, sorted. Empty
 * values count as unset (cargo and the cc crate read them so). The target dir, CARGO_HOME and
 * the build dir are not here: the path view and the home are parts of their own, and a target
 * dir's path does not reach a registry unit's fingerprint.
 */
function artifactEnv(env) {
    return Object.entries(env)
        .filter((e) => e[1] !== undefined && e[1] !== '')
        .filter(([k]) => k !== 'CARGO_TARGET_DIR' && (NAMED.has(k) || PATTERNS.some((p) => p.test(k))))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
const digest = (parts) => sha256Hex(JSON.stringify(Object.entries(parts).sort(([a], [b]) => (a < b ? -1 : 1)))).slice(0, 32);
/** Pure: the exact and the fallback key of a build. */
function archiveKey(i) {
    const parts = {
        format: String(archive_key_ARCHIVE_FORMAT),
        repository: i.repository,
        workflow: i.workflow,
        job: i.job,
        key: i.jobKey,
        rustc: i.rustc.trim(),
        arch: i.host.arch,
        os: i.host.os,
        libc: i.host.libc,
        cargoHome: i.cargoHome,
        view: i.view,
    };
    if (i.cargo !== undefined)
        parts.cargo = i.cargo.trim();
    for (const [k, v] of artifactEnv(i.env))
        parts[`env.${k}`] = v;
    const fallback = digest(parts);
    if (i.lockedDependencies === undefined)
        return { fallback, parts };
    const lock = sha256Hex([...i.lockedDependencies].sort().join('\n'));
    return { exact: digest({ ...parts, lock }), fallback, parts: { ...parts, lock } };
}
/**
 * Pure: a part's value as an archive sent to a fleet store keeps it: a digest. The values of the
 * variables (`env.RUSTFLAGS`, `env.CFLAGS`, ...) may hold what should not leave the host, and a
 * digest still says whether two keys differ there.
 */
const redactedValue = (v) => `sha256:${key_sha256Hex(v).slice(0, 16)}`;
/**
 * Pure: the parts that differ between an archive's key and the wanted one, by name (`rustc`,
 * `env.RUSTFLAGS`, `lock`): what a job's summary says when no archive matched. A value an archive
 * keeps as a digest (one that came through a fleet store) is the same as the value it digests.
 */
function keyDifferences(saved, wanted) {
    const names = new Set([...Object.keys(saved), ...Object.keys(wanted)]);
    const same = (s, w) => s === w || (s !== undefined && w !== undefined && s === redactedValue(w));
    return [...names].filter((n) => !same(saved[n], wanted[n])).sort();
}
/**
 * Pure: which archive a start restores. Its exact key if there is one; else the newest of the
 * same fallback key (the most recent lock is the nearest to the next one); none when the start
 * has no fallback candidates. `how` says which.
 */
function chooseArchive(candidates, want) {
    const exact = want.exact === undefined ? undefined : candidates.find((c) => c.exact === want.exact);
    if (exact)
        return { pick: exact, how: 'exact' };
    const newest = [...candidates].sort((a, b) => (a.savedAt < b.savedAt ? 1 : a.savedAt > b.savedAt ? -1 : a.exact < b.exact ? -1 : 1))[0];
    return newest ? { pick: newest, how: 'fallback' } : undefined;
}
/** The parts of a key a start knows before its checkout and toolchain step (the runner's hook). */
const IDENTITY_PARTS = ['format', 'repository', 'workflow', 'job', 'key', 'arch', 'cargoHome'];
/**
 * Pure: which archive a start restores when its key cannot be known yet (the runner's job-started
 * hook runs before checkout and before a toolchain step: no Cargo.lock, perhaps another rustc):
 * the newest archive of the job itself, the same repository, workflow, job and `key`, made for the
 * same CARGO_HOME string on this architecture, in the first of `domains` (its own trust domain,
 * then its base's) that has one. Cargo checks every unit it restores, so an archive of an older
 * lock or toolchain costs its restore and the units cargo rebuilds, never a wrong build.
 */
function chooseByIdentity(candidates, want, domains) {
    for (const d of domains) {
        const mine = candidates.filter((c) => c.domain === d && IDENTITY_PARTS.every((p) => c.parts[p] === want[p]));
        const newest = mine.sort((a, b) => (a.savedAt < b.savedAt ? 1 : a.savedAt > b.savedAt ? -1 : a.exact < b.exact ? -1 : 1))[0];
        if (newest)
            return newest;
    }
    return undefined;
}

;// CONCATENATED MODULE: ./src/model/archive-store.ts



const ACTIONS_CACHE = 'actions-cache';
/** The accepted forms, for refusals. */
const ARCHIVE_STORE_FORM = (/* unused pure expression or super */ null && (`'${ACTIONS_CACHE}', or the absolute path of a directory every host mounts (e.g. /mnt/ci-archives), or empty for none`));
/**
 * Pure: the store a setting names, or why it names none: a hint for the refusal (the words of
 * settings.ts's InputError). Paths are normalised (`/mnt/x/` is `/mnt/x`); `/` itself is refused,
 * as a relative path is (where it leads would depend on each job's directory).
 */
function parseArchiveStore(text) {
    const t = text.trim();
    if (t === '' || t === 'none')
        return { kind: 'none' };
    if (t === ACTIONS_CACHE)
        return { kind: 'actions-cache' };
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(t))
        return { hint: 'it holds a control character.' };
    if (isAbsolute(t)) {
        const path = normalize(t).replace(/(.)\/+$/, '$1');
        if (path === '/')
            return { hint: "'/' is the whole filesystem, not a directory of archives." };
        return { kind: 'directory', path };
    }
    const near = nearest(t, [ACTIONS_CACHE, 'none']);
    if (near)
        return { hint: `did you mean '${near}'?` };
    if (/^(github|gha|cache|true|yes|on)$/i.test(t))
        return { hint: `the Actions cache service is spelled '${ACTIONS_CACHE}'.` };
    return { hint: "a relative path: where it leads would depend on each job's working directory." };
}
/** Pure: what a store is called in a job's log: `the Actions cache service`, `the shared directory /mnt/ci-archives`. */
const storeName = (s) => s.kind === 'actions-cache' ? 'the Actions cache service' : s.kind === 'directory' ? `the shared directory ${s.path}` : 'no fleet store';
const CACHE_PREFIX = (/* unused pure expression or super */ null && (`cargo-isolate-deps/v${ARCHIVE_FORMAT}`));
/**
 * Pure: an archive's key in the Actions cache service: `cargo-isolate-deps/v1/<domain>/<fallback>/<exact>`.
 * Trust domains (`pr-7`, `ref-main`, model/key.ts) never hold a `/` or a comma, so the prefix of
 * one domain's fallback key never matches another domain's entries.
 */
const cacheKeyOf = (domain, fallback, exact) => `${CACHE_PREFIX}/${domain}/${fallback}/${exact}`;
/**
 * Pure: what a start asks the Actions cache service for, in the order it prefers: its exact key
 * in each domain it may read (its own first, then its base's), then the newest entry under its
 * fallback key in each (the service matches restore keys as prefixes, newest first). Without an
 * exact key (no Cargo.lock), only the fallbacks. At most 10 keys: the service's limit.
 */
function cacheKeysFor(domains, key) {
    const exact = key.exact === undefined ? [] : domains.map((d) => cacheKeyOf(d, key.fallback, key.exact));
    const near = domains.map((d) => `${CACHE_PREFIX}/${d}/${key.fallback}/`);
    const [primary, ...restoreKeys] = [...exact, ...near].slice(0, 10);
    return { primary, restoreKeys };
}
/**
 * Pure: the domain and keys of an entry the service matched, when it is one a start asking with
 * `domains` and `key` may restore: one of its domains, its fallback key. Anything else (an entry
 * of another domain, a name of another form) is undefined: never restored.
 */
function parseCacheKey(matched, domains, key) {
    const parts = matched.split('/');
    if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== CACHE_PREFIX)
        return undefined;
    const [domain, fallback, exact] = parts.slice(2);
    if (!domains.includes(domain) || fallback !== key.fallback || !/^[0-9a-f]{32}$/.test(exact))
        return undefined;
    return { domain, fallback, exact, how: exact === key.exact ? 'exact' : 'fallback' };
}
/**
 * Pure: an archive's key parts as they leave the host for a fleet store: the values of the
 * variables as digests (model/archive-key.ts `redactedValue`), the rest (repository, job, rustc,
 * OS, the CARGO_HOME path) as they are: names a store's reader sees anyway in the entry's paths.
 */
function partsForFleet(parts) {
    return Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, k.startsWith('env.') && !v.startsWith('sha256:') ? redactedValue(v) : v]));
}
/**
 * Pure: why an entry of a shared directory cannot be trusted by a job of `uid`, or undefined when
 * it can: every directory from the uid's own part of the store down to the archive, and its two
 * files, must be plain directories and files owned by that uid and writable by nobody else. A
 * directory every host mounts is writable by every job of the uid on every host (the security
 * page says what that means); this is what the store's own permissions let a job trust: nothing
 * another uid wrote, or could have replaced.
 */
function untrustedEntry(entries, uid) {
    for (const e of entries) {
        if (e.kind === 'other')
            return `${e.path} is not a plain file or directory (a symbolic link, say)`;
        if (e.uid !== uid)
            return `${e.path} belongs to uid ${e.uid}, not to this job's uid ${uid}`;
        if (e.mode & 0o002)
            return `${e.path} is writable by every user (mode ${(e.mode & 0o7777).toString(8)})`;
        if (e.mode & 0o020)
            return `${e.path} is writable by its group (mode ${(e.mode & 0o7777).toString(8)})`;
    }
    return undefined;
}
/** Pure: whether an outcome is a fault worth a warning (an annotation), or a line of the log. */
const isFleetFault = (r) => r === 'refused' || r === 'error' || r === 'timeout';

;// CONCATENATED MODULE: ./src/model/layout.ts


/*
 * Every path under a root, in one place: the slots, the job directories, the locks, the trash, the
 * stores, the logs, the shared CARGO_HOMEs and the sccache servers' dirs (the on-disk contract
 * below). What the job exports is built from these in job/exports.ts.
 */
/**
 * Every path under the root. The shape is the on-disk contract between jobs, the guard, the
 * CLI and older or newer versions of the action running on the same host:
 *
 *   <root>/.cargo-isolate-root             marker: refuse to manage a directory we did not make
 *   <root>/locks/slot-<name>.lock          lease of a slot (never deleted: see lease.ts)
 *   <root>/locks/guard.lock                one disk guard at a time per host
 *   <root>/slots/<name>/slot.json          last owner, key, times, sizes (informational only)
 *   <root>/slots/<name>/{target,install,tmp}/  the job's own: its build, `cargo install`, temp files
 *   <root>/slots/<name>/cargo-home/        a private CARGO_HOME: fork PRs only (cargo-home.ts)
 *   <root>/homes/u<uid>/                   CARGO_HOME of every trusted job of that uid (cargo-home.ts)
 *   <root>/homes/u<uid>-verified/          what of that home was verified, and when (store/home-sources.ts)
 *   <root>/homes/u<uid>-verified/blobs.json  the crate store's blobs that uid found whole, and when (store/blob-stamps.ts)
 *   <root>/jobs/<repo>/<key>/run-<uid>/    layout: job, with its lease in .lease
 *   <root>/trash/                          renamed here first, deleted afterwards
 *   <root>/crates/{sha256,dirs,index}/     host-wide verified .crate store (storePaths)
 *   <root>/warmth.jsonl[.1]                one line per ended job: units built and fresh (warmth.ts)
 *   <root>/events.jsonl[.1]                guard runs, lease waits, jobs the hooks left unisolated (events.ts)
 *   <root>/metrics.json                    where `cargo-isolate metrics` stopped reading the logs, its counters
 *   <root>/sccache/u<uid>-p<port>/tmp/     the host sccache server's temp dir (host/sccache.ts)
 *   <root>/git/{db,dirs}/                  host-wide git dependency store (gitStorePaths)
 *   <root>/archives/<repo>/<domain>/<fallback key>/<exact key>/{archive.tar.zst,archive.json}
 *                                          dependency archives (archiveDir, store/archive.ts)
 *   <root>/archives/.fleet-<nonce>.tmp/    an archive on its way between the Actions cache service and the host tier (fleetStaging)
 */
const MARKER = '.cargo-isolate-root';
/** The same directories seen elsewhere (a container's view of the root): every one through `at`. */
const mapDirs = (d, at) => ({
    base: at(d.base),
    target: at(d.target),
    cargoHome: at(d.cargoHome),
    install: at(d.install),
    tmp: at(d.tmp),
    record: at(d.record),
    lock: at(d.lock),
});
const rootPaths = (root) => ({
    marker: join(root, MARKER),
    locks: join(root, 'locks'),
    slots: join(root, 'slots'),
    jobs: join(root, 'jobs'),
    trash: join(root, 'trash'),
    crates: join(root, 'crates'),
    homes: join(root, 'homes'),
    warmth: join(root, 'warmth.jsonl'),
    events: join(root, 'events.jsonl'),
    metrics: join(root, 'metrics.json'),
    metricsLock: join(root, 'locks', 'metrics.lock'),
    guardLock: join(root, 'locks', 'guard.lock'),
    git: join(root, 'git'),
    sccache: join(root, 'sccache'),
    archives: join(root, 'archives'),
});
/** The host-wide crate store (store/crates.ts): .crate files by sha256, cargo's index dir names, index entries. */
const storePaths = (root) => ({
    base: join(root, 'crates'),
    blobs: join(root, 'crates', 'sha256'),
    dirs: join(root, 'crates', 'dirs'),
    index: join(root, 'crates', 'index'),
});
/** The host-wide git dependency store (store/gitstore.ts): bare databases by URL, cargo's db dir names. */
const gitStorePaths = (root) => ({
    base: join(root, 'git'),
    db: join(root, 'git', 'db'),
    dirs: join(root, 'git', 'dirs'),
});
/** A trust domain's directory name under the archives (a merge queue's key, with `/` in it, is re-hashed). */
const domainDirName = (domain) => key_safeComponent(domain, 100);
/**
 * Pure: the trust domain of an archive in the directory `dirName`: the one its archive.json
 * records (`recorded`) when that is the domain this directory is named for, else the name itself
 * (an archive of an earlier version, which recorded none). A recorded domain never moves an
 * archive into another domain than its directory's: the name is an injective map of the key.
 */
const archiveDomain = (dirName, recorded) => recorded !== undefined && domainDirName(recorded) === dirName ? recorded : dirName;
/**
 * One dependency archive's directory (store/archive.ts), under its repository, the trust domain
 * that wrote it (`ref-main`, `pr-7`) and its fallback key; without `exact`, the fallback key's
 * directory, which lists the archives a near start may restore.
 */
function archiveDir(root, repository, domain, fallback, exact) {
    const base = (0,external_node_path_.join)(root, 'archives', key_safeComponent(repository.replace('/', '__')), domainDirName(domain), key_safeComponent(fallback));
    return exact === undefined ? base : (0,external_node_path_.join)(base, key_safeComponent(exact));
}
/**
 * Where an archive on its way between the Actions cache service and the host tier is staged
 * (store/fleet-store.ts): on the host tier's filesystem, so it is linked in rather than copied,
 * under a dot-name no reader lists. A killed job leaves it behind; the guard removes it an hour on
 * (store/archive-host.ts deadStaging).
 */
const fleetStaging = (root, nonce) => join(root, 'archives', `.fleet-${nonce}.tmp`);
function dirsIn(base, record, lock) {
    return { base, target: join(base, 'target'), cargoHome: join(base, 'cargo-home'), install: join(base, 'install'), tmp: join(base, 'tmp'), record, lock };
}
function slotDirs(root, name) {
    const base = join(root, 'slots', name);
    return dirsIn(base, join(base, 'slot.json'), join(root, 'locks', `slot-${name}.lock`));
}
function jobDirs(root, id) {
    const base = join(root, 'jobs', safeComponent(id.repository.replace('/', '__')), id.key, `run-${id.jobUid}`);
    return dirsIn(base, join(base, 'job.json'), join(base, '.lease'));
}
/** The CARGO_HOME every trusted job of `uid` shares under this root (cargo-home.ts says why). */
const sharedHome = (root, uid) => join(root, 'homes', `u${uid}`);
/** Beside that home, not in it: the record of its verified sources (store/home-sources.ts). */
const verifiedName = (uid) => `u${uid}-verified`;
const sourcesRecord = (root, uid) => join(root, 'homes', verifiedName(uid), 'sources.json');
const SLOT_NAME = /^s\d{3,}$/;
const slotName = (index) => `s${String(index).padStart(3, '0')}`;

;// CONCATENATED MODULE: ./src/model/messages.ts
/*
 * The messages docs/troubleshooting.md quotes, each whole on one line: an operator who searches
 * the code for the words in the log finds them here, and the page's quotes are checked against
 * this file (__tests__/source-text.test.ts): every message here is quoted there, every quote there
 * stands here. The only file of src/ whose lines may run past 160 characters.
 *
 * Each message is a function of what varies in it; the module that says it decides when.
 */
/** A step on a platform without flock and /proc: the notice instead of isolation (platform.ts). */
const notOnLinuxNotice = (platform, what) => `cargo-isolate: isolation needs a Linux runner (flock, /proc), and this one runs ${platform}: ${what}.`;
/** A root on a filesystem whose flock may not exclude other machines (root.ts). */
const unreliableFlockRoot = (root, fs, fsType) => `The root ${root}: it is on ${fs} (statfs type 0x${(fsType >>> 0).toString(16)}), where flock may not exclude processes on other hosts or VMs: two jobs could lease one slot. Keep the root on a local filesystem.`;
/** The job's sccache client would start a server that dies with the job (start.ts). */
const noHostSccacheServer = (why) => `sccache: could not make sure a host server runs (${why}); the job's sccache client starts its own, which dies with this job.`;
/** A step (a `docker run` as root) left another uid's files where this uid's cargo writes (reclaim.ts). */
const stepLeftFiles = (files, where, uid) => `A step left files of ${files} in ${where}, where cargo of uid ${uid} must write: a \`docker run\` step as root?`;
/** The fix at the source, named in every notice about another uid's files from a step (reclaim.ts). */
const FIX_AT_THE_SOURCE = 'Fix it at the source: docker run --user "$(id -u):$(id -g)" (docs/docker-run.md).';
/**
 * The job-completed hook could not give a container job's files back (end.ts): the slot is then
 * passed over by the runner's user, so the PR's next container job starts cold elsewhere.
 */
const containerFilesKept = (o) => `This job's container built as uid ${o.seen.uid} in slot ${o.slot} (seen at ${o.seen.root}), and this hook, running as uid ${o.hookUid}, could not give those files back (${o.failed.join('; ')}). Jobs of uid ${o.hookUid} pass the slot over until a root job or 'cargo-isolate gc' run as root hands it back, so this PR's next container job starts cold in another slot. To keep container jobs warm, let the runner's user hand the files back: add it to the docker group, or allow it 'sudo -n chown', or run 'cargo-isolate gc' as root from a timer (docs/runner-hooks.md).`;
/** The action's main step let the job run as it would without it: the host, not the workflow, is at fault (main-impl.ts). */
const actionLeftUnisolated = (why) => `cargo-isolate: ${why.replace(/\.$/, '')}. This job runs without isolation (nothing exported): cargo uses its own directories.`;
/** The job-started hook let the job run as it would without it (hook-impl.ts). */
const hookLeftUnisolated = (why) => `cargo-isolate job-started hook: ${why.replace(/\.$/, '')}. This job runs without isolation (nothing exported).`;
/** A CARGO_ISOLATE_* name nobody reads, in the environment or a runner's .env (variables.ts). */
const notOurVariable = (name, where, near) => near
    ? `${name} (${where}) is not a variable cargo-isolate reads: did you mean CARGO_ISOLATE_${near}?`
    : `${name} (${where}) is not a variable cargo-isolate reads (docs/runner-hooks.md lists them)`;
/** An `export NAME=` or `NAME =` line of a runner's .env: the runner takes the whole left side as the name (variables.ts). */
const oneNameToTheRunner = (name, where, what, bare) => `'${name}' (${where}) is one name to the runner, ${what} included, so ${bare} is not set: write ${bare}=value, with nothing before the name and no space before '='`;
/** A line of a runner's .env without '=' (variables.ts). */
const notNameValue = (line, where) => `'${line}' (${where}) is not NAME=value, so the runner skips it`;
/** A shared CARGO_HOME's sources changed since they were verified: repaired at a start or an end (job/shared-home.ts). */
const sourcesRepaired = (home, crate, paths) => `CARGO_HOME ${home}: the sources of ${crate} were changed since they were verified (${paths}); repaired from what was verified. A build script writing next to its own sources? See writable-sources.`;
/** The start could not check the shared CARGO_HOME: the job builds with a private one in its slot (job/shared-home.ts). */
const privateHomeAfterAll = (reason, home) => `CARGO_HOME: ${reason}; this job builds with ${home} (registry crates compile again here, and compile-cache keys differ).`;
/** What a `same-job` slot is, in the log's and the summary's slot line (choose.ts TIER_TEXT). */
const SAME_JOB_TIER = 'this job under another PR or branch (emptied; a path sccache knows)';
/** The slot holding this job's warm build is leased by an earlier run worth waiting for (lease.ts). */
const waitingForOwnBuild = (slot, why, seconds) => `Slot ${slot} holds this job's warm build and is still leased by an earlier run (${why}); waiting up to ${seconds} s for it.`;
/** The same, when waiting cannot pay (lease.ts). */
const notWaitingForOwnBuild = (slot, why) => `Slot ${slot} holds this job's warm build but is leased by an earlier run: ${why}, so waiting cannot pay; taking the next-best slot now.`;
/** A slot without a lease where cargo still holds its locks: passed over (lease.ts). */
const cargoStillInSlot = (slot) => `Slot ${slot} has no lease but cargo still holds its locks (a build left running by a cancelled job?); not using it.`;
/** A slot holding a container job's files the completed hook could not give back: passed over (lease.ts). */
const containerFilesInSlot = (o) => `Slot ${o.slot} holds files of uid ${o.uid} from a container job's build (seen at ${o.seenAt}) that were never handed back to uid ${o.me} (the completed hook could use neither docker nor sudo?); passing it over, so this job does not start from that build. A root job or 'cargo-isolate gc' run as root hands them back; see docs/runner-hooks.md.`;
/** A slot holding another uid's files below its directories, from a `docker run` step: passed over (lease.ts). */
const stepFilesInSlot = (o) => `Slot ${o.slot} holds files of ${o.files} where cargo of uid ${o.me} must write (a \`docker run\` step as root, without --user?); passing it over. A root job or 'cargo-isolate gc' run as root hands them back; see docs/docker-run.md.`;
/** A slot holding a root container job's files, its post step never run: passed over (lease.ts). */
const rootJobFilesInSlot = (o) => `Slot ${o.slot} holds files of uid ${o.uid} that were never handed back to uid ${o.me} (a root container job whose post step did not run); passing it over. A root job or 'cargo-isolate gc' run as root cleans it.`;
/** Idle data the guard could not remove because another uid's files are in it (guard.ts). */
const idleNeedsRoot = (count, bytes, me) => `${count} idle entries (${bytes}) hold files of another uid that uid ${me} cannot remove: root container jobs whose post step did not hand them back, or \`docker run\` steps as root (docs/docker-run.md). Run 'cargo-isolate gc' as root (the systemd timer in the README) to remove them.`;
/** The guard removed all it may and the disk is still over its threshold (guard.ts). */
const stillOverThreshold = (o) => `The disk of ${o.root} is still over the threshold ${o.threshold} after pruning (${o.disk}). Live jobs hold ${o.live}; idle data of other runners and the host's dependency archives holds ${o.others}` +
    (o.scoped ? ", left to the host's gc timer (prune-scope: runner)." : '.');
/** Less free than `fail-below` after pruning: the job fails now (guard.ts). */
const belowFailBelow = (o) => `Only ${o.free} free on ${o.root} after pruning, below 'fail-below' (${o.floor}): failing now rather than inside rustc later. Live jobs hold ${o.live}; other runners' idle data holds ${o.others}.`;
/** The shared directory of `archive-store` is not there: never created, so an unmounted mount point does not fill the host's disk (fleet-dir.ts). */
const fleetStoreNotMounted = (store, why) => `${store} cannot be read (${why}): is the shared filesystem mounted? A missing store is never created, so that an unmounted mount point does not fill this host's disk`;
/** The share maps this job's uid to another (NFS's root squashing): what it wrote there, its jobs would refuse (fleet-dir.ts). */
const fleetStoreMapsUid = (dir, owner, uid) => `${dir} belongs to uid ${owner}, not this job's uid ${uid} (a share that maps this uid to another, such as NFS's root squashing): what this job wrote there, its jobs would refuse`;
/** `archive-store: actions-cache` where no action step runs: the runner hooks, `cargo-isolate run` (fleet-store.ts). */
const actionsCacheNeedsToken = (who) => `the Actions cache service needs the runtime token that only a workflow's action steps get, which ${who}: the host tier only here (a shared directory works everywhere)`;

;// CONCATENATED MODULE: ./src/model/archive-content.ts
/*
 * What a dependency archive holds: what a later build needs to find every unit of a package that
 * is not the workspace's own fresh, and nothing else. Read from a listing of the build dir (the
 * effects in store/archive-content-list.ts), decided here as plain data.
 *
 * A build dir holds profile dirs, `<profile>/` and `<triple>/<profile>/`. In each:
 *
 *   layout v1 (cargo up to 1.99)            kept for a dependency's unit
 *     .fingerprint/<pkg>-<hash>/            yes: cargo's record of the unit (hashes, dep-info, mtimes)
 *     build/<pkg>-<hash>/                   yes: a build script, compiled (`build-script-build`) or run
 *                                           (`out/` = OUT_DIR, `output` it printed, `root-output`)
 *     deps/<crate>-<hash>.{rlib,rmeta,so,d} yes: the artifacts other units link
 *   layout v2 (cargo 1.100+)
 *     build/<pkg>/<hash>/{fingerprint,out,run}/   yes, the package's whole dir: all of the above
 *   both
 *     incremental/                          no: only the workspace's own units compile incrementally,
 *                                           and it is the largest part of a dev build
 *     examples/, <bin>, <bin>.d, lib*.rlib  no: uplifted copies of the workspace's own artifacts
 *     .cargo-lock, .cargo-build-lock, ...   no: cargo's locks, made by the next build
 *   at the build dir's top: .rustc_info.json, CACHEDIR.TAG, doc/, package/, tmp/: no.
 *
 * The workspace's own packages (and path dependencies: every package without a `source` in
 * Cargo.lock) are left out: their fingerprints compare the checkout's mtimes, which another
 * checkout never matches, so they rebuild anyway. A v1 unit is told by its directory name's
 * package; its files in `deps/` by the unit hash in their name (`-<hash>` is the unit's
 * `-C extra-filename`, the same as its fingerprint dir's on every cargo read here). A package
 * of the workspace with a dependency's name leaves that dependency out too: it rebuilds, never
 * more than that (cargo checks every unit it restores).
 */
/** `<pkg>-<16 hex digits>`: a v1 unit dir name. */
const V1_UNIT = /^(.+)-([0-9a-f]{16})$/;
/** `<crate>-<16 hex digits>` before an optional extension: a v1 `deps/` file. */
const DEPS_FILE = /-([0-9a-f]{16})(\.[A-Za-z0-9.]+)?$/;
/** Pure: what to archive of `profiles`, leaving out the packages named in `local`. */
function archive_content_planArchive(profiles, local) {
    const include = [];
    const packages = new Set();
    let workspaceEntries = 0;
    for (const p of profiles) {
        const localHashes = new Set();
        const keep = (dir, name, pkg, hash) => {
            if (local.has(pkg)) {
                workspaceEntries++;
                if (hash)
                    localHashes.add(hash);
                return;
            }
            packages.add(pkg);
            include.push(`${p.path}/${dir}/${name}`);
        };
        for (const name of p.fingerprints) {
            const m = V1_UNIT.exec(name);
            if (m)
                keep('.fingerprint', name, m[1], m[2]);
        }
        for (const name of p.build) {
            const m = V1_UNIT.exec(name);
            keep('build', name, m ? m[1] : name, m?.[2]);
        }
        for (const name of p.deps) {
            const hash = DEPS_FILE.exec(name)?.[1];
            // A file without a unit hash is not cargo's (or is an uplifted copy): left out.
            if (!hash)
                continue;
            if (localHashes.has(hash))
                workspaceEntries++;
            else
                include.push(`${p.path}/deps/${name}`);
        }
    }
    return { include: include.sort(), packages: packages.size, workspaceEntries };
}
/** Entries of a build dir's top level that are never profile dirs. */
const archive_content_NOT_PROFILE = new Set(['doc', 'package', 'tmp', 'incremental', 'deps', 'build', '.fingerprint', 'examples']);

;// CONCATENATED MODULE: ./src/os/fsutil.ts



/*
 * Small file effects every store and record shares: whether something is at a path, the one atomic
 * write (a temp file renamed into place), and the one link-else-copy.
 */
/** True when something (even a dangling symlink) is at the path. */
const exists = (p) => fs.lstat(p).then(() => true, () => false);
/** The error a uid gets for another uid's files: the cue to leave them to root (owner.ts). */
const isPermissionError = (e) => ['EACCES', 'EPERM'].includes(e?.code ?? '');
/**
 * Writes a whole file or nothing: a temp file in the same directory (named so that no glob for
 * the real name, such as node_exporter's `*.prom`, matches it), then rename(2) over the path.
 * The one atomic write: records, the hooks' state, the store's lists, scripts, metrics.
 * With `mode`, the file gets exactly that mode, not narrowed by the umask (node_exporter runs as
 * its own user, a wrapper script must stay executable); without it, 0644 narrowed by the umask.
 */
async function fsutil_writeAtomic(path, data, mode) {
    const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
    let step = 'write into';
    try {
        // 'wx': the temp name is new; a link planted there (a directory others write to) is refused, not followed.
        await fs.writeFile(tmp, data, { mode: mode ?? 0o644, flag: 'wx' });
        if (mode !== undefined)
            await fs.chmod(tmp, mode);
        step = 'rename';
        await fs.rename(tmp, path);
    }
    catch (e) {
        await fs.rm(tmp, { force: true }).catch(() => undefined);
        // Said of what the caller named: the directory that refused the temp file, or the path it
        // could not replace. The temp file's name would only puzzle whoever reads the message.
        const err = e;
        if (err.code)
            Object.assign(err, step === 'write into' ? { syscall: 'write into', path: dirname(path) } : { syscall: 'replace', path });
        throw err;
    }
}
/**
 * Puts `from`'s bytes at `to`, which must not exist: a hard link for 'link' (no bytes written), a
 * copy for 'copy' (a reflink where the filesystem can), and a copy too when the kernel refuses the
 * link; then it says why. The one link-else-copy of the crate and git stores.
 */
async function linkOrCopy(from, to, mode) {
    if (mode === 'link') {
        try {
            await fs.link(from, to);
            return undefined;
        }
        catch (e) {
            const code = e.code;
            if (code !== 'EXDEV' && code !== 'EPERM')
                throw e;
            await fs.copyFile(from, to, constants.COPYFILE_FICLONE);
            return code;
        }
    }
    await fs.copyFile(from, to, constants.COPYFILE_FICLONE);
    return undefined;
}

// EXTERNAL MODULE: external "node:async_hooks"
var external_node_async_hooks_ = __nccwpck_require__(6698);
;// CONCATENATED MODULE: ./src/os/absent.ts


const reporting = new external_node_async_hooks_.AsyncLocalStorage();
/** Where problems go outside any job or command (a module used on its own): stderr, still once each. */
const outside = { log: { warning: (m) => void process.stderr.write(`cargo-isolate: warning: ${m}\n`) }, said: new Set() };
/**
 * Runs `fn` with the problems of its reads said through `log`. Inside another such run the outer
 * one keeps them: each is said once, in the log of what began the run.
 */
function reportReadsTo(log, fn) {
    return reporting.getStore() ? fn() : reporting.run({ log, said: new Set() }, fn);
}
/** Pure: the warning for a read that failed other than by absence. */
function readProblem(path, e) {
    const what = e.code ? `${e.code}${e.syscall ? ` (${e.syscall})` : ''}` : e.message;
    return (`Could not read ${path}: ${what}. Carrying on as if it were not there, ` +
        'so nothing in it is used or freed until it can be read: check its owner and mode, or the disk.');
}
/** Whether a failed read means that nothing is there. */
function isAbsence(e, o) {
    return e.code === 'ENOENT' || (e.code === 'ENOTDIR' && o.notADirectory === 'absent') || (o.alsoAbsent?.includes(e.code ?? '') ?? false);
}
/** A read of `path` failed: nothing when that means absence, else said once (above). */
function failed(path, e, o) {
    const err = e;
    if (isAbsence(err, o))
        return undefined;
    const r = reporting.getStore() ?? outside;
    const key = `${path}\0${err.code ?? err.message}`;
    if (!r.said.has(key)) {
        r.said.add(key);
        r.log.warning(readProblem(path, err));
    }
    return undefined;
}
/** The result of `read`, or undefined when `path` is not there (or could not be read: said once, above). */
async function ifPresent(path, read, o = {}) {
    try {
        return await read();
    }
    catch (e) {
        return failed(path, e, o);
    }
}
/** The same for the synchronous reads of the units count and the view (warmth.ts, view.ts). */
function ifPresentSync(path, read, o = {}) {
    try {
        return read();
    }
    catch (e) {
        return failed(path, e, o);
    }
}
/** The names in a directory; none when it is not there. */
const listDir = async (dir, o) => (await ifPresent(dir, () => external_node_fs_.promises.readdir(dir), o)) ?? [];
/** The entries of a directory with their types; none when it is not there. */
const absent_listDirents = async (dir, o) => (await ifPresent(dir, () => fs.readdir(dir, { withFileTypes: true }), o)) ?? [];
/** The same, synchronously. */
const listDirSync = (dir, o) => ifPresentSync(dir, () => readdirSync(dir), o) ?? [];
/** The same, synchronously. */
const listDirentsSync = (dir, o) => ifPresentSync(dir, () => readdirSync(dir, { withFileTypes: true }), o) ?? [];
/** What is at a path, links not followed; undefined when nothing is (a file on the way counts as nothing). */
const lstatIfPresent = (path) => ifPresent(path, () => fs.lstat(path), { notADirectory: 'absent' });
/** A file's text; undefined when it is not there. */
const readTextIfPresent = (path, o) => ifPresent(path, () => fs.readFile(path, 'utf8'), o);
/** A file's bytes; undefined when it is not there. */
const readBytesIfPresent = (path) => ifPresent(path, () => fs.readFile(path));
/** Whether a real directory is at a path (a link to one is not); false when nothing is. */
const isDirAt = async (path) => (await lstatIfPresent(path))?.isDirectory() ?? false;

;// CONCATENATED MODULE: ./src/os/copy.ts




/** Copies the content of `src` into the existing, empty directory `dst`. */
async function copyTree(src, dst, timeoutMs) {
    const t0 = performance.now();
    const ran = await runCommand('cp', ['-a', '--reflink=auto', '--', `${src}/.`, `${dst}/`], timeoutMs);
    const r = ran.error
        ? { ok: false, detail: ran.error.message }
        : ran.code === 0
            ? { ok: true }
            : {
                ok: false,
                detail: ran.signal
                    ? `cp killed by ${ran.signal} after ${Math.round(timeoutMs / 1000)} s`
                    : ran.stderr.trim().split('\n').slice(-1)[0] || `cp exited with ${ran.code}`,
            };
    const linksRemoved = r.ok ? await copy_removeEscapingLinks(dst) : [];
    return { ...r, ms: Math.round(performance.now() - t0), linksRemoved };
}
/**
 * Removes every symlink under `dir` whose target lies outside `dir`: a link into the slot it was
 * copied from would lead this job's cargo to write into another slot.
 */
async function copy_removeEscapingLinks(dir) {
    const removed = [];
    const walk = async (d) => {
        const entries = await listDirents(d);
        for (const e of entries) {
            const p = join(d, e.name);
            if (e.isDirectory())
                await walk(p);
            else if (e.isSymbolicLink()) {
                // A link that cannot be read is taken as leading out ('/'): removed, never followed.
                const to = resolve(dirname(p), await fs.readlink(p).catch(() => '/'));
                if (to !== dir && !to.startsWith(dir + sep)) {
                    await fs.unlink(p).catch(() => undefined);
                    removed.push(relative(dir, p));
                }
            }
        }
    };
    await walk(dir);
    return removed;
}

;// CONCATENATED MODULE: ./src/model/failure.ts
/*
 * What went wrong, said one way by every entry point (the action's steps, the runner's hooks, the
 * CLI): one sentence that says what failed, on which path or input, and what to do, and a kind
 * that decides what a front end makes of it: a failed step or a warning, an exit code. A stack
 * trace is never part of it; the front ends show one only when asked (--verbose, RUNNER_DEBUG).
 *
 * The kinds, and why they differ:
 * - input: a value the user set cannot be meant (InputError, UsageError, a refused root). It is
 *   refused at once: the action fails its step, the CLI exits 2. The hooks warn instead: the
 *   operator's variables apply to every job, and a runner should not fail them all.
 * - environment: the host is not as it must be (a path that cannot be read or written, a
 *   read-only filesystem, a full disk). Housekeeping never fails a job: the action and the hooks
 *   warn and the job runs as it would without them; the CLI exits 3.
 * - floor: the disk is below `fail-below` after pruning, which the operator asked to fail on: the
 *   action and the hooks fail the job, the CLI exits 4.
 * - unexpected: anything else, a defect of cargo-isolate. Said with what was being done and how to
 *   see more; the action and the hooks warn, the CLI exits 1 (what Node exits with for a crash).
 */
/** The CLI's exit code for each kind (docs/operations.md lists them); 0 is success. */
const EXIT_CODES = { unexpected: 1, input: 2, environment: 3, floor: 4 };
/** A failure whose message is already the sentence an operator reads, and whose kind is known. */
class failure_Failure extends Error {
    kind;
    constructor(message, kind, options) {
        super(message, options);
        this.kind = kind;
        this.name = 'Failure';
    }
}
const isErrno = (e) => {
    const code = e instanceof Error ? e.code : undefined;
    return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code);
};
/** What a call was doing, in words: `could not <verb> <path>`. Calls not listed are named as they are. */
const VERB = {
    open: 'open',
    read: 'read',
    write: 'write',
    'write into': 'write into',
    rename: 'rename',
    replace: 'replace',
    mkdir: 'create the directory',
    rmdir: 'remove the directory',
    unlink: 'remove',
    rm: 'remove',
    scandir: 'list',
    opendir: 'list',
    stat: 'read',
    lstat: 'read',
    statfs: 'measure the filesystem of',
    access: 'write to',
    chmod: 'change the mode of',
    chown: 'change the owner of',
    lchown: 'change the owner of',
    link: 'link',
    symlink: 'link',
    copyfile: 'copy',
    utime: 'touch',
    realpath: 'resolve',
    readlink: 'read the link',
};
/** What each error code means, and what the operator can do about it. */
const CODES = {
    ENOENT: { says: 'it does not exist', fix: 'Create it, or choose another path' },
    ENOTDIR: { says: 'a file is in the way where a directory should be', fix: 'Move the file away, or choose another path' },
    EISDIR: { says: 'it is a directory', fix: 'Name a file' },
    EACCES: { says: 'permission denied', fix: 'Run as its owner (or root), or give this user access to it' },
    EPERM: { says: 'operation not permitted', fix: 'Run as its owner (or root), or give this user access to it' },
    EROFS: { says: 'the filesystem is read-only', fix: 'Remount it read-write, or choose a path on a writable filesystem' },
    ENOSPC: { says: 'the filesystem is full', fix: "Free space ('cargo-isolate gc' removes idle data), or choose another filesystem" },
    EDQUOT: { says: "this user's disk quota is used up", fix: 'Raise the quota, or free space' },
    EIO: { says: 'an input/output error', fix: 'Check the disk (dmesg)' },
    EMFILE: { says: 'too many open files', fix: 'Raise the limit of open files (ulimit -n)' },
    ENFILE: { says: 'too many open files on the host', fix: 'Raise fs.file-max, or end what holds them' },
    ELOOP: { says: 'too many symbolic links on the way', fix: 'Look for a link that points back at itself' },
    ENAMETOOLONG: { says: 'the path is too long', fix: 'Choose a shorter path' },
    EEXIST: { says: 'something is there already', fix: 'Move it away, or choose another path' },
    EBUSY: { says: 'it is busy (a mount point, or in use)', fix: 'Choose a path that is not a mount point' },
    EXDEV: { says: 'it is on another filesystem', fix: 'Keep the root on one filesystem' },
};
/**
 * Pure: the sentence for a failed system call: `could not <verb> <path>: <what it means> (<CODE>).
 * <What to do>.`, with `fix` instead of the code's own advice where the caller knows better.
 */
function errnoText(e, fix) {
    const known = CODES[e.code];
    const verb = e.syscall === undefined ? undefined : (VERB[e.syscall] ?? (e.syscall.startsWith('spawn') ? 'run' : e.syscall));
    const what = verb && e.path ? `could not ${verb} ${e.path}${e.dest ? ` to ${e.dest}` : ''}: ` : e.path ? `${e.path}: ` : '';
    return `${what}${known?.says ?? 'it failed'} (${e.code}). ${fix ?? known?.fix ?? 'Check the path and its permissions'}.`;
}
/**
 * A failure of the host, with what was being done: `Writing the metrics to F: could not write
 * into D: it does not exist (ENOENT). Create the directory, or choose another --output.` (`fixes`:
 * the caller's own advice for some codes, where it knows better than the code's). Its
 * message is whole wherever it is printed; `cause` keeps the original error for a debug log.
 * Anything not a failed system call is unexpected (or keeps the kind it had) and is said with
 * the doing in front.
 */
function failure_failed(doing, e, o = {}) {
    if (isErrno(e))
        return new failure_Failure(`${doing}: ${errnoText(e, o.fixes?.[e.code])}`, 'environment', { cause: e });
    if (e instanceof failure_Failure)
        return new failure_Failure(`${doing}: ${e.message}`, e.kind, { cause: e });
    return new failure_Failure(`${doing}: ${e instanceof Error ? e.message : String(e)}`, 'unexpected', { cause: e });
}
/**
 * Pure: any thrown value as a front end reports it, after the front end's own words (`cargo-isolate:`,
 * `cargo-isolate job-started hook:`). `more` says how to see more of an unexpected failure in
 * this front end (`run it again with --verbose`).
 */
function explain(e, o) {
    const stack = stackOf(e);
    // A Failure's message is written whole by the code that throws it (a value with a newline in it included).
    if (e instanceof failure_Failure)
        return { kind: e.kind, message: e.message, exitCode: EXIT_CODES[e.kind], stack };
    if (isErrno(e))
        return { kind: 'environment', message: errnoText(e), exitCode: EXIT_CODES.environment, stack };
    const what = e instanceof Error ? e.message : String(e);
    return {
        kind: 'unexpected',
        message: oneLine(`an unexpected failure: ${what.replace(/\.$/, '')}. This is a defect of cargo-isolate: ${o.more}, and report it`) + '.',
        exitCode: EXIT_CODES.unexpected,
        stack,
    };
}
/** Every stack along the chain of causes: the debug log's whole story. */
function stackOf(e) {
    const parts = [];
    for (let x = e, depth = 0; x instanceof Error && depth < 5; x = x.cause, depth++)
        parts.push(x.stack ?? String(x));
    return parts.length ? parts.join('\ncaused by: ') : undefined;
}
/** Another module's message is made one line (a workflow command, a log line): a second line would read like a second message. */
const oneLine = (s) => s.replace(/\s*\n\s*/g, ' ').trim();

;// CONCATENATED MODULE: ./src/os/flock.ts



/*
 * Locks are kernel flock(2) locks taken by util-linux `flock`, because Node has no flock.
 *
 * Invariant: a lock is held exactly while some process holding its file descriptor lives.
 * The kernel drops it when the last holder dies, by any means (exit, SIGKILL, reboot), so no
 * state on disk can claim a lock that nobody holds. Locks work across containers that share
 * the files on one kernel (bind mounts); they are not reliable on NFS.
 *
 * `flock -n -E 75 A flock -n -E 75 B sh -c BODY` takes A, then B, then runs BODY while both
 * are held; BODY prints `locked` once it runs, which is how the caller learns it won.
 * Exit code 75 means some lock was busy (or, with a wait, timed out).
 *
 * The lock rule (as cargo writes its own in util/cache_lock.rs). Every lock cargo-isolate takes:
 *
 *   lock file                           taken by                                mode       waits
 *   <root>/locks/slot-<name>.lock       the lease keeper of the job on the slot  exclusive  never: a busy slot
 *                                       (pool/lease.ts startKeeper), for the               is retried by polling
 *                                       whole job, by a detached process                   (a few quick retries,
 *                                                                                          then 500 ms scans)
 *   <jobs dir>/.lease                   the same, for the `job` layout           exclusive  never
 *   the two above, with cargo's own     the guard removing an idle slot or job   exclusive  never (-n): a busy one
 *   locks in that slot's target and     dir (os/remove.ts), the warm copy from             is live, and is
 *   CARGO_HOME (os/liveness.ts          an idle slot (pool/warm-copy.ts), the              skipped
 *   cargoLockFiles: .cargo-lock,        hand-back of an idle slot
 *   .cargo-build-lock,                  (owners/handback.ts), the lease taking
 *   .cargo-artifact-lock,               a free slot (probe: is cargo still
 *   .package-cache[-mutate])            running there?), status (probes)
 *   <home>/.package-cache-mutate and    the guard removing a shared CARGO_HOME's  exclusive  never
 *   .package-cache                      registry sources (cargo's MutateExclusive)
 *   <CARGO_HOME>/.package-cache         the job's start while it seeds crates    exclusive  up to 120 s
 *                                       and git deps (job/dependencies.ts), and  (30 s at a
 *                                       while it repairs, extracts or records    job's end)
 *                                       the shared home's sources
 *                                       (store/home-sources.ts)
 *   <root>/locks/guard.lock             the disk guard (pool/guard.ts), one per  exclusive  up to 300 s
 *                                       host
 *   <root>/sccache/u<uid>-p<port>/      the job starting the host sccache        exclusive  up to 60 s
 *     start.lock                        server (host/sccache.ts)
 *   <root>/locks/metrics.lock           `cargo-isolate metrics` saving counters  exclusive  up to 30 s
 *   <archive>/archive.tar.zst           a restore of that dependency archive     shared     never: held
 *     (store/archive.ts)                while it reads (store/archive.ts), and             exclusively, it is
 *                                       a copy sending it to a fleet store                 being removed: a miss
 *                                       (store/archive-copy.ts)
 *   the same, in a save's temp          the save writing it, and a fleet fetch   exclusive  never (a new file)
 *     directory (`.<exact>.<rand>.tmp`) copying into the host tier
 *                                       (store/archive-copy.ts), until the rename
 *   <archive>/archive.tar.zst           whatever removes an archive: the guard,  exclusive  never (-n): a busy
 *                                       the host tier's cap, a closed PR                   one is being read
 *                                       (store/archive-host.ts), and the probe              (or written) and is
 *                                       telling a save in progress from what a             skipped
 *                                       killed save left
 *
 * An archive's lock is its own data file, not a file under locks/: it lives and goes with the
 * archive, so none accumulate. Its remover holds it while it renames the archive into the trash;
 * a restore that opened the file before that rename and locks it after finds the path gone, and
 * restores nothing (store/archive.ts checks the path again under its lock). Neither side waits.
 *
 * The crate store and the git store take no lock: entries appear whole by rename and are never
 * changed; the guard unlinks an idle .crate (a seeder's hard link keeps the bytes) and renames a
 * git entry into trash (store/crates.ts, store/gitstore.ts, pool/guard.ts). Shared mode
 * (`shared: true`) is only used to probe or wait, never to hold (status; releaseLease waiting,
 * up to 2 s and holding nothing, for the kernel to drop a keeper's lock).
 *
 * Why nothing can deadlock: a lock is waited for (the "up to" rows) only by a process that holds
 * no other lock of ours except, for .package-cache and start.lock, its own slot's lease, which no
 * one ever waits for. And every holder of a lock that is waited for takes any further lock
 * non-blocking: the guard holding guard.lock, the seeder holding .package-cache, the sccache
 * starter holding start.lock never block on a second lock. Several locks held at once (a slot and
 * its cargo locks, taken in one `flock -n ... flock -n ...` chain) are all taken with -n, so a
 * busy one gives up the others at once. So no process ever waits while holding a lock another
 * process waits for: no cycle of waits can form, whatever the order. Every wait is also bounded.
 * A new lock keeps this only if it is taken non-blocking, or waited for while holding nothing
 * that anyone waits for.
 */
const BUSY = 75;
/** Holds the body until its stdin closes: our own process dying releases the locks too. */
const UNTIL_STDIN_CLOSES = 'echo locked; exec cat >/dev/null';
function flockArgs(paths, o, tail) {
    const mode = o.waitSeconds ? ['-w', String(o.waitSeconds)] : ['-n'];
    const kind = o.shared ? ['-s'] : ['-x'];
    const args = [];
    paths.forEach((p, i) => {
        if (i > 0)
            args.push('flock');
        args.push(...kind, ...mode, '-E', String(BUSY), p);
    });
    return [...args, ...tail];
}
/**
 * Takes every lock in `paths` (creating missing lock files) and keeps them until released.
 * Resolves to undefined when one of them is busy.
 */
function flock_hold(paths, o = {}) {
    if (paths.length === 0)
        throw new Error('hold: no lock paths');
    const body = o.body ?? UNTIL_STDIN_CLOSES;
    const args = flockArgs(paths, o, ['sh', '-c', body, 'sh', ...(o.args ?? [])]);
    return new Promise((resolvePromise, reject) => {
        const child = (0,external_node_child_process_namespaceObject.spawn)('flock', args, {
            detached: o.detached ?? false,
            stdio: [o.body ? 'ignore' : 'pipe', 'pipe', 'pipe'],
            env: o.env ?? process.env,
        });
        let out = '';
        let err = '';
        let settled = false;
        const settle = (v, e) => {
            if (settled)
                return;
            settled = true;
            if (e)
                reject(e);
            else
                resolvePromise(v);
        };
        child.stdout.on('data', (d) => {
            out += d.toString();
            if (out.startsWith('locked'))
                settle({ pid: child.pid, child });
        });
        child.stderr.on('data', (d) => (err += d.toString()));
        child.on('error', (e) => settle(undefined, new failure_Failure(`Cannot run 'flock' (util-linux) to take ${paths[0]}: ${e.message}. Install util-linux.`, 'environment')));
        child.on('exit', (code, signal) => {
            if (code === BUSY)
                return settle(undefined);
            settle(undefined, whyNotOpened(paths) ?? new Error(`flock on ${paths.join(', ')} ended before locking (code ${code}, signal ${signal}): ${err.trim() || out.trim()}`));
        });
    });
}
/**
 * Why flock could not open one of its lock files (a read-only filesystem, a directory of another
 * uid): the same open(2) flock makes (read-only, created when missing), so that the error names
 * the file, the call and the code as every other failed system call does (model/failure.ts).
 * Only on flock's failure: a lock taken costs no extra call.
 */
function whyNotOpened(paths) {
    for (const p of paths) {
        try {
            (0,external_node_fs_.closeSync)((0,external_node_fs_.openSync)(p, external_node_fs_.constants.O_RDONLY | external_node_fs_.constants.O_CREAT | external_node_fs_.constants.O_NOCTTY, 0o666));
        }
        catch (e) {
            return e;
        }
    }
    return undefined;
}
/** Ends an in-process hold taken without `detached`: closing stdin ends the body. */
function flock_release(h) {
    return new Promise((res) => {
        if (h.child.exitCode !== null || h.child.signalCode !== null)
            return res();
        h.child.once('exit', () => res());
        h.child.stdin?.end();
    });
}
/** Lets a detached holder outlive this process: drop every handle that would keep us waiting. */
function detach(h) {
    h.child.stdout?.destroy();
    h.child.stderr?.destroy();
    h.child.removeAllListeners();
    h.child.unref();
}
/** True when none of `paths` is locked right now (it takes and drops them: a probe, not a hold). */
function allFree(paths, shared = false) {
    paths = paths.filter((p) => existsSync(p)); // a lock file that does not exist is held by nobody
    if (paths.length === 0)
        return true;
    const r = spawnSync('flock', flockArgs(paths, { shared }, ['true']), { stdio: 'ignore' });
    if (r.error)
        throw new Failure(`Cannot run 'flock' (util-linux): ${r.error.message}. Install util-linux.`, 'environment');
    return r.status === 0;
}
/** allFree without blocking this process: its flock runs while the caller does other work. */
function probeFree(paths, shared = false) {
    return flockTrue(paths, { shared });
}
/**
 * Waits up to `seconds` until nobody holds `path` exclusively, in one `flock -s -w` the kernel
 * wakes as the lock drops (no polling); true when it is free. A missing lock file is free.
 */
function waitFree(path, seconds) {
    return flockTrue([path], { shared: true, waitSeconds: seconds });
}
/** `flock ... true` on the lock files that exist: true when it got them all (none exist: true). */
function flockTrue(paths, o) {
    paths = paths.filter((p) => existsSync(p)); // a lock file that does not exist is held by nobody
    if (paths.length === 0)
        return Promise.resolve(true);
    return new Promise((res, reject) => {
        const child = spawn('flock', flockArgs(paths, o, ['true']), { stdio: 'ignore' });
        child.on('error', (e) => reject(new Failure(`Cannot run 'flock' (util-linux) on ${paths[0]}: ${e.message}. Install util-linux.`, 'environment')));
        child.on('exit', (code) => res(code === 0));
    });
}
/** `pid` runs and is a `flock` holding `lockPath` (its command line says so): not gone, not a reused pid. */
function isHolder(pid, lockPath) {
    try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return cmdline.startsWith('flock\0') && cmdline.includes(`\0${lockPath}\0`);
    }
    catch {
        return false; // already gone
    }
}
/** Kills a detached holder's process group, after checking the pid still is that holder. */
function killHolder(pid, lockPath) {
    if (!isHolder(pid, lockPath))
        return false; // gone, or the pid was reused
    try {
        process.kill(-pid, 'SIGTERM');
    }
    catch {
        try {
            process.kill(pid, 'SIGTERM');
        }
        catch {
            return false;
        }
    }
    return true;
}

// EXTERNAL MODULE: external "node:stream"
var external_node_stream_ = __nccwpck_require__(7075);
;// CONCATENATED MODULE: external "node:stream/promises"
const promises_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:stream/promises");
// EXTERNAL MODULE: external "node:zlib"
var external_node_zlib_ = __nccwpck_require__(8522);
;// CONCATENATED MODULE: ./src/os/pipe.ts

/**
 * Starts a command for streaming bytes through it; never rejects. After `timeoutMs` it gets
 * SIGKILL, as runCommand's commands do. The one place a command's stdin or stdout is a stream
 * (run.ts captures output; this moves it).
 */
function pipe_spawnPiped(cmd, args, timeoutMs, cwd) {
    const { child, piped } = start(cmd, args, 'pipe', timeoutMs, cwd);
    // A reader that stops early (a failed decompressor) must not crash the process with EPIPE.
    child.stdin.on('error', () => undefined);
    return { stdin: child.stdin, ...piped };
}
/**
 * As spawnPiped, with its stdin fed by `from`: an open file's descriptor, or another command's
 * stdout. The bytes then pass between the two in the kernel, never through this process (a
 * restore's 800 MiB of tar cost a second of CPU when Node carried them). This process's end of
 * `from` is closed, so that the writer meets a closed pipe when this command dies.
 */
function pipe_spawnFed(cmd, args, from, timeoutMs, cwd) {
    const { piped } = start(cmd, args, from, timeoutMs, cwd);
    if (typeof from !== 'number')
        from.destroy();
    return piped;
}
function start(cmd, args, stdin, timeoutMs, cwd) {
    const child = spawn(cmd, args, { stdio: [stdin, 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL', cwd });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr = (stderr + d.toString()).slice(-2000)));
    const done = new Promise((res) => {
        child.on('error', (e) => res({ code: null, signal: null, stderr, error: e }));
        child.on('close', (code, signal) => res({ code, signal, stderr }));
    });
    const piped = { stdout: child.stdout, done, kill: () => void child.kill('SIGKILL') };
    return { child, piped };
}

;// CONCATENATED MODULE: ./src/store/archive-stream.ts






/** True when this Node's zlib speaks zstd. */
const archive_stream_nodeHasZstd = () => typeof zlib.createZstdCompress === 'function';
/** Pure: which engine compresses, given what the host has; undefined: neither (no archive then). */
function archive_stream_chooseCompressor(has, wanted) {
    if (wanted === 'zstd' && has.zstdOnPath)
        return 'zstd';
    if (wanted === 'node' && has.nodeZstd)
        return 'node';
    return has.zstdOnPath ? 'zstd' : has.nodeZstd ? 'node' : undefined;
}
/** A pass-through that hashes what flows through it (sha256) and counts its bytes. */
function hashing() {
    const h = (0,external_node_crypto_.createHash)('sha256');
    let bytes = 0;
    const t = new external_node_stream_.Transform({
        transform(chunk, _enc, cb) {
            h.update(chunk);
            bytes += chunk.length;
            cb(null, chunk);
        },
    });
    return { t, result: () => ({ sha256: h.digest('hex'), bytes }) };
}
/** Reads of 1 MiB: a sixteenth of the read calls of Node's default, for a file of hundreds of MiB. */
const READ_CHUNK = 1 << 20;
/**
 * The checksum and size of a file, read once. Given an open handle, it reads at explicit offsets
 * (pread), so a command reading the same open file (unpackTar's zstd) keeps its own offset.
 */
async function digestFile(file) {
    const hash = hashing();
    const from = typeof file === 'string' ? (0,external_node_fs_.createReadStream)(file, { highWaterMark: READ_CHUNK }) : readAt0(file);
    await (0,promises_namespaceObject.pipeline)(from, hash.t, new external_node_stream_.Writable({ write: (_c, _e, cb) => cb() }));
    return hash.result();
}
/** A stream of an open file from its first byte, by positional reads, leaving the handle open. */
const readAt0 = (fh) => (0,external_node_fs_.createReadStream)('', { fd: fh, start: 0, autoClose: false, highWaterMark: READ_CHUNK });
/** Pure: how the bytes read of `file` differ from what was saved, or undefined when they match. */
function archive_stream_digestMismatch(saved, read, file) {
    if (read.bytes !== saved.bytes)
        return { reason: 'truncated', detail: `${file} has ${read.bytes} bytes, ${saved.bytes} were saved` };
    if (read.sha256 !== saved.sha256)
        return {
            reason: 'altered',
            detail: `${file} does not match the sha256 saved beside it (${saved.sha256.slice(0, 12)}…, read ${read.sha256.slice(0, 12)}…)`,
        };
    return undefined;
}
/**
 * Node's zstd on one thread: with ZSTD_c_nbWorkers set, Node 24.9's stream fails midway
 * ("stream.push() after EOF") once its input comes in many chunks (measured with a tar of a
 * build dir), so the system's `zstd -T0` is the only one that uses every core.
 */
const nodeCompressor = () => zlib.createZstdCompress({ params: { [zlib.constants.ZSTD_c_compressionLevel]: 3 } });
/** The first line that says what went wrong (tar ends with a line that says only that it failed). */
const firstError = (stderr) => stderr
    .trim()
    .split('\n')
    .filter((l) => l && !/Exiting with failure status/.test(l))
    .slice(0, 2)
    .join('; ');
const archive_stream_failed = (step, r) => r.error
    ? `${step} could not start: ${r.error.message}`
    : r.code !== 0
        ? `${step} ${r.signal ? `was killed by ${r.signal}` : `exited with ${r.code}`}: ${firstError(r.stderr)}`
        : undefined;
/**
 * Writes a tar of `files` (paths relative to `dir`, directories not recursed) compressed into
 * `out`, and says its checksum and size. Throws with the step that failed (tar, zstd, the write).
 */
async function archive_stream_packTar(dir, files, out, compressor, timeoutMs) {
    // --directory before --files-from: GNU tar applies it to the names that follow it only.
    const tarArgs = ['--create', '--file=-', '--format=posix', '--pax-option=delete=atime,delete=ctime', '--numeric-owner', `--directory=${dir}`];
    const tar = spawnPiped('tar', [...tarArgs, '--no-recursion', '--null', '--files-from=-'], timeoutMs);
    tar.stdin.end(files.map((f) => `${f}\0`).join(''));
    // zstd reads tar's output in the kernel: only the compressed bytes (a fifth) pass through here, to be hashed.
    const z = compressor === 'zstd' ? spawnFed('zstd', ['-3', '-T0', '-q', '-c'], tar.stdout, timeoutMs) : undefined;
    const hash = hashing();
    const write = createWriteStream(out, { mode: 0o644 });
    try {
        if (z)
            await pipeline(z.stdout, hash.t, write);
        else
            await pipeline(tar.stdout, nodeCompressor(), hash.t, write);
    }
    catch (e) {
        // The first failure says why; the commands stopped after it say only that they were stopped.
        const first = e.message;
        const [t, zd] = [await Promise.race([tar.done, Promise.resolve(undefined)]), z && (await Promise.race([z.done, Promise.resolve(undefined)]))];
        tar.kill();
        z?.kill();
        const why = (t && archive_stream_failed('tar', t)) ?? (zd && archive_stream_failed('zstd', zd));
        throw new Error(`writing ${out}: ${why ?? first}`);
    }
    const why = archive_stream_failed('tar', await tar.done) ?? (z && archive_stream_failed('zstd', await z.done));
    if (why)
        throw new Error(`writing ${out}: ${why}`);
    return hash.result();
}
/**
 * Extracts `file` (zstd, then `tar --extract`) into the directory `into`, and says the checksum of
 * the file as it read it: the caller compares it before anything leaves `into`. Never throws.
 *
 * The checksum is taken beside the extraction, not in its way: zstd reads the open file itself
 * and writes into tar's stdin, and this process hashes the same open file by positional reads
 * (one inode, whatever happens to its path). When the checksum is known not to be `expected`'s,
 * zstd and tar are stopped: an altered archive is never extracted to its end. tar reads 128 KiB
 * records (a tenth of the read and write calls of its default 10 KiB), gathered whole from the
 * pipe; --ignore-zeros makes it read to the end of its input, so zstd never meets a closed pipe.
 */
async function archive_stream_unpackTar(file, into, compressor, timeoutMs, expected) {
    let fh;
    try {
        fh = await fs.open(file, 'r');
    }
    catch (e) {
        return { failed: `reading ${file}: ${e.message}` };
    }
    try {
        const tarArgs = ['--extract', '--ignore-zeros', '--file=-', '--blocking-factor=256', '--read-full-records', '--no-same-owner', `--directory=${into}`];
        let z;
        let tar;
        let fed = Promise.resolve(undefined);
        if (compressor === 'zstd') {
            z = spawnFed('zstd', ['-d', '-q', '-c'], fh.fd, timeoutMs);
            tar = spawnFed('tar', tarArgs, z.stdout, timeoutMs);
        }
        else {
            const piped = spawnPiped('tar', tarArgs, timeoutMs);
            tar = piped;
            fed = pipeline(readAt0(fh), zlib.createZstdDecompress(), piped.stdin).then(() => undefined, (e) => e.message);
        }
        const stop = () => {
            tar.kill();
            z?.kill();
        };
        const hashed = digestFile(fh).then((r) => {
            if (expected && archive_stream_digestMismatch(expected, r, file))
                stop();
            return r;
        }, () => undefined);
        const fedWhy = await fed;
        if (fedWhy)
            stop();
        const [read, zd, td] = await Promise.all([hashed, z?.done, tar.done]);
        const why = (zd && archive_stream_failed('zstd', zd)) ?? archive_stream_failed('tar', td) ?? fedWhy;
        return { read, ...(why ? { failed: `reading ${file}: ${why}` } : {}) };
    }
    finally {
        await fh.close();
    }
}

;// CONCATENATED MODULE: ./src/store/archive.ts












/*
 * Dependency archives on the host: save one from a build dir, restore one into an empty build dir.
 * What goes in is decided by model/archive-content.ts, under which key by model/archive-key.ts,
 * where it lives by model/layout.ts (`archiveDir`). Each archive is a directory:
 *
 *   <exact key>/archive.tar.zst   the tar, zstd-compressed (archive-stream.ts)
 *   <exact key>/archive.json      its sha256 and size, its key's parts, when and from where
 *
 * Save, and two jobs saving one key at once: each writes both files into a temp directory of its
 * own beside the final one (`.<exact>.<random>.tmp`), then rename(2)s it to the final name. A
 * directory cannot be renamed over a non-empty one, so the first rename wins whole and the
 * second job removes its temp directory: a reader sees no archive or one whole archive, never a
 * data file of one save with the checksum of another.
 *
 * Restore: zstd and `tar --extract` unpack the data into a temp directory inside the build dir
 * (`.cargo-isolate-restore-<random>`, same filesystem) while this process hashes the same open
 * file beside them (archive-stream.ts unpackTar). Only when tar succeeded and the checksum and
 * size match archive.json are its top entries (the profile dirs) renamed into place; a truncated or altered archive, or a build dir already holding one of
 * those entries, leaves the build dir as it was. The mtimes are the archive's (tar keeps them to
 * the nanosecond): cargo's fingerprints compare them.
 *
 * Its data file is its lock (os/flock.ts has the rule): a restore holds it shared while it reads
 * (never waiting: an archive being removed is one that is not there), a save holds its temp
 * directory's exclusively until the rename, and whatever removes an archive (the guard, the cap,
 * a closed PR: store/archive-host.ts) takes it exclusively without waiting, so no archive goes
 * while a restore reads it and no save in progress passes for a leftover. A restore also sets
 * the directory's mtime: when the archive was last used.
 *
 * An archive restores at any build dir path: cargo keeps dep-info relative to the build dir and
 * rewrites build-script output paths (FIELD-NOTES; __tests__/archive.test.ts restores one slot's
 * archive into another slot's target and finds every dependency unit fresh). What must match is
 * the CARGO_HOME string, which is part of the key.
 */
const DATA = 'archive.tar.zst';
const META = 'archive.json';
const RESTORE_PREFIX = '.cargo-isolate-restore-';
const archive_dirsIn = (d) => {
    try {
        return (0,external_node_fs_.readdirSync)(d, { withFileTypes: true })
            .filter((e) => e.isDirectory())
            .map((e) => e.name);
    }
    catch {
        return [];
    }
};
const namesIn = (d) => {
    try {
        return readdirSync(d);
    }
    catch {
        return [];
    }
};
const isProfile = (d) => ['.fingerprint', 'build', 'deps'].some((x) => existsSync(join(d, x)));
/** The profile dirs of a build dir (`<profile>`, `<triple>/<profile>`), as model/archive-content reads them. */
function listBuildDir(buildDir) {
    const out = [];
    const add = (rel) => {
        const p = join(buildDir, rel);
        out.push({ path: rel, fingerprints: archive_dirsIn(join(p, '.fingerprint')), build: archive_dirsIn(join(p, 'build')), deps: namesIn(join(p, 'deps')) });
    };
    for (const a of archive_dirsIn(buildDir).filter((n) => !NOT_PROFILE.has(n) && !n.startsWith('.'))) {
        if (isProfile(join(buildDir, a)))
            add(a);
        else
            for (const b of archive_dirsIn(join(buildDir, a)).filter((n) => !NOT_PROFILE.has(n)))
                if (isProfile(join(buildDir, a, b)))
                    add(`${a}/${b}`);
    }
    return out;
}
/**
 * Every directory and regular file under the planned paths, relative to the build dir, parents
 * first. Symlinks are left out: cargo makes none in a build dir, and one planted by a build
 * must not travel to another job.
 */
function filesOf(buildDir, include) {
    const files = [];
    let bytes = 0;
    const seenDirs = new Set();
    const parents = (rel) => {
        const up = [];
        for (let d = dirname(rel); d !== '.' && !seenDirs.has(d); d = dirname(d))
            up.unshift(d);
        for (const d of up) {
            seenDirs.add(d);
            files.push(d);
        }
    };
    const walk = (rel) => {
        const st = lstatSync(join(buildDir, rel), { throwIfNoEntry: false });
        if (!st)
            return;
        if (st.isDirectory()) {
            seenDirs.add(rel);
            files.push(rel);
            for (const n of namesIn(join(buildDir, rel)).sort())
                walk(`${rel}/${n}`);
        }
        else if (st.isFile()) {
            files.push(rel);
            bytes += st.size;
        }
    };
    for (const rel of include) {
        parents(rel);
        walk(rel);
    }
    return { files, bytes };
}
/** Reads archive.json; undefined when missing or not one of this format. */
function readArchiveMeta(dir) {
    try {
        const m = JSON.parse((0,external_node_fs_.readFileSync)((0,external_node_path_.join)(dir, META), 'utf8'));
        return m.format === archive_key_ARCHIVE_FORMAT && typeof m.sha256 === 'string' && typeof m.bytes === 'number' ? m : undefined;
    }
    catch {
        return undefined;
    }
}
/** The archives saved under one fallback key's directory (archiveDir without `exact`), each with its archive.json, read once. */
function listArchives(fallbackDir) {
    return archive_dirsIn(fallbackDir)
        .filter((n) => !n.startsWith('.'))
        .flatMap((n) => {
        const meta = readArchiveMeta((0,external_node_path_.join)(fallbackDir, n));
        return meta ? [{ exact: meta.exact, savedAt: meta.savedAt, dir: (0,external_node_path_.join)(fallbackDir, n), meta }] : [];
    });
}
/** Pure: the newest of `archives`. */
const newestOf = (archives) => [...archives].sort((a, b) => (a.savedAt < b.savedAt ? 1 : -1))[0];
/**
 * The archive a start restores, among the trust domains it may read (its own and its base's:
 * the caller says which, as for warm copies), under `key` (chooseArchive); else why none: that
 * there is none, or the parts in which the newest archive of those domains differs from `key`.
 * Each archive.json is read once: the fallback key's directories first, the rest only for a miss.
 */
function findArchive(root, repository, domains, key) {
    const under = domains.flatMap((domain) => listArchives(archiveDir(root, repository, domain, key.fallback)).map((c) => ({ ...c, domain })));
    const r = chooseArchive(under, key);
    if (r) {
        const c = r.pick;
        return { found: true, dir: c.dir, how: r.how, domain: c.domain, meta: c.meta };
    }
    const others = domains.flatMap((domain) => domainCandidates(root, repository, domain, key.fallback));
    const newest = newestOf([...under, ...others]);
    if (!newest)
        return { found: false, why: `no dependency archive of ${repository} for ${domains.join(' or ')}` };
    const parts = keyDifferences(newest.meta.key, key.parts);
    return {
        found: false,
        why: `the newest dependency archive of ${repository} (${newest.domain}, saved ${newest.meta.savedAt}) was built with another ${parts.join(', ')}`,
    };
}
/** The archives of a trust domain, under every fallback key but `except` (already listed), each with its domain. */
const domainCandidates = (root, repository, domain, except) => {
    const domainDir = (0,external_node_path_.dirname)(archiveDir(root, repository, domain, 'any'));
    return archive_dirsIn(domainDir)
        .filter((f) => f !== except)
        .flatMap((f) => listArchives((0,external_node_path_.join)(domainDir, f)).map((c) => ({ ...c, domain })));
};
/**
 * The archive a start restores when it knows only who it is (chooseByIdentity: the runner's
 * hook), among `domains` (its own, then its base's); else why none.
 */
function findArchiveByIdentity(root, repository, domains, want) {
    const all = domains.flatMap((d) => domainCandidates(root, repository, d).map((c) => ({ ...c, parts: c.meta.key })));
    const pick = chooseByIdentity(all, want, domains);
    if (pick)
        return { found: true, dir: pick.dir, domain: pick.domain, meta: pick.meta };
    const newest = newestOf(all);
    if (!newest)
        return { found: false, why: `no dependency archive of ${repository} for ${domains.join(' or ')}` };
    const parts = keyDifferences(Object.fromEntries(Object.keys(want).map((k) => [k, newest.parts[k]])), want);
    return { found: false, why: `the newest dependency archive of ${repository} (${newest.domain}, saved ${newest.savedAt}) is of another ${parts.join(', ')}` };
}
/**
 * `rustc -vV` of the toolchain that built `buildDir`, as cargo recorded it there
 * (`.rustc_info.json`, its cache of rustc's answers, rewritten when the rustc changes), else as
 * `rustc` answers in `cwd` with `env` (a rust-toolchain file there picks the toolchain, as it does
 * for the build). Undefined when neither says.
 */
async function rustcOf(buildDir, cwd, env) {
    if (buildDir) {
        try {
            const info = JSON.parse(readFileSync(join(buildDir, '.rustc_info.json'), 'utf8'));
            const vv = Object.values(info.outputs ?? {}).find((o) => /^rustc \S+/.test(o.stdout ?? '') && /\nbinary: rustc\n/.test(o.stdout ?? ''));
            if (vv?.stdout)
                return vv.stdout;
        }
        catch {
            // no record (an empty target) or not cargo's: ask rustc
        }
    }
    const r = spawnSync('rustc', ['-vV'], { cwd, env, encoding: 'utf8', timeout: 30_000 });
    return r.status === 0 && r.stdout.startsWith('rustc ') ? r.stdout : undefined;
}
const compressorHere = (wanted) => chooseCompressor({ zstdOnPath: (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, 'zstd'))), nodeZstd: nodeHasZstd() }, wanted);
/** Saves the dependency artifacts of `buildDir` as the archive `dir`, unless one is there. Never throws. */
async function saveArchive(o) {
    const t0 = performance.now();
    const ms = () => Math.round(performance.now() - t0);
    const not = (reason, detail) => ({ saved: false, reason, detail, ms: ms() });
    if (o.key.exact === undefined)
        return not('no-lock', 'no Cargo.lock: an archive is saved only under an exact key');
    if (readArchiveMeta(o.dir))
        return not('exists', `${o.dir} is already saved`);
    const compressor = compressorHere(o.compressor);
    if (!compressor)
        return not('no-zstd', "neither a 'zstd' on PATH nor a Node with zstd in zlib (Node 22.15+)");
    const tmp = join(dirname(o.dir), `.${basename(o.dir)}.${randomBytes(4).toString('hex')}.tmp`);
    let writing;
    try {
        const plan = o.plan ?? planArchive(listBuildDir(o.buildDir), new Set(o.local));
        const { files, bytes } = filesOf(o.buildDir, plan.include);
        if (plan.include.length === 0)
            return not('nothing', `no dependency artifacts in ${o.buildDir}`);
        await fs.mkdir(dirname(o.dir), { recursive: true });
        await fs.mkdir(tmp);
        // Until the rename: a guard meeting this temp directory sees a save in progress, not a leftover.
        writing = await hold([join(tmp, DATA)]);
        const written = await packTar(o.buildDir, files, join(tmp, DATA), compressor, o.timeoutMs);
        const meta = {
            format: ARCHIVE_FORMAT,
            exact: o.key.exact,
            fallback: o.key.fallback,
            key: o.key.parts,
            ...written,
            compressor,
            savedAt: new Date().toISOString(),
            buildDir: o.buildDir,
            ...(o.domain !== undefined ? { domain: o.domain } : {}),
            packages: plan.packages,
            files: files.length,
            sourceBytes: bytes,
        };
        await writeAtomic(join(tmp, META), JSON.stringify(meta, null, 1) + '\n');
        try {
            await fs.rename(tmp, o.dir);
        }
        catch (e) {
            const code = e.code;
            if (code === 'ENOTEMPTY' || code === 'EEXIST') {
                await fs.rm(tmp, { recursive: true, force: true });
                return not('raced', `another job saved ${o.dir} first`);
            }
            throw e;
        }
        return { saved: true, meta, ms: ms() };
    }
    catch (e) {
        await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
        return not('failed', `saving the dependency archive of ${o.buildDir} into ${o.dir}: ${e.message}`);
    }
    finally {
        if (writing)
            await release(writing);
    }
}
/** Restores the archive `dir` into `buildDir`, all or nothing. Never throws. */
async function restoreArchive(o) {
    const t0 = performance.now();
    const ms = () => Math.round(performance.now() - t0);
    const not = (reason, detail) => ({
        restored: false,
        reason,
        detail,
        ms: ms(),
    });
    const data = join(o.dir, DATA);
    if (!existsSync(data))
        return not('missing', `no ${DATA} in ${o.dir}`);
    // Shared, never waited for: held exclusively, the archive is being removed (or still written).
    const reading = await hold([data], { shared: true }).catch(() => undefined);
    if (!reading)
        return not('missing', `${o.dir} is being removed or written by another process`);
    try {
        await o.whileHeld?.();
        return await restoreHeld(o, data, not, ms);
    }
    finally {
        await release(reading);
    }
}
/** The restore under the archive's read lock. */
async function restoreHeld(o, data, not, ms) {
    // Removed between the look and the lock: the lock is then on a file in the trash.
    const size = (await fs.stat(data).catch(() => undefined))?.size;
    if (size === undefined)
        return not('missing', `no ${DATA} in ${o.dir}`);
    const meta = readArchiveMeta(o.dir);
    if (!meta)
        return not('unreadable', `${join(o.dir, META)} is missing or not an archive description of format ${ARCHIVE_FORMAT}: the archive cannot be verified`);
    if (size !== meta.bytes)
        return not('truncated', `${data} has ${size} bytes, ${meta.bytes} were saved: refused`);
    const compressor = compressorHere(meta.compressor);
    if (!compressor)
        return not('failed', "neither a 'zstd' on PATH nor a Node with zstd in zlib: cannot read the archive");
    const tmp = join(o.buildDir, `${RESTORE_PREFIX}${randomBytes(4).toString('hex')}`);
    const moved = [];
    try {
        await fs.mkdir(o.buildDir, { recursive: true });
        await fs.mkdir(tmp);
        const got = await unpackTar(data, tmp, compressor, o.timeoutMs, meta);
        // The checksum first: an archive not as it was saved is refused as such, whatever tar made of it.
        const bad = got.read && digestMismatch(meta, got.read, data);
        if (bad)
            return not(bad.reason, `${bad.detail}: refused, nothing restored`);
        if (got.failed || !got.read)
            return not('failed', `${got.failed ?? `reading ${data}: no checksum`}: nothing restored`);
        await removeEscapingLinks(tmp);
        const entries = namesIn(tmp).sort();
        const taken = entries.filter((e) => existsSync(join(o.buildDir, e)));
        if (taken.length > 0)
            return not('not-empty', `${o.buildDir} already holds ${taken.join(', ')}: an archive is restored only into an empty build dir`);
        for (const e of entries) {
            await fs.rename(join(tmp, e), join(o.buildDir, e));
            moved.push(e);
        }
        // When it was last used, for whoever weighs it (store/archive-host.ts); not ours to set: no matter.
        const now = new Date();
        await fs.utimes(o.dir, now, now).catch(() => undefined);
        return { restored: true, meta, entries, ms: ms() };
    }
    catch (e) {
        // Put back what had moved: the build dir holds all of the archive or none of it.
        for (const m of moved.reverse())
            await fs.rename(join(o.buildDir, m), join(tmp, m)).catch(() => undefined);
        return not('failed', `restoring ${o.dir} into ${o.buildDir}: ${e.message}`);
    }
    finally {
        await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    }
}
/** Pure: true for the temp directory a restore leaves behind when it is killed (for the guard). */
const isRestoreLeftover = (name) => name.startsWith(RESTORE_PREFIX);
/**
 * The host facts of an archive's key: architecture, OS release (`/etc/os-release`'s ID and
 * VERSION_ID) and libc (glibc's version from Node's report; `musl or other` without one).
 */
function hostFacts() {
    return (facts ??= readHostFacts());
}
/** Read once per process: Node's report (for glibc's version) is slow to build on some hosts. */
let facts;
function readHostFacts() {
    let os = 'unknown';
    try {
        const rel = readFileSync('/etc/os-release', 'utf8');
        const v = (k) => new RegExp(`^${k}="?([^"\\n]*)"?$`, 'm').exec(rel)?.[1] ?? '';
        os = `${v('ID')} ${v('VERSION_ID')}`.trim() || 'unknown';
    }
    catch {
        // no os-release: keep 'unknown'
    }
    const glibc = process.report?.getReport()?.header?.glibcVersionRuntime;
    return { arch: arch(), os, libc: glibc ? `glibc ${glibc}` : 'musl or other' };
}
/** Pure: the build dir cargo writes intermediate artifacts to, as a job's environment says. */
function buildDirOf(env, targetDir, cwd) {
    const b = env.CARGO_BUILD_BUILD_DIR;
    if (b === undefined || b === '')
        return resolve(cwd, targetDir);
    // Templates ({workspace-root}, {cargo-cache-home}, {workspace-path-hash}) are cargo's to expand.
    if (b.includes('{'))
        return undefined;
    return resolve(cwd, b);
}

;// CONCATENATED MODULE: ./src/store/archive-copy.ts







/** mkdir -p with an exact mode for each directory it creates; says which it created. */
async function makeDirs(dir, mode) {
    const missing = [];
    for (let d = dir;; d = (0,external_node_path_.dirname)(d)) {
        const st = await external_node_fs_.promises.stat(d).catch(() => undefined);
        if (st)
            break;
        missing.unshift(d);
        if ((0,external_node_path_.dirname)(d) === d)
            break;
    }
    const made = [];
    for (const d of missing) {
        const ok = await external_node_fs_.promises.mkdir(d).then(() => true, (e) => {
            if (e.code !== 'EEXIST')
                throw e;
            return false;
        });
        if (!ok)
            continue;
        made.push(d);
        if (mode !== undefined)
            await external_node_fs_.promises.chmod(d, mode).catch(() => undefined);
    }
    return made;
}
/** Removes the directories a copy that failed created, deepest first, as long as they are empty (another copy may be using them). */
const unmake = async (made) => {
    for (const d of [...made].reverse())
        if (!(await external_node_fs_.promises.rmdir(d).then(() => true, () => false)))
            break;
};
/** Copies the archive `from` to `to` (which must not hold one), verified on the way. Never throws. */
async function copyArchive(from, to, o) {
    const t0 = performance.now();
    const ms = () => Math.round(performance.now() - t0);
    const not = (reason, detail, meta) => ({
        copied: false,
        reason,
        detail,
        meta,
        ms: ms(),
    });
    const meta = readArchiveMeta(from);
    if (!meta)
        return not('unreadable', `${(0,external_node_path_.join)(from, META)} is missing or not an archive description this version reads`);
    const there = readArchiveMeta(to);
    if (there)
        return not('exists', `${to} is already there`, there);
    const reading = o.locks?.from ? await flock_hold([(0,external_node_path_.join)(from, DATA)], { shared: true }).catch(() => undefined) : undefined;
    // Held exclusively, the source is being removed; gone once locked, it was removed meanwhile.
    if (o.locks?.from && (!reading || !(0,external_node_fs_.existsSync)((0,external_node_path_.join)(from, DATA)))) {
        if (reading)
            await flock_release(reading);
        return not('failed', `${from} is being removed by another process: not copied`);
    }
    const held = reading ? [reading] : [];
    try {
        return await copyHeld(from, to, meta, o, held, not, ms);
    }
    finally {
        for (const h of held)
            await flock_release(h);
    }
}
/** The copy, under the source's lock when it has one; the temp directory's lock joins `held`. */
async function copyHeld(from, to, meta, o, held, not, ms) {
    const tmp = (0,external_node_path_.join)((0,external_node_path_.dirname)(to), `.${(0,external_node_path_.basename)(to)}.${(0,external_node_crypto_.randomBytes)(4).toString('hex')}.tmp`);
    let made = [];
    try {
        made = await makeDirs((0,external_node_path_.dirname)(to), o.dirMode);
        await external_node_fs_.promises.mkdir(tmp);
        if (o.dirMode !== undefined)
            await external_node_fs_.promises.chmod(tmp, o.dirMode);
        let read;
        const writing = async () => {
            if (!o.locks?.to)
                return;
            const h = await flock_hold([(0,external_node_path_.join)(tmp, DATA)]);
            if (!h)
                throw new Error(`${(0,external_node_path_.join)(tmp, DATA)} is locked by another process`);
            held.push(h);
        };
        if (o.how === 'link') {
            await external_node_fs_.promises.link((0,external_node_path_.join)(from, DATA), (0,external_node_path_.join)(tmp, DATA));
            await writing();
            read = await digestFile((0,external_node_path_.join)(tmp, DATA));
        }
        else {
            const hash = hashing();
            // Made before it is locked, with its mode: flock would make it with the umask's.
            await external_node_fs_.promises.writeFile((0,external_node_path_.join)(tmp, DATA), '', { mode: o.fileMode ?? 0o644 });
            await writing();
            await (0,promises_namespaceObject.pipeline)((0,external_node_fs_.createReadStream)((0,external_node_path_.join)(from, DATA)), hash.t, (0,external_node_fs_.createWriteStream)((0,external_node_path_.join)(tmp, DATA), { mode: o.fileMode ?? 0o644 }));
            read = hash.result();
        }
        const bad = archive_stream_digestMismatch(meta, read, (0,external_node_path_.join)(from, DATA));
        if (bad) {
            await external_node_fs_.promises.rm(tmp, { recursive: true, force: true });
            await unmake(made);
            return not(bad.reason, `${bad.detail}: not copied`);
        }
        if (o.meta)
            await external_node_fs_.promises.writeFile((0,external_node_path_.join)(tmp, META), JSON.stringify(o.meta(meta), null, 1) + '\n');
        else
            await external_node_fs_.promises.copyFile((0,external_node_path_.join)(from, META), (0,external_node_path_.join)(tmp, META));
        if (o.fileMode !== undefined)
            for (const f of [DATA, META])
                if (o.how === 'copy' || f === META)
                    await external_node_fs_.promises.chmod((0,external_node_path_.join)(tmp, f), o.fileMode);
        await o.whileHeld?.(tmp);
        try {
            await external_node_fs_.promises.rename(tmp, to);
        }
        catch (e) {
            const code = e.code;
            if (code === 'ENOTEMPTY' || code === 'EEXIST') {
                await external_node_fs_.promises.rm(tmp, { recursive: true, force: true });
                return not('raced', `another job put ${to} first`, readArchiveMeta(to));
            }
            throw e;
        }
        return { copied: true, meta, bytes: read.bytes, ms: ms() };
    }
    catch (e) {
        await external_node_fs_.promises.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
        await unmake(made);
        const code = e.code;
        return not('failed', `copying ${from} to ${to}${code ? ` (${code})` : ''}: ${e.message}`);
    }
}

;// CONCATENATED MODULE: ./src/store/fleet-dir.ts









/*
 * The fleet tier on a directory every host mounts (NFS, CephFS, any shared filesystem): what the
 * fleet store's worker process does with it (src/fleet-worker-impl.ts), never the job's own
 * process, which a server that stops answering on a hard mount would hold in the kernel for good.
 *
 *   <store>/u<uid>/archives/<repo>/<domain>/<fallback key>/<exact key>/{archive.tar.zst,archive.json}
 *
 * The host tier's layout (model/layout.ts `archiveDir`) under a part of the store per uid: a
 * job's archives are keyed by its CARGO_HOME string, which is the uid's own (`homes/u<uid>`), so
 * no uid restores another's anyway, and each uid's part is written by that uid alone.
 *
 * Put: the archive is copied from the host tier, verified as it is read (archive-copy.ts: temp
 * then rename, the first of two hosts wins whole), under the host tier's read lock. The store's directories get mode 0755 and its
 * files 0644 whatever the umask. A share that maps this uid to another (NFS's root squashing)
 * writes files this uid's jobs would refuse: such a store is read-only to the job, and said so.
 * Fetch: the entry the host tier would choose (findArchive: exact key, else the newest under the
 * fallback key, in the job's own trust domain or its base's), restored only when it is this
 * uid's own and writable by nobody else (model/archive-store.ts `untrustedEntry`), copied into
 * the host tier verified, its temp directory there locked as a save's is; the engine verifies it again as it restores.
 *
 * Kept: the newest KEEP archives under each fallback key (a job's archives, one per Cargo.lock);
 * an older one is renamed to a dot-name (readers skip those) and removed by the put that
 * superseded it. What this does not remove (a closed PR's, an old toolchain's) is the operator's
 * (docs/fleet-stores.md gives a timer).
 */
const KEEP = 2;
/** A temp or removed entry older than this was left by a host that died mid-copy. */
const STALE_MS = 60 * 60 * 1000;
const uidPart = (store, uid) => (0,external_node_path_.join)(store, `u${uid}`);
async function storeThere(store) {
    const st = await external_node_fs_.promises.stat(store).catch((e) => e);
    if (st instanceof Error)
        return fleetStoreNotMounted(store, st.code ?? st.message);
    if (!st.isDirectory())
        return `${store} is not a directory`;
    return undefined;
}
/** lstat of every directory from `from` down to `dir`, and of the archive's two files. */
async function chain(from, dir) {
    const rel = (0,external_node_path_.relative)(from, dir);
    const dirs = [from, ...rel.split(external_node_path_.sep).map((_, i, a) => (0,external_node_path_.join)(from, ...a.slice(0, i + 1)))];
    const out = [];
    for (const p of [...dirs, (0,external_node_path_.join)(dir, DATA), (0,external_node_path_.join)(dir, META)]) {
        const st = await external_node_fs_.promises.lstat(p);
        out.push({ path: p, kind: st.isDirectory() ? 'directory' : st.isFile() ? 'file' : 'other', uid: st.uid, mode: st.mode });
    }
    return out;
}
/** Finds the archive a start may restore in the store and copies it into the host tier. Never throws. */
async function fetchFromDir(q) {
    try {
        const missing = await storeThere(q.store);
        if (missing)
            return { fetched: false, reason: 'unavailable', detail: missing };
        const base = uidPart(q.store, q.uid);
        const found = q.key
            ? findArchive(base, q.repository, q.domains, q.key)
            : q.identity
                ? { ...findArchiveByIdentity(base, q.repository, q.domains, q.identity), how: 'fallback' }
                : { found: false, why: 'no dependency archive asked for' };
        if (!found.found)
            return { fetched: false, reason: 'missing', detail: found.why.replace(/^no dependency archive/, 'no dependency archive in the store') };
        const why = untrustedEntry(await chain(base, found.dir), q.uid);
        if (why)
            return { fetched: false, reason: 'refused', detail: `${why}: another user could have written it; not restored` };
        const into = archiveDir(q.root, q.repository, found.domain, found.meta.fallback, found.meta.exact);
        // Into the host tier under its lock: the guard leaves a copy in progress alone, however long the share takes.
        const c = await copyArchive(found.dir, into, { how: 'copy', locks: { to: true }, whileHeld: q.whileHeld });
        if (c.copied || c.reason === 'exists' || c.reason === 'raced')
            return { fetched: true, dir: into, domain: found.domain, how: found.how, bytes: c.copied ? c.bytes : found.meta.bytes };
        const reason = c.reason === 'altered' || c.reason === 'truncated' || c.reason === 'unreadable' ? 'refused' : 'error';
        return { fetched: false, reason, detail: c.detail };
    }
    catch (e) {
        return { fetched: false, reason: 'error', detail: `reading ${q.store}: ${e.message}` };
    }
}
/** Sends a host-tier archive to the store, unless one of its key is there. Never throws. */
async function putToDir(p) {
    const base = uidPart(p.store, p.uid);
    try {
        const missing = await storeThere(p.store);
        if (missing)
            return { put: false, reason: 'unavailable', detail: missing };
        const made = await external_node_fs_.promises.mkdir(base).then(() => true, (e) => {
            if (e.code !== 'EEXIST')
                throw e;
            return false;
        });
        if (made)
            await external_node_fs_.promises.chmod(base, 0o755); // not narrowed by the umask: a group-writable part would be refused
        const owner = (await external_node_fs_.promises.lstat(base)).uid;
        if (owner !== p.uid)
            return {
                put: false,
                reason: 'read-only',
                detail: fleetStoreMapsUid(base, owner, p.uid),
            };
        const to = archiveDir(base, p.repository, p.domain, p.key.fallback, p.key.exact);
        // Read under the host tier's lock, as a restore reads: the guard leaves the archive being sent.
        const c = await copyArchive(p.from, to, {
            how: 'copy',
            dirMode: 0o755,
            fileMode: 0o644,
            meta: (m) => ({ ...m, key: partsForFleet(m.key) }),
            locks: { from: true },
            whileHeld: p.whileHeld,
        });
        if (!c.copied) {
            if (c.reason === 'exists' || c.reason === 'raced')
                return { put: false, reason: c.reason, detail: c.detail };
            if (c.reason === 'altered' || c.reason === 'truncated' || c.reason === 'unreadable')
                return { put: false, reason: 'refused', detail: c.detail };
            return { put: false, reason: /\((EROFS)\)/.test(c.detail) ? 'read-only' : 'error', detail: c.detail };
        }
        return { put: true, bytes: c.bytes, removed: await prune((0,external_node_path_.dirname)(to)) };
    }
    catch (e) {
        const code = e.code;
        if (code === 'EROFS')
            return { put: false, reason: 'read-only', detail: `${p.store} is mounted read-only here` };
        return { put: false, reason: 'error', detail: `writing to ${base}: ${e.message}` };
    }
}
/** Keeps the newest KEEP archives of one fallback key; removes older ones and stale temp dirs. Returns how many archives went. */
async function prune(fallbackDir) {
    const archives = listArchives(fallbackDir).sort((a, b) => (a.savedAt < b.savedAt ? 1 : a.savedAt > b.savedAt ? -1 : 0));
    let removed = 0;
    for (const old of archives.slice(KEEP)) {
        // A dot-name first: a reader lists no dot-names, so none starts on an archive half removed.
        const gone = (0,external_node_path_.join)(fallbackDir, `.${old.exact}.${(0,external_node_crypto_.randomBytes)(4).toString('hex')}.gone`);
        if (await external_node_fs_.promises.rename(old.dir, gone).then(() => true, () => false)) {
            await external_node_fs_.promises.rm(gone, { recursive: true, force: true }).catch(() => undefined);
            removed++;
        }
    }
    for (const name of await listDir(fallbackDir, { notADirectory: 'absent' })) {
        if (!name.startsWith('.') || !/\.(tmp|gone)$/.test(name))
            continue;
        const st = await external_node_fs_.promises.lstat((0,external_node_path_.join)(fallbackDir, name)).catch(() => undefined);
        if (st && Date.now() - st.mtimeMs > STALE_MS)
            await external_node_fs_.promises.rm((0,external_node_path_.join)(fallbackDir, name), { recursive: true, force: true }).catch(() => undefined);
    }
    return removed;
}

;// CONCATENATED MODULE: ./src/fleet-worker-impl.ts


/*
 * What dist/fleet-worker runs: one call to a fleet store, read from stdin as JSON, answered on
 * the last line of stdout (store/fleet-worker.ts says why a process of its own). What the
 * libraries print on the way (@actions/core's `::warning::` lines and the rest) is kept, not
 * printed: the job's process says it, once, in its own words. The worker ends itself at the time
 * bound its caller gave (argv[2], ms), should the caller be gone and no kill come.
 */
const decode = (v) => v.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
/** Runs the request on stdin; the exit code is 0 whenever a reply was written. */
async function runWorker(boundMs) {
    const bound = Number(boundMs);
    if (bound > 0)
        setTimeout(() => process.exit(124), bound).unref();
    const notes = { warnings: [], errors: [], lines: [] };
    const write = process.stdout.write.bind(process.stdout);
    const keep = (text) => {
        for (const line of text.split(/\r?\n/).filter(Boolean)) {
            const m = /^::(warning|error)[^:]*::(.*)$/.exec(line);
            if (m)
                (m[1] === 'warning' ? notes.warnings : notes.errors).push(decode(m[2]));
            else if (!line.startsWith('::debug::'))
                notes.lines = [...notes.lines.slice(-19), line];
        }
    };
    process.stdout.write = ((chunk) => {
        keep(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
        return true;
    });
    const reply = (body) => write(`${REPLY_MARK}${JSON.stringify({ ...body, notes })}\n`);
    try {
        let input = '';
        for await (const chunk of process.stdin)
            input += chunk;
        const req = JSON.parse(input);
        reply({ result: await serve(req) });
    }
    catch (e) {
        reply({ error: e.message });
    }
    return 0;
}
async function serve(req) {
    switch (req.op) {
        case 'dir-fetch':
            return fetchFromDir(req);
        case 'dir-put':
            return putToDir(req);
        case 'cache-restore': {
            // Imported here only: the directory's calls need none of it.
            const { cacheRestore } = await Promise.all(/* import() */[__nccwpck_require__.e(305), __nccwpck_require__.e(36)]).then(__nccwpck_require__.bind(__nccwpck_require__, 5036));
            return cacheRestore(req);
        }
        case 'cache-save': {
            const { cacheSave } = await Promise.all(/* import() */[__nccwpck_require__.e(305), __nccwpck_require__.e(36)]).then(__nccwpck_require__.bind(__nccwpck_require__, 5036));
            return cacheSave(req);
        }
    }
}


/***/ }),

/***/ 4362:
/***/ ((module, __unused_webpack___webpack_exports__, __nccwpck_require__) => {

__nccwpck_require__.a(module, async (__webpack_handle_async_dependencies__, __webpack_async_result__) => { try {
/* harmony import */ var _fleet_worker_impl_js__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(4477);
// The fleet store's worker (store/fleet-worker.ts starts it for each call), bundled into dist/fleet-worker.

process.exitCode = await (0,_fleet_worker_impl_js__WEBPACK_IMPORTED_MODULE_0__/* .runWorker */ .W)(process.argv[2]);

__webpack_async_result__();
} catch(e) { __webpack_async_result__(e); } }, 1);

/***/ }),

/***/ 2613:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("assert");

/***/ }),

/***/ 181:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("buffer");

/***/ }),

/***/ 5317:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("child_process");

/***/ }),

/***/ 6982:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("crypto");

/***/ }),

/***/ 4434:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("events");

/***/ }),

/***/ 9896:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("fs");

/***/ }),

/***/ 8611:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("http");

/***/ }),

/***/ 5692:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("https");

/***/ }),

/***/ 9278:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("net");

/***/ }),

/***/ 4589:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:assert");

/***/ }),

/***/ 6698:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:async_hooks");

/***/ }),

/***/ 4573:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:buffer");

/***/ }),

/***/ 7540:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:console");

/***/ }),

/***/ 7598:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:crypto");

/***/ }),

/***/ 3053:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:diagnostics_channel");

/***/ }),

/***/ 610:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:dns");

/***/ }),

/***/ 8474:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:events");

/***/ }),

/***/ 3024:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs");

/***/ }),

/***/ 7067:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:http");

/***/ }),

/***/ 2467:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:http2");

/***/ }),

/***/ 4708:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:https");

/***/ }),

/***/ 8995:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:module");

/***/ }),

/***/ 7030:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:net");

/***/ }),

/***/ 8161:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:os");

/***/ }),

/***/ 6760:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:path");

/***/ }),

/***/ 643:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:perf_hooks");

/***/ }),

/***/ 1708:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:process");

/***/ }),

/***/ 1792:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:querystring");

/***/ }),

/***/ 7075:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:stream");

/***/ }),

/***/ 1692:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:tls");

/***/ }),

/***/ 3136:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:url");

/***/ }),

/***/ 7975:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:util");

/***/ }),

/***/ 3429:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:util/types");

/***/ }),

/***/ 5919:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:worker_threads");

/***/ }),

/***/ 8522:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:zlib");

/***/ }),

/***/ 857:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("os");

/***/ }),

/***/ 6928:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("path");

/***/ }),

/***/ 2203:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("stream");

/***/ }),

/***/ 3193:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("string_decoder");

/***/ }),

/***/ 3557:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("timers");

/***/ }),

/***/ 4756:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("tls");

/***/ }),

/***/ 2018:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("tty");

/***/ }),

/***/ 7016:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("url");

/***/ }),

/***/ 9023:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("util");

/***/ })

/******/ });
/************************************************************************/
/******/ // The module cache
/******/ var __webpack_module_cache__ = {};
/******/ 
/******/ // The require function
/******/ function __nccwpck_require__(moduleId) {
/******/ 	// Check if module is in cache
/******/ 	var cachedModule = __webpack_module_cache__[moduleId];
/******/ 	if (cachedModule !== undefined) {
/******/ 		return cachedModule.exports;
/******/ 	}
/******/ 	// Create a new module (and put it into the cache)
/******/ 	var module = __webpack_module_cache__[moduleId] = {
/******/ 		// no module.id needed
/******/ 		// no module.loaded needed
/******/ 		exports: {}
/******/ 	};
/******/ 
/******/ 	// Execute the module function
/******/ 	var threw = true;
/******/ 	try {
/******/ 		__webpack_modules__[moduleId].call(module.exports, module, module.exports, __nccwpck_require__);
/******/ 		threw = false;
/******/ 	} finally {
/******/ 		if(threw) delete __webpack_module_cache__[moduleId];
/******/ 	}
/******/ 
/******/ 	// Return the exports of the module
/******/ 	return module.exports;
/******/ }
/******/ 
/******/ // expose the modules object (__webpack_modules__)
/******/ __nccwpck_require__.m = __webpack_modules__;
/******/ 
/************************************************************************/
/******/ /* webpack/runtime/asset-relocator-loader */
/******/ if (typeof __nccwpck_require__ !== 'undefined') __nccwpck_require__.ab = decodeURIComponent(new URL('.', import.meta.url).pathname).slice(import.meta.url.match(/^file:\/\/\/\w:/) ? 1 : 0, -1) + "/";
/******/ 
/******/ /* webpack/runtime/async module */
/******/ (() => {
/******/ 	var webpackQueues = typeof Symbol === "function" ? Symbol("webpack queues") : "__webpack_queues__";
/******/ 	var webpackExports = typeof Symbol === "function" ? Symbol("webpack exports") : "__webpack_exports__";
/******/ 	var webpackError = typeof Symbol === "function" ? Symbol("webpack error") : "__webpack_error__";
/******/ 	var resolveQueue = (queue) => {
/******/ 		if(queue && queue.d < 1) {
/******/ 			queue.d = 1;
/******/ 			queue.forEach((fn) => (fn.r--));
/******/ 			queue.forEach((fn) => (fn.r-- ? fn.r++ : fn()));
/******/ 		}
/******/ 	}
/******/ 	var wrapDeps = (deps) => (deps.map((dep) => {
/******/ 		if(dep !== null && typeof dep === "object") {
/******/ 			if(dep[webpackQueues]) return dep;
/******/ 			if(dep.then) {
/******/ 				var queue = [];
/******/ 				queue.d = 0;
/******/ 				dep.then((r) => {
/******/ 					obj[webpackExports] = r;
/******/ 					resolveQueue(queue);
/******/ 				}, (e) => {
/******/ 					obj[webpackError] = e;
/******/ 					resolveQueue(queue);
/******/ 				});
/******/ 				var obj = {};
/******/ 				obj[webpackQueues] = (fn) => (fn(queue));
/******/ 				return obj;
/******/ 			}
/******/ 		}
/******/ 		var ret = {};
/******/ 		ret[webpackQueues] = x => {};
/******/ 		ret[webpackExports] = dep;
/******/ 		return ret;
/******/ 	}));
/******/ 	__nccwpck_require__.a = (module, body, hasAwait) => {
/******/ 		var queue;
/******/ 		hasAwait && ((queue = []).d = -1);
/******/ 		var depQueues = new Set();
/******/ 		var exports = module.exports;
/******/ 		var currentDeps;
/******/ 		var outerResolve;
/******/ 		var reject;
/******/ 		var promise = new Promise((resolve, rej) => {
/******/ 			reject = rej;
/******/ 			outerResolve = resolve;
/******/ 		});
/******/ 		promise[webpackExports] = exports;
/******/ 		promise[webpackQueues] = (fn) => (queue && fn(queue), depQueues.forEach(fn), promise["catch"](x => {}));
/******/ 		module.exports = promise;
/******/ 		body((deps) => {
/******/ 			currentDeps = wrapDeps(deps);
/******/ 			var fn;
/******/ 			var getResult = () => (currentDeps.map((d) => {
/******/ 				if(d[webpackError]) throw d[webpackError];
/******/ 				return d[webpackExports];
/******/ 			}))
/******/ 			var promise = new Promise((resolve) => {
/******/ 				fn = () => (resolve(getResult));
/******/ 				fn.r = 0;
/******/ 				var fnQueue = (q) => (q !== queue && !depQueues.has(q) && (depQueues.add(q), q && !q.d && (fn.r++, q.push(fn))));
/******/ 				currentDeps.map((dep) => (dep[webpackQueues](fnQueue)));
/******/ 			});
/******/ 			return fn.r ? promise : getResult();
/******/ 		}, (err) => ((err ? reject(promise[webpackError] = err) : outerResolve(exports)), resolveQueue(queue)));
/******/ 		queue && queue.d < 0 && (queue.d = 0);
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/create fake namespace object */
/******/ (() => {
/******/ 	var getProto = Object.getPrototypeOf ? (obj) => (Object.getPrototypeOf(obj)) : (obj) => (obj.__proto__);
/******/ 	var leafPrototypes;
/******/ 	// create a fake namespace object
/******/ 	// mode & 1: value is a module id, require it
/******/ 	// mode & 2: merge all properties of value into the ns
/******/ 	// mode & 4: return value when already ns object
/******/ 	// mode & 16: return value when it's Promise-like
/******/ 	// mode & 8|1: behave like require
/******/ 	__nccwpck_require__.t = function(value, mode) {
/******/ 		if(mode & 1) value = this(value);
/******/ 		if(mode & 8) return value;
/******/ 		if(typeof value === 'object' && value) {
/******/ 			if((mode & 4) && value.__esModule) return value;
/******/ 			if((mode & 16) && typeof value.then === 'function') return value;
/******/ 		}
/******/ 		var ns = Object.create(null);
/******/ 		__nccwpck_require__.r(ns);
/******/ 		var def = {};
/******/ 		leafPrototypes = leafPrototypes || [null, getProto({}), getProto([]), getProto(getProto)];
/******/ 		for(var current = mode & 2 && value; typeof current == 'object' && !~leafPrototypes.indexOf(current); current = getProto(current)) {
/******/ 			Object.getOwnPropertyNames(current).forEach((key) => (def[key] = () => (value[key])));
/******/ 		}
/******/ 		def['default'] = () => (value);
/******/ 		__nccwpck_require__.d(ns, def);
/******/ 		return ns;
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/define property getters */
/******/ (() => {
/******/ 	// define getter functions for harmony exports
/******/ 	__nccwpck_require__.d = (exports, definition) => {
/******/ 		for(var key in definition) {
/******/ 			if(__nccwpck_require__.o(definition, key) && !__nccwpck_require__.o(exports, key)) {
/******/ 				Object.defineProperty(exports, key, { enumerable: true, get: definition[key] });
/******/ 			}
/******/ 		}
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/ensure chunk */
/******/ (() => {
/******/ 	__nccwpck_require__.f = {};
/******/ 	// This file contains only the entry chunk.
/******/ 	// The chunk loading function for additional chunks
/******/ 	__nccwpck_require__.e = (chunkId) => {
/******/ 		return Promise.all(Object.keys(__nccwpck_require__.f).reduce((promises, key) => {
/******/ 			__nccwpck_require__.f[key](chunkId, promises);
/******/ 			return promises;
/******/ 		}, []));
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/get javascript chunk filename */
/******/ (() => {
/******/ 	// This function allow to reference async chunks
/******/ 	__nccwpck_require__.u = (chunkId) => {
/******/ 		// return url for filenames based on template
/******/ 		return "" + chunkId + ".index.js";
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/hasOwnProperty shorthand */
/******/ (() => {
/******/ 	__nccwpck_require__.o = (obj, prop) => (Object.prototype.hasOwnProperty.call(obj, prop))
/******/ })();
/******/ 
/******/ /* webpack/runtime/make namespace object */
/******/ (() => {
/******/ 	// define __esModule on exports
/******/ 	__nccwpck_require__.r = (exports) => {
/******/ 		if(typeof Symbol !== 'undefined' && Symbol.toStringTag) {
/******/ 			Object.defineProperty(exports, Symbol.toStringTag, { value: 'Module' });
/******/ 		}
/******/ 		Object.defineProperty(exports, '__esModule', { value: true });
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/import chunk loading */
/******/ (() => {
/******/ 	// no baseURI
/******/ 	
/******/ 	// object to store loaded and loading chunks
/******/ 	// undefined = chunk not loaded, null = chunk preloaded/prefetched
/******/ 	// [resolve, Promise] = chunk loading, 0 = chunk loaded
/******/ 	var installedChunks = {
/******/ 		792: 0
/******/ 	};
/******/ 	
/******/ 	var installChunk = (data) => {
/******/ 		var {ids, modules, runtime} = data;
/******/ 		// add "modules" to the modules object,
/******/ 		// then flag all "ids" as loaded and fire callback
/******/ 		var moduleId, chunkId, i = 0;
/******/ 		for(moduleId in modules) {
/******/ 			if(__nccwpck_require__.o(modules, moduleId)) {
/******/ 				__nccwpck_require__.m[moduleId] = modules[moduleId];
/******/ 			}
/******/ 		}
/******/ 		if(runtime) runtime(__nccwpck_require__);
/******/ 		for(;i < ids.length; i++) {
/******/ 			chunkId = ids[i];
/******/ 			if(__nccwpck_require__.o(installedChunks, chunkId) && installedChunks[chunkId]) {
/******/ 				installedChunks[chunkId][0]();
/******/ 			}
/******/ 			installedChunks[ids[i]] = 0;
/******/ 		}
/******/ 	
/******/ 	}
/******/ 	
/******/ 	__nccwpck_require__.f.j = (chunkId, promises) => {
/******/ 			// import() chunk loading for javascript
/******/ 			var installedChunkData = __nccwpck_require__.o(installedChunks, chunkId) ? installedChunks[chunkId] : undefined;
/******/ 			if(installedChunkData !== 0) { // 0 means "already installed".
/******/ 	
/******/ 				// a Promise means "currently loading".
/******/ 				if(installedChunkData) {
/******/ 					promises.push(installedChunkData[1]);
/******/ 				} else {
/******/ 					if(true) { // all chunks have JS
/******/ 						// setup Promise in chunk cache
/******/ 						var promise = import("./" + __nccwpck_require__.u(chunkId)).then(installChunk, (e) => {
/******/ 							if(installedChunks[chunkId] !== 0) installedChunks[chunkId] = undefined;
/******/ 							throw e;
/******/ 						});
/******/ 						var promise = Promise.race([promise, new Promise((resolve) => (installedChunkData = installedChunks[chunkId] = [resolve]))])
/******/ 						promises.push(installedChunkData[1] = promise);
/******/ 					}
/******/ 				}
/******/ 			}
/******/ 	};
/******/ 	
/******/ 	// no prefetching
/******/ 	
/******/ 	// no preloaded
/******/ 	
/******/ 	// no external install chunk
/******/ 	
/******/ 	// no on chunks loaded
/******/ })();
/******/ 
/************************************************************************/
/******/ 
/******/ // startup
/******/ // Load entry module and return exports
/******/ // This entry module used 'module' so it can't be inlined
/******/ var __webpack_exports__ = __nccwpck_require__(4362);
/******/ __webpack_exports__ = await __webpack_exports__;
/******/ 
