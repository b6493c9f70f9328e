import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
/******/ var __webpack_modules__ = ({

/***/ 3006:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {


// EXPORTS
__nccwpck_require__.d(__webpack_exports__, {
  e: () => (/* binding */ post_impl_run)
});

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __nccwpck_require__(7598);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __nccwpck_require__(3024);
// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __nccwpck_require__(8161);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __nccwpck_require__(6760);
;// CONCATENATED MODULE: ./src/os/runner-io.ts




/*
 * What a step of a job reads from the runner and writes to it (the runner's hooks too): its
 * inputs and saved state from the environment (`INPUT_<NAME>`, `STATE_<name>`); outputs,
 * exports, PATH entries and state appended to the runner's files (GITHUB_OUTPUT, GITHUB_ENV,
 * GITHUB_PATH, GITHUB_STATE) as `NAME<<DELIMITER` blocks; log lines and workflow commands on
 * stdout (`::warning::`, `::group::`); the job summary appended to GITHUB_STEP_SUMMARY. As GitHub
 * documents them ("Workflow commands for GitHub Actions"), which the runner and Forgejo's read.
 *
 * Why not @actions/core: importing it loads its OIDC client's HTTP stack (undici, https, zlib),
 * about 1 MB of bundled code that every step loaded at start-up for a token this action never asks
 * for (`npm run bench`, section 1t, shows each step's start-up). @actions/cache still brings its
 * own, and only where `cache: true` imports it.
 */
/**
 * A line for the log, written to file descriptor 1 as it is: the first use of `process.stdout`
 * builds a stream over it (for a pipe, a socket and the net module), a cost at every step's start
 * for what a write does alike. A pipe left non-blocking by whoever started us may say EAGAIN: the
 * rest is written again. A log that cannot be written (its reader gone) cannot be told so: dropped.
 */
function out(text) {
    const buf = Buffer.from(text, 'utf8');
    for (let at = 0; at < buf.length;) {
        try {
            at += (0,external_node_fs_.writeSync)(1, buf, at);
        }
        catch (e) {
            if (e.code !== 'EAGAIN')
                return;
        }
    }
}
/** An input as the runner passes it: `INPUT_<NAME>`, spaces as `_`, upper-cased; trimmed, '' when unset. */
function getInput(name) {
    return (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
}
/** What the main step saved (saveState), as the runner hands it to the post step. */
const getState = (name) => process.env[`STATE_${name}`] ?? '';
/** A workflow command's data: `%`, CR and LF escaped, so one command stays one line. */
const escapeData = (s) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
/** A workflow command's property value: as its data, and `:` and `,`, which end a property. */
const escapeProperty = (s) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
/** A workflow command on stdout, e.g. `::warning::text`. */
function command(name, message) {
    out(`::${name}::${escapeData(message)}${external_node_os_.EOL}`);
}
/**
 * `NAME=value` appended to one of the runner's files as a heredoc block, whose delimiter appears
 * in neither (the runner would otherwise read a forged second name out of a value). Without the
 * file (a runner older than the file commands) the old stdout command.
 */
function fileCommand(variable, name, value, old) {
    const file = process.env[variable];
    if (!file)
        return command(`${old} name=${escapeProperty(name)}`, value);
    const end = `ghadelimiter_${randomUUID()}`;
    if (name.includes(end) || value.includes(end))
        throw new Error(`${name}: its name or value holds the delimiter ${end}`);
    appendFileSync(file, `${name}<<${end}${EOL}${value}${EOL}${end}${EOL}`, 'utf8');
}
const setOutput = (name, value) => fileCommand('GITHUB_OUTPUT', name, value, 'set-output');
const saveState = (name, value) => fileCommand('GITHUB_STATE', name, value, 'save-state');
/** A variable for every later step of the job (and this process). */
function exportVariable(name, value) {
    process.env[name] = value;
    fileCommand('GITHUB_ENV', name, value, 'set-env');
}
/** A directory in front of PATH for every later step of the job (and this process). */
function addPath(dir) {
    const file = process.env.GITHUB_PATH;
    if (file)
        appendFileSync(file, `${dir}${EOL}`, 'utf8');
    else
        command('add-path', dir);
    process.env.PATH = `${dir}${delimiter}${process.env.PATH ?? ''}`;
}
const info = (message) => out(`${message}${external_node_os_.EOL}`);
const debug = (message) => command('debug', message);
const notice = (message) => command('notice', message);
const warning = (message) => command('warning', message);
const error = (message) => command('error', message);
/** The step fails (exit code 1) with this message as an error annotation. */
function setFailed(message) {
    process.exitCode = 1;
    error(message);
}
/** A folded group in the log around `fn`, closed however `fn` ends. */
async function group(name, fn) {
    out(`::group::${escapeData(name)}${external_node_os_.EOL}`);
    try {
        return await fn();
    }
    finally {
        out(`::endgroup::${external_node_os_.EOL}`);
    }
}
/** Appends to the job summary (Markdown with HTML); nothing without GITHUB_STEP_SUMMARY. */
async function appendSummary(text, env = process.env) {
    const file = env.GITHUB_STEP_SUMMARY;
    if (file)
        await external_node_fs_.promises.appendFile(file, text, 'utf8');
}

;// CONCATENATED MODULE: ./src/model/key.ts

/*
 * Names made safe: any string (a branch, a repository, a job name) as a bounded, injective path
 * component, and a job's trust domain, `pr-<n>`, `ref-<branch>` or `tag-<tag>`, the key that says
 * whose content a slot may hand on to whom.
 */
function sha256Hex(text) {
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
    const hash = sha256Hex(raw).slice(0, 16);
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
const layout_rootPaths = (root) => ({
    marker: (0,external_node_path_.join)(root, MARKER),
    locks: (0,external_node_path_.join)(root, 'locks'),
    slots: (0,external_node_path_.join)(root, 'slots'),
    jobs: (0,external_node_path_.join)(root, 'jobs'),
    trash: (0,external_node_path_.join)(root, 'trash'),
    crates: (0,external_node_path_.join)(root, 'crates'),
    homes: (0,external_node_path_.join)(root, 'homes'),
    warmth: (0,external_node_path_.join)(root, 'warmth.jsonl'),
    events: (0,external_node_path_.join)(root, 'events.jsonl'),
    metrics: (0,external_node_path_.join)(root, 'metrics.json'),
    metricsLock: (0,external_node_path_.join)(root, 'locks', 'metrics.lock'),
    guardLock: (0,external_node_path_.join)(root, 'locks', 'guard.lock'),
    git: (0,external_node_path_.join)(root, 'git'),
    sccache: (0,external_node_path_.join)(root, 'sccache'),
    archives: (0,external_node_path_.join)(root, 'archives'),
});
/** The host-wide crate store (store/crates.ts): .crate files by sha256, cargo's index dir names, index entries. */
const layout_storePaths = (root) => ({
    base: (0,external_node_path_.join)(root, 'crates'),
    blobs: (0,external_node_path_.join)(root, 'crates', 'sha256'),
    dirs: (0,external_node_path_.join)(root, 'crates', 'dirs'),
    index: (0,external_node_path_.join)(root, 'crates', 'index'),
});
/** The host-wide git dependency store (store/gitstore.ts): bare databases by URL, cargo's db dir names. */
const layout_gitStorePaths = (root) => ({
    base: (0,external_node_path_.join)(root, 'git'),
    db: (0,external_node_path_.join)(root, 'git', 'db'),
    dirs: (0,external_node_path_.join)(root, 'git', 'dirs'),
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
function layout_archiveDir(root, repository, domain, fallback, exact) {
    const base = (0,external_node_path_.join)(root, 'archives', key_safeComponent(repository.replace('/', '__')), domainDirName(domain), key_safeComponent(fallback));
    return exact === undefined ? base : (0,external_node_path_.join)(base, key_safeComponent(exact));
}
/**
 * Where an archive on its way between the Actions cache service and the host tier is staged
 * (store/fleet-store.ts): on the host tier's filesystem, so it is linked in rather than copied,
 * under a dot-name no reader lists. A killed job leaves it behind; the guard removes it an hour on
 * (store/archive-host.ts deadStaging).
 */
const fleetStaging = (root, nonce) => (0,external_node_path_.join)(root, 'archives', `.fleet-${nonce}.tmp`);
function dirsIn(base, record, lock) {
    return { base, target: (0,external_node_path_.join)(base, 'target'), cargoHome: (0,external_node_path_.join)(base, 'cargo-home'), install: (0,external_node_path_.join)(base, 'install'), tmp: (0,external_node_path_.join)(base, 'tmp'), record, lock };
}
function layout_slotDirs(root, name) {
    const base = (0,external_node_path_.join)(root, 'slots', name);
    return dirsIn(base, (0,external_node_path_.join)(base, 'slot.json'), (0,external_node_path_.join)(root, 'locks', `slot-${name}.lock`));
}
function layout_jobDirs(root, id) {
    const base = join(root, 'jobs', safeComponent(id.repository.replace('/', '__')), id.key, `run-${id.jobUid}`);
    return dirsIn(base, join(base, 'job.json'), join(base, '.lease'));
}
/** The CARGO_HOME every trusted job of `uid` shares under this root (cargo-home.ts says why). */
const sharedHome = (root, uid) => (0,external_node_path_.join)(root, 'homes', `u${uid}`);
/** Beside that home, not in it: the record of its verified sources (store/home-sources.ts). */
const verifiedName = (uid) => `u${uid}-verified`;
const sourcesRecord = (root, uid) => join(root, 'homes', verifiedName(uid), 'sources.json');
const layout_SLOT_NAME = /^s\d{3,}$/;
const layout_slotName = (index) => `s${String(index).padStart(3, '0')}`;

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
class Failure extends Error {
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
        return new Failure(`${doing}: ${errnoText(e, o.fixes?.[e.code])}`, 'environment', { cause: e });
    if (e instanceof Failure)
        return new Failure(`${doing}: ${e.message}`, e.kind, { cause: e });
    return new Failure(`${doing}: ${e instanceof Error ? e.message : String(e)}`, 'unexpected', { cause: e });
}
/**
 * Pure: any thrown value as a front end reports it, after the front end's own words (`cargo-isolate:`,
 * `cargo-isolate job-started hook:`). `more` says how to see more of an unexpected failure in
 * this front end (`run it again with --verbose`).
 */
function explain(e, o) {
    const stack = stackOf(e);
    // A Failure's message is written whole by the code that throws it (a value with a newline in it included).
    if (e instanceof Failure)
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

;// CONCATENATED MODULE: ./src/model/units.ts
// Parsing and printing of the sizes, percentages and durations that inputs and the CLI accept.
// Pure: every function here is tested with tables in __tests__/decisions.test.ts ("units").
// A bare K, M, G or T is refused: `df -h`, `du -h` and sccache read `85G` as 85 GiB, Kubernetes as
// 85x10^9 bytes; a floor 7% off is a guard that runs when it should not, or not when it should.
const SIZE_UNITS = {
    b: 1,
    kb: 1e3,
    mb: 1e6,
    gb: 1e9,
    tb: 1e12,
    kib: 2 ** 10,
    mib: 2 ** 20,
    gib: 2 ** 30,
    tib: 2 ** 40,
};
/**
 * A number without its unit (`85`): `disk-threshold: 85` once meant 85 bytes free, a guard that
 * never ran. Sizes, levels and durations other than 0 must say their unit.
 */
const isBareNumber = (text) => /^\s*\d+(?:\.\d+)?\s*$/.test(text) && parseFloat(text) !== 0;
/** Pure: what a bare number probably meant, for the message that refuses it: `did you mean 85% or 85GiB?` */
function bareNumberHint(text, kind) {
    const n = text.trim();
    const forms = kind === 'level'
        ? parseFloat(n) < 100
            ? [`${n}%`, `${n}GiB`]
            : [`${n}GiB`]
        : kind === 'size'
            ? [`${n}GiB`, `${n}MiB`]
            : [`${n}s`, `${n}m`, `${n}h`, `${n}d`];
    return `did you mean ${forms.length > 1 ? `${forms.slice(0, -1).join(', ')} or ` : ''}${forms[forms.length - 1]}?`;
}
/**
 * Pure: what a size with a one-letter unit meant, for the message that refuses it:
 * `'85G': did you mean 85GiB (85x2^30 bytes, as df -h counts) or 85GB (85x10^9 bytes)?`
 */
function ambiguousUnitHint(text) {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt])\s*$/i.exec(text);
    if (!m)
        return undefined;
    const u = m[2].toUpperCase();
    const power = 'KMGT'.indexOf(u) + 1;
    return `did you mean ${m[1]}${u}iB (${m[1]}x2^${10 * power} bytes, as df -h counts) or ${m[1]}${u}B (${m[1]}x10^${3 * power} bytes)?`;
}
/** Pure: the hint for a value that is not a size, level or duration: a bare number, or a unit of one letter. */
function units_unitHint(text, kind) {
    if (isBareNumber(text))
        return bareNumberHint(text, kind);
    return kind === 'duration' ? undefined : ambiguousUnitHint(text);
}
/** `20GiB`, `512MB`, `1.5gb`, `100b` → bytes; undefined when the text is not a size (a bare number, `20G`, are not). */
function units_parseSize(text) {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
    if (!m || (m[2] === '' && parseFloat(m[1]) !== 0))
        return undefined;
    const unit = (m[2] || 'b').toLowerCase();
    const mult = SIZE_UNITS[unit];
    if (mult === undefined)
        return undefined;
    return Math.round(parseFloat(m[1]) * mult);
}
const DURATION_UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** `30s`, `2m`, `1h`, `7d`, `0` → milliseconds; undefined when not a duration (a bare number but 0 is not). */
function units_parseDuration(text) {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
    if (!m || (m[2] === undefined && parseFloat(m[1]) !== 0))
        return undefined;
    return Math.round(parseFloat(m[1]) * DURATION_UNITS[m[2] ?? 's']);
}
/** `85%` (used share of the filesystem) or `20GiB` (free-space floor). */
function units_parseLevel(text) {
    const p = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
    if (p) {
        const percent = parseFloat(p[1]);
        return percent > 0 && percent < 100 ? { kind: 'percent', percent } : undefined;
    }
    const bytes = units_parseSize(text);
    return bytes !== undefined && bytes > 0 ? { kind: 'free', bytes } : undefined;
}
function units_formatLevel(level) {
    return level.kind === 'percent' ? `${level.percent}%` : `${units_formatBytes(level.bytes)} free`;
}
function units_formatBytes(bytes) {
    const abs = Math.abs(bytes);
    if (abs < 1024)
        return `${bytes} B`;
    const units = ['KiB', 'MiB', 'GiB', 'TiB'];
    let v = abs / 1024;
    let i = 0;
    while (v >= 1024 && i < units.length - 1) {
        v /= 1024;
        i++;
    }
    return `${bytes < 0 ? '-' : ''}${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}
function units_formatDuration(ms) {
    if (ms < 1000)
        return `${Math.round(ms)} ms`;
    const s = ms / 1000;
    if (s < 120)
        return `${s.toFixed(1)} s`;
    const m = s / 60;
    if (m < 120)
        return `${m.toFixed(0)} min`;
    const h = m / 60;
    if (h < 48)
        return `${h.toFixed(1)} h`;
    return `${(h / 24).toFixed(1)} d`;
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
const PATTERNS = [
    /^CARGO_PROFILE_/,
    /^CARGO_UNSTABLE_/,
    /^CARGO_HOST_(RUSTFLAGS|LINKER)$/,
    /^CARGO_TARGET_[A-Z0-9_]+_(RUSTFLAGS|LINKER|AR)$/,
    /^(HOST|TARGET)_(CC|CXX|AR|RANLIB|CFLAGS|CXXFLAGS|CPPFLAGS|LDFLAGS)$/,
    /^(CC|CXX|AR|RANLIB|CFLAGS|CXXFLAGS|CPPFLAGS|LDFLAGS)_[A-Za-z0-9_]+$/,
    /^PKG_CONFIG/,
    /^CMAKE_/,
];
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
const redactedValue = (v) => `sha256:${sha256Hex(v).slice(0, 16)}`;
/**
 * Pure: the parts that differ between an archive's key and the wanted one, by name (`rustc`,
 * `env.RUSTFLAGS`, `lock`): what a job's summary says when no archive matched. A value an archive
 * keeps as a digest (one that came through a fleet store) is the same as the value it digests.
 */
function archive_key_keyDifferences(saved, wanted) {
    const names = new Set([...Object.keys(saved), ...Object.keys(wanted)]);
    const same = (s, w) => s === w || (s !== undefined && w !== undefined && s === redactedValue(w));
    return [...names].filter((n) => !same(saved[n], wanted[n])).sort();
}
/**
 * Pure: which archive a start restores. Its exact key if there is one; else the newest of the
 * same fallback key (the most recent lock is the nearest to the next one); none when the start
 * has no fallback candidates. `how` says which.
 */
function archive_key_chooseArchive(candidates, want) {
    const exact = want.exact === undefined ? undefined : candidates.find((c) => c.exact === want.exact);
    if (exact)
        return { pick: exact, how: 'exact' };
    const newest = [...candidates].sort((a, b) => (a.savedAt < b.savedAt ? 1 : a.savedAt > b.savedAt ? -1 : a.exact < b.exact ? -1 : 1))[0];
    return newest ? { pick: newest, how: 'fallback' } : undefined;
}
/** The parts of a key a start knows before its checkout and toolchain step (the runner's hook). */
const IDENTITY_PARTS = (/* unused pure expression or super */ null && (['format', 'repository', 'workflow', 'job', 'key', 'arch', 'cargoHome']));
/**
 * Pure: which archive a start restores when its key cannot be known yet (the runner's job-started
 * hook runs before checkout and before a toolchain step: no Cargo.lock, perhaps another rustc):
 * the newest archive of the job itself, the same repository, workflow, job and `key`, made for the
 * same CARGO_HOME string on this architecture, in the first of `domains` (its own trust domain,
 * then its base's) that has one. Cargo checks every unit it restores, so an archive of an older
 * lock or toolchain costs its restore and the units cargo rebuilds, never a wrong build.
 */
function archive_key_chooseByIdentity(candidates, want, domains) {
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
const archive_store_ARCHIVE_STORE_FORM = (/* unused pure expression or super */ null && (`'${ACTIONS_CACHE}', or the absolute path of a directory every host mounts (e.g. /mnt/ci-archives), or empty for none`));
/**
 * Pure: the store a setting names, or why it names none: a hint for the refusal (the words of
 * settings.ts's InputError). Paths are normalised (`/mnt/x/` is `/mnt/x`); `/` itself is refused,
 * as a relative path is (where it leads would depend on each job's directory).
 */
function archive_store_parseArchiveStore(text) {
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
const CACHE_PREFIX = `cargo-isolate-deps/v${archive_key_ARCHIVE_FORMAT}`;
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

;// CONCATENATED MODULE: ./src/model/settings.ts





/** Pure: the cap in bytes on a filesystem of `totalBytes` (0 when off). */
const archiveCapBytes = (c, totalBytes) => c.kind === 'off' ? 0 : c.kind === 'size' ? c.bytes : Math.floor((totalBytes * c.percent) / 100);
/** Pure: the cap as a person reads it: `10% of the disk`, `20.0 GiB`, `off`. */
const formatArchiveCap = (c) => (c.kind === 'off' ? 'off' : c.kind === 'size' ? units_formatBytes(c.bytes) : `${c.percent}% of the disk`);
/** Pure: the subject of a message: `Input 'disk-threshold'`, `Variable CARGO_ISOLATE_DISK_THRESHOLD`, `Option '--disk-threshold'`. */
function subjectOf(o) {
    if (o.kind === 'variable')
        return `Variable ${o.name}${o.file ? ` (in ${o.file})` : ''}`;
    if (o.kind === 'flag')
        return `Option '${o.name}'`;
    if (o.kind === 'default')
        return `The default ${o.name}`;
    return `Input '${o.name}'`;
}
/** Pure: how a message refers to another setting: `'disk-threshold'`, `CARGO_ISOLATE_DISK_THRESHOLD`, `--disk-threshold`. */
const refOf = (o) => (o.kind === 'input' ? `'${o.name}'` : o.kind === 'default' ? `the default ${o.name}` : o.name);
class InputError extends Failure {
    /** A setting's refusal (`Input 'x' is 'v': hint. Expected form.`), or `{ message }` for one that is not about a single value. */
    constructor(origin, value = '', expected = '', hint) {
        if (typeof origin === 'object' && 'message' in origin)
            super(origin.message, 'input');
        else {
            const o = typeof origin === 'string' ? { kind: 'input', name: origin } : origin;
            super(`${subjectOf(o)} is '${value}'${hint ? `: ${hint} ` : '. '}Expected ${expected}.`, 'input');
        }
        this.name = 'InputError';
    }
}
/** Inputs an operator may set for every job of a runner or host; the rest are per job (key, paths) or need a token (cache). */
const RUNNER_INPUTS = (/* unused pure expression or super */ null && ([
    'root',
    'layout',
    'reuse',
    'lease-wait',
    'max-lease',
    'disk-threshold',
    'disk-target',
    'disk-hard-threshold',
    'prune-scope',
    'runner-name',
    'dry-run',
    'fail-below',
    'cleanup-timeout',
    'publish-crates',
    'archive-store',
    'host-archives',
    'writable-sources',
]));
/** Pure: the runner variable for an input. runner-name keeps the name identity.ts already reads. */
function variableOf(input) {
    return input === 'runner-name' ? 'CARGO_ISOLATE_RUNNER' : `CARGO_ISOLATE_${input.toUpperCase().replace(/-/g, '_')}`;
}
/** The runner's `CARGO_ISOLATE_*` variables as settings (runner hooks, the CLI), from an environment or a .env file. */
function fromVariables(env, file) {
    const allowed = RUNNER_INPUTS;
    return {
        get: (n) => (allowed.includes(n) ? (env[variableOf(n)] ?? '') : ''),
        origin: (n) => ({ kind: 'variable', name: variableOf(n), file }),
    };
}
/** The first source that sets an input wins (the CLI: flag, then variable); none: the default. */
function firstOf(...sources) {
    const pick = (n) => sources.find((src) => src.get(n).trim() !== '');
    return { get: (n) => pick(n)?.get(n) ?? '', origin: (n) => pick(n)?.origin(n) ?? { kind: 'default', name: n } };
}
/** Pure: a .env file's lines as the runner splits them (.NET's ReadAllLines: CRLF, LF or CR; a BOM dropped). */
const envLines = (text) => text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
/**
 * Pure: the runner's .env file as the runner reads it (actions/runner, Runner.Listener's
 * LoadAndSetEnv): one NAME=value per line, split at the first '=', the value verbatim; no
 * comments, quotes or trimming. A line without '=' (or starting with it) sets nothing.
 * model/variables.ts says what in such a file is not what its writer meant.
 */
function parseEnvFile(text) {
    const out = {};
    for (const line of envLines(text)) {
        const at = line.indexOf('=');
        if (at > 0)
            out[line.slice(0, at)] = line.slice(at + 1);
    }
    return out;
}
const LEVEL_FORM = 'a percentage below 100% (e.g. 85%) or a free-space floor (e.g. 20GiB)';
/**
 * The default of every input that has one, in one place and in the form action.yml states it
 * (__tests__/decisions.test.ts checks that the two agree): readSettings reads an unset input as
 * its default, and whatever else needs one (the hooks, the fleet simulator) reads it here.
 */
const DEFAULTS = {
    layout: 'slot',
    reuse: 'same-key',
    'lease-wait': '60s',
    'max-lease': '24h',
    'disk-threshold': '85%',
    'prune-scope': 'runner',
    'dry-run': 'false',
    'publish-crates': 'trusted',
    cache: 'false',
    'cleanup-timeout': '120s',
    'host-archives': '10%',
};
const defaultOf = (name) => DEFAULTS[name] ?? '';
/** The default cleanup-timeout in ms: the limit of a removal or hand-back whose caller names none. */
const DEFAULT_CLEANUP_TIMEOUT_MS = units_parseDuration(DEFAULTS['cleanup-timeout']);
/**
 * Where pruning stops when the user names only a threshold: just under the threshold itself.
 * The target is also the level under which a job makes a new slot rather than wipe a warm
 * build (choose.ts), so it is how much of the disk the pool keeps builds on. Measured on the
 * fleet simulation (docs/simulation.md, "The guard's levels"): every point of target under the
 * threshold leaves a point of the disk unused and loses warm starts (10 points under it lost 3
 * to 7 points of the clairvoyant reference's warm starts where the disk is scarce, and even 3
 * points under it lost to plain LRU where everything just fits), while the guard removes the
 * same bytes a day whatever the target: only more often, about one build per run instead of two.
 */
function defaultTarget(threshold) {
    return threshold;
}
function targetIsBelow(threshold, target) {
    if (threshold.kind === 'percent' && target.kind === 'percent')
        return target.percent <= threshold.percent;
    if (threshold.kind === 'free' && target.kind === 'free')
        return target.bytes >= threshold.bytes;
    return false; // mixed forms: refused before this is asked
}
const KIND_TEXT = { percent: 'a percentage', free: 'a free-space floor' };
/**
 * Pure, once the disk is measured: a level or floor the user set that no disk of this size can
 * meet (a free-space floor at or above the filesystem's whole size: every job would prune
 * everything idle, or fail), as the refusal to give; undefined when every one can be met.
 */
function beyondDisk(s, totalBytes, where) {
    const checks = [
        ['disk-threshold', s.diskThreshold.kind === 'free' ? s.diskThreshold.bytes : undefined, 'every job would find the disk over it and prune everything idle'],
        ['disk-target', s.diskTarget.kind === 'free' ? s.diskTarget.bytes : undefined, 'every guard run would prune everything idle'],
        ['fail-below', s.failBelowBytes, 'every job would fail'],
    ];
    for (const [name, bytes, cost] of checks) {
        const set = s.setLevels?.[name];
        if (bytes === undefined || bytes < totalBytes || !set)
            continue;
        return new InputError(set.origin, set.text, `a size under ${formatBytes(totalBytes)}${name === 'fail-below' ? ' (e.g. 5GiB)' : ', e.g. 20GiB, or a percentage such as 85%'}`, `the filesystem of ${where} holds ${formatBytes(totalBytes)} in all, so ${cost}.`);
    }
    return undefined;
}
/** Pure: `10%`, `20GiB`, `off` (or `0`) as a cap; undefined when it is none of them. */
function archiveCap(text) {
    const t = text.trim();
    if (t === 'off' || t === '0' || t === '0%')
        return { kind: 'off' };
    const p = /^(\d+(?:\.\d+)?)\s*%$/.exec(t);
    if (p) {
        const percent = parseFloat(p[1]);
        return percent > 0 && percent < 100 ? { kind: 'share', percent } : undefined;
    }
    const bytes = units_parseSize(t);
    return bytes !== undefined && bytes > 0 ? { kind: 'size', bytes } : undefined;
}
/** The host tier's cap when nothing sets `host-archives` (DEFAULTS). */
const DEFAULT_ARCHIVE_CAP = archiveCap(DEFAULTS['host-archives']);
function defaultRoot(env) {
    if (env.CARGO_ISOLATE_ROOT)
        return env.CARGO_ISOLATE_ROOT;
    // Outside RUNNER_TEMP (emptied every job) and outside the workspace (cleaned by checkout).
    const cache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
    return join(cache, 'cargo-isolate');
}
/** Pure: where the root came from when nothing set it: CARGO_ISOLATE_ROOT, else the default path. */
const defaultRootOrigin = (env) => env.CARGO_ISOLATE_ROOT ? { kind: 'variable', name: 'CARGO_ISOLATE_ROOT' } : { kind: 'default', name: 'root' };
/**
 * Reads every setting once, from the action's inputs (`get`) or another source (the runner's
 * variables, the CLI's flags); every refusal names the value's origin (`Input 'disk-threshold'`,
 * `Variable CARGO_ISOLATE_DISK_THRESHOLD`, `Option '--disk-threshold'`). A bare number is refused
 * wherever a unit is needed, with a hint (`'85': did you mean 85% or 85GiB?`).
 */
function readSettings(from, env = process.env) {
    const src = typeof from === 'function' ? { get: from, origin: (n) => ({ kind: 'input', name: n }) } : from;
    const read = (name) => src.get(name).trim() || defaultOf(name);
    const refuse = (name, value, expected, hint) => new InputError(src.origin(name), value, expected, hint);
    const oneOf = (name, allowed) => {
        const v = read(name);
        if (allowed.includes(v))
            return v;
        throw refuse(name, v, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
    };
    const bool = (name) => {
        const v = read(name);
        if (['true', 'True', 'TRUE'].includes(v))
            return true;
        if (['false', 'False', 'FALSE'].includes(v))
            return false;
        throw refuse(name, v, `'true' or 'false'`);
    };
    const duration = (name, min = 0) => {
        const v = read(name);
        const ms = parseDuration(v);
        if (ms === undefined || ms < min) {
            throw refuse(name, v, `a duration such as 30s, 5m or 2h${min ? ` of at least ${min / 1000}s` : ''}`, unitHint(v, 'duration'));
        }
        return ms;
    };
    const level = (name) => {
        const v = read(name);
        if (v === '')
            return undefined;
        const l = parseLevel(v);
        if (!l)
            throw refuse(name, v, LEVEL_FORM, unitHint(v, 'level'));
        return l;
    };
    /** A short single-line label: it is recorded in slot.json and compared, never used as a path. */
    const label = (name, example) => {
        const v = read(name);
        // Control characters are what this refuses: a label goes into file names and log lines.
        // eslint-disable-next-line no-control-regex
        if (v.length > 200 || /[\u0000-\u001f\u007f]/.test(v))
            throw refuse(name, v.length > 60 ? `${v.slice(0, 60)}...` : v, `one line of at most 200 characters (e.g. ${example})`);
        return v;
    };
    /** Crate names, separated by commas, spaces or new lines (a YAML block). */
    const crateNames = (name, raw) => {
        const names = raw.split(/[\s,]+/).filter(Boolean);
        const bad = names.find((n) => !/^[A-Za-z0-9_-]{1,64}$/.test(n));
        if (bad !== undefined)
            throw refuse(name, raw, 'crate names separated by commas or spaces (e.g. maili-registry, jemalloc-sys)', `'${bad}' is not a crate name.`);
        return names;
    };
    const diskThreshold = level('disk-threshold'); // it has a default
    // 85% used and 20GiB free can only be compared on a disk of known size, and which level the
    // guard acts at would then depend on the disk: every level of one kind, the threshold's.
    const sameKind = (name, l, example, orNone) => {
        if (!l || l.kind === diskThreshold.kind)
            return;
        const t = refOf(src.origin('disk-threshold'));
        throw refuse(name, read(name), `${KIND_TEXT[diskThreshold.kind]} as ${t} is (e.g. ${example[diskThreshold.kind]})${orNone}`, `${t} is ${KIND_TEXT[diskThreshold.kind]} (${read('disk-threshold')}), ` +
            `and ${name === 'disk-target' ? 'a target' : 'a hard level'} of another kind cannot be compared with it.`);
    };
    const diskTarget = level('disk-target') ?? defaultTarget(diskThreshold);
    sameKind('disk-target', diskTarget, { percent: '80%', free: '25GiB' }, ', or none: it then stops at the threshold');
    if (!targetIsBelow(diskThreshold, diskTarget)) {
        throw refuse('disk-target', read('disk-target'), `a level at or below ${refOf(src.origin('disk-threshold'))} (${read('disk-threshold')})`);
    }
    const diskHardThreshold = level('disk-hard-threshold');
    sameKind('disk-hard-threshold', diskHardThreshold, { percent: '95%', free: '5GiB' }, '');
    if (diskHardThreshold && !targetIsBelow(diskHardThreshold, diskThreshold)) {
        throw refuse('disk-hard-threshold', read('disk-hard-threshold'), `a level at or above ${refOf(src.origin('disk-threshold'))} (${read('disk-threshold')})`);
    }
    const failBelowRaw = read('fail-below');
    let failBelowBytes;
    if (failBelowRaw !== '' && parseFloat(failBelowRaw) !== 0) {
        failBelowBytes = parseSize(failBelowRaw);
        if (failBelowBytes === undefined || failBelowBytes <= 0) {
            throw refuse('fail-below', failBelowRaw, 'a free-space size such as 5GiB, or empty to never fail', unitHint(failBelowRaw, 'size'));
        }
    }
    const hostArchivesRaw = read('host-archives');
    const hostArchives = archiveCap(hostArchivesRaw);
    if (!hostArchives) {
        throw refuse('host-archives', hostArchivesRaw, "a share of the root's filesystem (e.g. 10%), a size (e.g. 20GiB), or 'off'", unitHint(hostArchivesRaw, 'level'));
    }
    const rootRaw = read('root');
    // As the root: an operator sets the store once for a runner (its .env), and the action's input defaults to it.
    const storeRaw = read('archive-store') || (env.CARGO_ISOLATE_ARCHIVE_STORE ?? '').trim();
    const storeOrigin = read('archive-store') ? src.origin('archive-store') : { kind: 'variable', name: 'CARGO_ISOLATE_ARCHIVE_STORE' };
    const archiveStore = parseArchiveStore(storeRaw);
    if ('hint' in archiveStore)
        throw new InputError(storeOrigin, storeRaw, ARCHIVE_STORE_FORM, archiveStore.hint);
    if (archiveStore.kind === 'actions-cache' && storeOrigin.kind === 'flag')
        throw new InputError(storeOrigin, storeRaw, 'the absolute path of a directory every host mounts (e.g. /mnt/ci-archives)', "the Actions cache service needs the runtime token that only a workflow's action steps get, which a command on the host never has.");
    const setLevels = {};
    for (const n of ['disk-threshold', 'disk-target', 'disk-hard-threshold', 'fail-below'])
        if (read(n))
            setLevels[n] = { text: read(n), origin: src.origin(n) };
    return {
        root: rootRaw || defaultRoot(env),
        rootOrigin: rootRaw ? src.origin('root') : defaultRootOrigin(env),
        layout: oneOf('layout', ['slot', 'job']),
        reuse: oneOf('reuse', ['same-key', 'never', 'always']),
        leaseWaitMs: duration('lease-wait'),
        maxLeaseMs: duration('max-lease', 60_000),
        diskThreshold,
        diskTarget,
        diskHardThreshold,
        pruneScope: oneOf('prune-scope', ['runner', 'host']),
        dryRun: bool('dry-run'),
        failBelowBytes,
        publishCrates: oneOf('publish-crates', ['always', 'trusted', 'never']),
        cache: bool('cache'),
        manifestPath: read('manifest-path') || undefined,
        workingDirectory: read('working-directory') || env.GITHUB_WORKSPACE || process.cwd(),
        cleanupTimeoutMs: duration('cleanup-timeout', 1000),
        runnerName: label('runner-name', 'build-host-3') || undefined,
        jobKey: label('key', '${{ matrix.target }}'),
        archiveStore,
        hostArchives,
        setLevels,
        writableSources: crateNames('writable-sources', read('writable-sources')),
    };
}

;// CONCATENATED MODULE: external "node:child_process"
const external_node_child_process_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:child_process");
;// CONCATENATED MODULE: ./src/os/run.ts


/**
 * Runs a command to its end, capturing the tails of its output; never rejects. After `timeoutMs`
 * it gets SIGKILL: a stuck rm, chown or cp must not hold a job or a guard forever. The one place
 * `rm`, `chmod`, `chown`, `cp`, `sudo`, `docker` and the questions put to `cargo` are run from.
 */
function run_runCommand(cmd, args, timeoutMs, o = {}) {
    return new Promise((res) => {
        const child = (0,external_node_child_process_namespaceObject.spawn)(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL', cwd: o.cwd, env: o.env });
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
function runBounded(cmd, args, o) {
    return new Promise((res) => {
        const child = (0,external_node_child_process_namespaceObject.spawn)(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd: o.cwd, env: o.env, detached: true });
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
function absent_failed(path, e, o) {
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
async function absent_ifPresent(path, read, o = {}) {
    try {
        return await read();
    }
    catch (e) {
        return absent_failed(path, e, o);
    }
}
/** The same for the synchronous reads of the units count and the view (warmth.ts, view.ts). */
function ifPresentSync(path, read, o = {}) {
    try {
        return read();
    }
    catch (e) {
        return absent_failed(path, e, o);
    }
}
/** The names in a directory; none when it is not there. */
const absent_listDir = async (dir, o) => (await absent_ifPresent(dir, () => external_node_fs_.promises.readdir(dir), o)) ?? [];
/** The entries of a directory with their types; none when it is not there. */
const absent_listDirents = async (dir, o) => (await absent_ifPresent(dir, () => external_node_fs_.promises.readdir(dir, { withFileTypes: true }), o)) ?? [];
/** The same, synchronously. */
const listDirSync = (dir, o) => ifPresentSync(dir, () => (0,external_node_fs_.readdirSync)(dir), o) ?? [];
/** The same, synchronously. */
const listDirentsSync = (dir, o) => ifPresentSync(dir, () => (0,external_node_fs_.readdirSync)(dir, { withFileTypes: true }), o) ?? [];
/** What is at a path, links not followed; undefined when nothing is (a file on the way counts as nothing). */
const absent_lstatIfPresent = (path) => absent_ifPresent(path, () => external_node_fs_.promises.lstat(path), { notADirectory: 'absent' });
/** A file's text; undefined when it is not there. */
const absent_readTextIfPresent = (path, o) => absent_ifPresent(path, () => external_node_fs_.promises.readFile(path, 'utf8'), o);
/** A file's bytes; undefined when it is not there. */
const absent_readBytesIfPresent = (path) => absent_ifPresent(path, () => external_node_fs_.promises.readFile(path));
/** Whether a real directory is at a path (a link to one is not); false when nothing is. */
const absent_isDirAt = async (path) => (await absent_lstatIfPresent(path))?.isDirectory() ?? false;

;// CONCATENATED MODULE: ./src/owners/owner.ts




/** Pure: to whom this process must give back what it creates, or undefined when nobody. */
function owner_handBackTo(uid, rootOwner) {
    return uid === 0 && rootOwner.uid !== 0 ? rootOwner : undefined;
}
/**
 * Pure: may a job running as `uid` reuse, wipe and chmod a slot? `owners` are the uids of the
 * slot directory and its top entries (target/, cargo-home/, tmp/, slot.json) that exist: O(1)
 * evidence, beside the record, which a root job marks until it has handed everything back.
 */
function owner_canManage(uid, record, owners) {
    if (uid === 0)
        return true;
    if (record?.uid !== undefined && record.uid !== uid)
        return false;
    return owners.every((o) => o === uid);
}
async function owner_ownerOf(path) {
    const st = await external_node_fs_.promises.stat(path);
    return { uid: st.uid, gid: st.gid };
}
/** canManage() over a slot as it is on disk: its directory and top entries, and its record. */
async function owner_slotOwners(dirs) {
    return ownersOf([dirs.base, dirs.target, dirs.cargoHome, dirs.install, dirs.tmp, dirs.record]);
}
/**
 * A directory of `uid`'s own under `top`, which every uid may create entries in (mode 1777, like
 * /tmp): the per-uid CARGO_HOMEs and sccache servers. Any uid may make any name in such a
 * directory, so what is found there is used only when it is a real directory of `uid`: a dir
 * (or link) of another uid would have this uid (root, say) write where that uid chose. `alsoOwner`:
 * for root, the root's owner, to whom root's jobs hand back what they make (handback.ts).
 * `theirs` says why the directory cannot be used.
 */
async function owner_ownDirIn(top, name, uid, mode = 0o755, alsoOwner) {
    await external_node_fs_.promises.mkdir(top, { recursive: true });
    const st = await external_node_fs_.promises.lstat(top);
    const dir = `${top}/${name}`;
    if (!st.isDirectory())
        return { dir, theirs: `${top} is not a directory (a symlink?)` };
    if ((st.mode & 0o1777) !== 0o1777 && st.uid === uid)
        await external_node_fs_.promises.chmod(top, 0o1777);
    await external_node_fs_.promises.mkdir(dir, { recursive: true, mode });
    const own = await external_node_fs_.promises.lstat(dir);
    // Root's own directories are handed back to the root's owner like everything root makes there.
    if (!own.isDirectory() || (own.uid !== uid && own.uid !== alsoOwner))
        return { dir, theirs: `${dir} is not a directory of uid ${uid} (owner ${own.uid}${own.isSymbolicLink() ? ', a symlink' : ''})` };
    return { dir };
}
/** uids of the paths that exist (never following a symlink). */
async function ownersOf(paths) {
    const sts = await Promise.all(paths.map((p) => absent_lstatIfPresent(p)));
    return sts.filter((s) => s !== undefined).map((s) => s.uid);
}
/**
 * Gives `paths` to `to`. Recursive walks are GNU chown's: -R with -P (the default) never
 * follows a symlink it meets, and -h changes a link itself, not what it points to, so a link
 * a build planted cannot lead the chown outside the root.
 */
function owner_chownTree(paths, to, recursive, timeoutMs = DEFAULT_CLEANUP_TIMEOUT_MS, o = {}) {
    if (paths.length === 0)
        return Promise.resolve({ ok: true });
    // `--from`: only what that uid owns is given (chown stamps every file it is asked to change with
    // a new ctime, even to the owner it has, which would make a verified tree look changed).
    const from = o.from !== undefined ? [`--from=${o.from}`] : [];
    const args = [...(recursive ? ['-R'] : []), ...from, '-h', `${to.uid}:${to.gid}`, '--', ...paths];
    return run_runCommand('chown', args, timeoutMs).then((r) => r.error
        ? { ok: false, detail: r.error.message }
        : r.code === 0
            ? { ok: true }
            : { ok: false, detail: r.stderr.trim().split('\n').slice(-1)[0] || `chown exited with ${r.code}` });
}

;// CONCATENATED MODULE: ./src/os/proc.ts


/*
 * What /proc and the process itself say: this process's uid, a process's stat line and its
 * ancestors (whose Runner.Worker a hook's lease watches), whether a process has exited (and a
 * wait for it), and the PATH search a shell would do.
 */
/** The uid this process acts as (effective: what the kernel checks on every file it touches). */
const proc_myUid = () => process.geteuid?.() ?? 0;
/** /proc/<pid>/stat, parsed; undefined when the process is gone or not visible here. */
function proc_procStat(pid) {
    try {
        const stat = (0,external_node_fs_.readFileSync)(`/proc/${pid}/stat`, 'utf8');
        const rest = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
        return { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), state: rest[0], ppid: Number(rest[1]), start: rest[19] };
    }
    catch {
        return undefined;
    }
}
/** Whether the process `pid` that started at `start` has exited: gone, a zombie, or the pid reused. */
function exited(pid, start) {
    const now = proc_procStat(pid);
    return !now || now.state === 'Z' || now.start !== start;
}
/** Waits (polling /proc) until the process `pid` that started at `start` has exited; false if it still runs after `ms`. */
async function waitExited(pid, start, ms) {
    const end = Date.now() + ms;
    while (!exited(pid, start)) {
        if (Date.now() >= end)
            return false;
        await new Promise((r) => setTimeout(r, 50));
    }
    return true;
}
/** A process and its ancestors, nearest first (at most 32), as far as /proc shows them. */
function ancestors(from) {
    const out = [];
    for (let pid = from; pid > 1 && out.length < 32;) {
        const stat = proc_procStat(pid);
        if (!stat)
            break;
        out.push({ pid, comm: stat.comm });
        pid = stat.ppid;
    }
    return out;
}
/** The executable `command` names on `path` (absolute PATH entries only), as a shell would run it. */
async function findOnPath(command, path) {
    if (command.includes('/'))
        return command;
    for (const dir of (path ?? '').split(':').filter((d) => d.startsWith('/'))) {
        const p = (0,external_node_path_.join)(dir, command);
        if (await external_node_fs_.promises.access(p, external_node_fs_.constants.X_OK).then(() => true, () => false))
            return p;
    }
    return undefined;
}
/**
 * Sends what escapes every await (an error event nobody listens to, a rejected promise nobody
 * awaits) to `handler`, which says it like every other failure of the entry point and ends it,
 * instead of Node's stack trace. Once per process: an entry point run twice in one process (the
 * tests) keeps the first handler.
 */
function onStray(handler) {
    if (process.listenerCount('uncaughtException') === 0)
        process.on('uncaughtException', handler).on('unhandledRejection', handler);
}

;// CONCATENATED MODULE: ./src/pool/jsonlog.ts





/*
 * The root's small append-only logs (warmth.jsonl, events.jsonl), one line per event, written
 * by jobs that share nothing but the root, and read by `status` and `metrics`.
 *
 * Each line is one write(2) on an O_APPEND descriptor, so concurrent writers never interleave
 * within a line. A line torn by a full disk or a kill is skipped by the reader, and the next line
 * is recovered even when glued to the torn one. When the file passes LOG_MAX bytes, the writer
 * that noticed renames it to `.1` (replacing the older generation), so a log stays within
 * 2 x LOG_MAX. Two writers rotating at once can drop one generation early: a statistic may lose
 * old lines, never gain wrong ones. Every line starts with `{"t":"` (its ISO time), which is how
 * a reader finds the start of a whole line after a torn one.
 */
const LOG_MAX = 256 * 1024;
const LINE_START = '{"t":"';
/**
 * Appends one line; rotates past LOG_MAX. Throws: the caller turns it into a warning. A build
 * runs as this uid and can replace the file: with a symlink (O_NOFOLLOW refuses it), a FIFO
 * (O_NONBLOCK: no hang) or a hard link to a file outside the root (refused by its link count),
 * so a root job never writes or chowns anything but this root's own log.
 */
async function appendLine(root, path, e) {
    const { t, ...rest } = e;
    const h = await external_node_fs_.promises.open(path, external_node_fs_.constants.O_WRONLY | external_node_fs_.constants.O_APPEND | external_node_fs_.constants.O_CREAT | external_node_fs_.constants.O_NOFOLLOW | external_node_fs_.constants.O_NONBLOCK, 0o644);
    let st;
    try {
        const before = await h.stat();
        if (!before.isFile() || before.nlink !== 1)
            throw new Failure(`${path} is not a plain file of its own (${before.nlink} links); remove it, the next job starts a new history`, 'environment');
        await h.write(JSON.stringify({ t, ...rest }) + '\n');
        st = await h.stat();
        // A root job on a root owned by the runner's user: the next host job must be able to append.
        const to = owner_handBackTo(proc_myUid(), await owner_ownerOf(root));
        if (to && st.uid !== to.uid)
            await h.chown(to.uid, to.gid);
    }
    finally {
        await h.close();
    }
    if (st.size > LOG_MAX) {
        // Rotate only the file this job wrote to: another writer may have rotated it already.
        const now = await absent_lstatIfPresent(path);
        if (now?.ino === st.ino)
            await external_node_fs_.promises.rename(path, `${path}.1`);
    }
}
/** Pure: the objects of a log's text that `accept` recognises; torn and foreign lines are skipped. */
function jsonlog_parseLines(text, accept) {
    const out = [];
    for (const line of text.split('\n')) {
        // A torn line followed by a whole one on the same line: the whole one starts last.
        const at = line.lastIndexOf(LINE_START);
        if (at < 0)
            continue;
        try {
            const o = JSON.parse(line.slice(at));
            if (o && typeof o === 'object' && accept(o))
                out.push(o);
        }
        catch {
            /* torn */
        }
    }
    return out;
}
/** A plain file's bytes ('' for anything else: a link, a FIFO, a missing file) and its inode. Never throws. */
async function readPlain(path) {
    // ELOOP: a link, never followed, reads as nothing.
    const h = await absent_ifPresent(path, () => external_node_fs_.promises.open(path, external_node_fs_.constants.O_RDONLY | external_node_fs_.constants.O_NOFOLLOW | external_node_fs_.constants.O_NONBLOCK), { alsoAbsent: ['ELOOP'] });
    if (!h)
        return { buf: Buffer.alloc(0) };
    try {
        const st = await h.stat();
        return st.isFile() ? { buf: await h.readFile(), ino: st.ino } : { buf: Buffer.alloc(0) };
    }
    catch {
        return { buf: Buffer.alloc(0) };
    }
    finally {
        await h.close();
    }
}
/** Both generations' text, older first. Never throws. */
async function readLog(path) {
    const [older, current] = await Promise.all([readPlain(`${path}.1`), readPlain(path)]);
    return `${older.buf.toString('utf8')}\n${current.buf.toString('utf8')}`;
}
/**
 * The text appended since `cursor`, across one rotation, and the cursor to keep: what `metrics`
 * uses to turn a rotating log into counters that only grow. The current file is read up to its
 * last newline only, so a line being written is read whole next time. Without a cursor, or after
 * more than one rotation since, it reads both generations (old lines may count again once, a
 * counter reset to Prometheus; new lines are never missed). Never throws.
 */
async function readSince(path, cursor) {
    // The current file first: if it is rotated between the two reads, `.1` is that same file.
    const current = await readPlain(path);
    const older = await readPlain(`${path}.1`);
    const parts = [];
    const same = cursor !== undefined && current.ino === cursor.ino;
    if (!same)
        parts.push(cursor !== undefined && older.ino === cursor.ino ? older.buf.subarray(Math.min(cursor.offset, older.buf.length)) : older.buf);
    if (current.ino === undefined) {
        // No current file (nothing written since a rotation): the older one was read to its end.
        return { text: Buffer.concat(parts).toString('utf8'), cursor: older.ino !== undefined ? { ino: older.ino, offset: older.buf.length } : cursor };
    }
    const from = same ? Math.min(cursor.offset, current.buf.length) : 0;
    const to = Math.max(from, current.buf.lastIndexOf(0x0a) + 1);
    parts.push(current.buf.subarray(from, to));
    return { text: Buffer.concat(parts).toString('utf8'), cursor: { ino: current.ino, offset: to } };
}

;// CONCATENATED MODULE: ./src/pool/warmth.ts





const NAMED_MAX = 20;
/** `<crate>-<16 hex digits>`: cargo's unit directory name. */
const UNIT_NAME = /^(.+)-[0-9a-f]{16}$/;
/**
 * The cut-off for "written during the lease": the lease's start, to the millisecond. Not rounded
 * down to whole seconds for filesystems with one-second mtimes: the previous lease's last cargo
 * write, its post step and this job's main step easily fit in one second, and that previous
 * build would then count as this job's (seen in the real-cargo test). The kernel stamps files
 * from a clock a few ms coarse; the first cargo write comes much later than that after the
 * main step, and the previous lease's last one much earlier.
 */
const cutOff = (startedAt) => Date.parse(startedAt);
const newest = (u) => u.files.reduce((m, f) => Math.max(m, f.mtimeMs), -Infinity);
/**
 * Pure: the units of the layout cargo wrote last in each profile dir. A profile holding both
 * layouts was built by a cargo before 1.100 and one after (a toolchain upgrade on a warm slot);
 * the older layout's units are leftovers that no cargo of this job reads, and counting them as
 * fresh would make a cold build look half warm. Ties go to v2, the newer cargo's.
 */
function inUse(units) {
    const last = new Map();
    for (const u of units) {
        if (u.profile === undefined || u.layout === undefined)
            continue;
        const l = last.get(u.profile) ?? { v1: -Infinity, v2: -Infinity };
        l[u.layout] = Math.max(l[u.layout], newest(u));
        last.set(u.profile, l);
    }
    return units.filter((u) => {
        const l = u.profile === undefined ? undefined : last.get(u.profile);
        if (!l || l.v1 === -Infinity || l.v2 === -Infinity)
            return true; // one layout here
        return u.layout === (l.v1 > l.v2 ? 'v1' : 'v2');
    });
}
/** Pure: built and fresh units among `units`, given the cut-off (ms since the epoch). */
function countUnits(units, cutOffMs) {
    let built = 0;
    let fresh = 0;
    const crates = new Set();
    for (const u of inUse(units)) {
        if (u.files.some((f) => f.mtimeMs >= cutOffMs)) {
            built++;
            crates.add(UNIT_NAME.exec(u.name)?.[1] ?? u.name);
        }
        else if (u.files.some((f) => f.name.endsWith('.json'))) {
            fresh++;
        }
        // Else an old, incomplete fingerprint (a compile that failed or was killed before this
        // lease) that this job did not touch: neither work done nor work saved.
    }
    return { built, fresh, ...(built <= NAMED_MAX ? { builtCrates: [...crates].sort() } : {}) };
}
/** Entries of the target dir that are never a profile dir (rustdoc output, `cargo package`, ...). */
const NOT_PROFILES = new Set(['doc', 'package', 'tmp', 'incremental', 'deps', 'build']);
const subdirs = (dir) => listDirentsSync(dir, { notADirectory: 'absent' })
    .filter((d) => d.isDirectory() && !NOT_PROFILES.has(d.name))
    .map((d) => d.name);
const isDir = (p) => (0,external_node_fs_.statSync)(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
/**
 * `<target>/<profile>` and `<target>/<triple>/<profile>`: a directory holding `.fingerprint/`
 * (v1) or `build/` (both layouts); nothing deeper.
 */
function profileDirs(target) {
    const out = [];
    const isProfile = (d) => isDir((0,external_node_path_.join)(d, '.fingerprint')) || isDir((0,external_node_path_.join)(d, 'build'));
    for (const a of subdirs(target)) {
        const p = (0,external_node_path_.join)(target, a);
        if (isProfile(p))
            out.push(p);
        else
            for (const b of subdirs(p))
                if (isProfile((0,external_node_path_.join)(p, b)))
                    out.push((0,external_node_path_.join)(p, b));
    }
    return out;
}
const dirEntries = (dir) => listDirentsSync(dir, { notADirectory: 'absent' }).filter((d) => d.isDirectory());
/**
 * Where the fingerprint directories of one profile dir may be, in both layouts; readUnits skips
 * those that are not there. v2 costs one more readdir per package than v1 (build/<pkg>/ lists
 * the package's unit hashes). In a v1 profile, build/ holds `<pkg>-<hash>/` build script dirs
 * instead: each costs a readdir or two and yields nothing.
 */
function unitLocations(profile) {
    const out = [];
    const v1 = (0,external_node_path_.join)(profile, '.fingerprint');
    for (const u of dirEntries(v1))
        out.push({ name: u.name, dir: (0,external_node_path_.join)(v1, u.name), layout: 'v1' });
    const build = (0,external_node_path_.join)(profile, 'build');
    for (const pkg of dirEntries(build)) {
        for (const hash of dirEntries((0,external_node_path_.join)(build, pkg.name))) {
            // Not stat'ed here: readUnits' readdir fails on a v1 build script dir's `out/fingerprint`.
            out.push({ name: `${pkg.name}-${hash.name}`, dir: (0,external_node_path_.join)(build, pkg.name, hash.name, 'fingerprint'), layout: 'v2' });
        }
    }
    return out;
}
/**
 * Reads every unit directory with the mtimes of its files but `dep-*` and `output-*`: cargo
 * writes those only together with `invoked.timestamp`, so they would add nothing but stat
 * calls. Synchronous on purpose: a few thousand units mean ~10k small
 * syscalls, which the thread pool would only add latency to; post does nothing else meanwhile.
 */
function readUnits(target) {
    const units = [];
    for (const profile of profileDirs(target)) {
        for (const loc of unitLocations(profile)) {
            // Not there: not a unit (a v1 build script dir under build/), or gone meanwhile.
            const entries = ifPresentSync(loc.dir, () => (0,external_node_fs_.readdirSync)(loc.dir), { notADirectory: 'absent' });
            if (!entries)
                continue;
            const files = [];
            for (const f of entries) {
                if (f.startsWith('dep-') || f.startsWith('output-'))
                    continue;
                const st = (0,external_node_fs_.statSync)((0,external_node_path_.join)(loc.dir, f), { throwIfNoEntry: false });
                if (st?.isFile())
                    files.push({ name: f, mtimeMs: st.mtimeMs });
            }
            units.push({ name: loc.name, files, profile: profile.slice(target.length + 1), layout: loc.layout });
        }
    }
    return units;
}
/** Units built and found fresh in `target` since the lease started. */
function unitsSince(target, startedAt) {
    return countUnits(readUnits(target), cutOff(startedAt));
}
// ---------------------------------------------------------------------------------------------
// History: <root>/warmth.jsonl (+ .1), one line per job, written by post.
//
// Slot records hold only their last job, and the audit log is opt-in, so the history has its
// own file: an append-only log of jsonlog.ts (one O_APPEND write per line, rotation at LOG_MAX,
// torn lines skipped), read by `status` (the share of warm starts) and `metrics` (counters).
// ---------------------------------------------------------------------------------------------

/** How many of the latest jobs of a repository's job `status` considers. */
const RECENT = 20;
/** Pure: a job started warm when most of its units were already there and left alone. */
const startedWarm = (e) => e.fresh > e.built;
/** Pure: the entries of a log's text; torn and foreign lines are skipped. */
function parseLog(text) {
    return jsonlog_parseLines(text, (e) => typeof e.repository === 'string' && typeof e.job === 'string' && Number.isInteger(e.built) && Number.isInteger(e.fresh));
}
/** Pure: the closed-domain lines of a log's text (parseLog skips them: they are no job). */
function parseClosed(text) {
    return jsonlog_parseLines(text, (e) => e.closed === true && typeof e.repository === 'string' && typeof e.key === 'string');
}
/** Pure: per repository and job, the share of its latest `recent` jobs that started warm. */
function warmShare(entries, recent = RECENT) {
    const groups = new Map();
    for (const e of entries) {
        if (e.built + e.fresh === 0)
            continue; // ran no cargo build: says nothing about warmth
        const job = e.jobKey ? `${e.job} (${e.jobKey})` : e.job;
        const k = JSON.stringify([e.repository, job]);
        if (!groups.has(k))
            groups.set(k, []);
        groups.get(k).push(e);
    }
    const rows = [];
    for (const [k, all] of groups) {
        const [repository, job] = JSON.parse(k);
        const last = [...all].sort((a, b) => a.t.localeCompare(b.t)).slice(-recent);
        const built = last.reduce((s, e) => s + e.built, 0);
        const fresh = last.reduce((s, e) => s + e.fresh, 0);
        rows.push({
            repository,
            job,
            jobs: last.length,
            warm: last.filter(startedWarm).length,
            unitsFresh: fresh / (built + fresh),
            last: last[last.length - 1].t,
        });
    }
    return rows.sort((a, b) => a.repository.localeCompare(b.repository) || a.job.localeCompare(b.job));
}
function formatWarmth(rows) {
    if (rows.length === 0)
        return ['warm starts: no job with a cargo build recorded yet'];
    const pct = (x) => `${Math.round(100 * x)}%`;
    return [
        `warm starts (latest ${RECENT} jobs each; warm: most compile units found fresh):`,
        ...rows.map((r) => `  ${r.repository} ${r.job}: ${r.warm}/${r.jobs} warm (${pct(r.warm / r.jobs)}), ${pct(r.unitsFresh)} of units fresh`),
    ];
}
const warmthLog = (root) => layout_rootPaths(root).warmth;
/** Appends one line, a job's or a closed PR's (jsonlog.ts: O_APPEND, rotation, refused links). Throws: post turns it into a warning. */
async function appendWarmth(root, e) {
    await appendLine(root, warmthLog(root), e);
}
/** The history on disk, older generation first. Never throws. */
async function readWarmth(root) {
    return (await readHistory(root)).jobs;
}
/** Jobs and closed domains, older generation first, in one read. Never throws. */
async function readHistory(root) {
    const text = await readLog(warmthLog(root));
    return { jobs: parseLog(text), closed: parseClosed(text) };
}

;// CONCATENATED MODULE: ./src/pool/view.ts




/*
 * Under which path view a slot's build was made, from what cargo itself wrote.
 *
 * The runner's job-started hook runs on the host before "Initialize containers", and nothing in
 * its environment or files says whether the job's steps will run in a container (actions/runner:
 * the hook's script handler exports only the `github` context's allow-listed values and the
 * `runner` context; `job.container` is evaluated before the hook but never exported). The build
 * itself tells: rustc's dep-info files (`<build dir>/<profile>/deps/<crate>-<hash>.d`, or in each
 * unit's `out/` in cargo's build-dir layout v2) name every output by the absolute path cargo gave
 * it, which starts with CARGO_BUILD_BUILD_DIR exactly as the build saw it (`/__w/_tool/...` in a
 * job container, the host's path on the host), and the file is owned by the uid cargo ran as. A build that compiled nothing writes none: then the
 * slot's content is still what the previous view built.
 */
/** How many of the newest dep-info files are read before giving up on finding an output path. */
const READ_MAX = 8;
const HEAD_BYTES = 4096;
/** Pure: the first output a dep-info file names (`<output>: <sources>`), spaces unescaped. */
function outputOf(depInfo) {
    const line = depInfo.split('\n', 1)[0];
    const m = /^((?:[^:\\]|\\.)+):(?:\s|$)/.exec(line);
    const out = m?.[1].replace(/\\(.)/g, '$1');
    return out && (0,external_node_path_.isAbsolute)(out) ? out : undefined;
}
/**
 * Pure: the root as the build saw it, given an output path the build wrote and where this process
 * sees the root and the build dir (`<root>/slots/<name>/target`): the output's prefix before the
 * build dir's place under the root. Undefined when the output is not under that place at all (a
 * `docker run` step mounting the target elsewhere): the view cannot be told.
 */
function rootSeen(output, root, buildDir) {
    const rel = (0,external_node_path_.relative)(root, buildDir);
    if (!rel || rel.startsWith('..') || (0,external_node_path_.isAbsolute)(rel))
        return undefined;
    const at = output.lastIndexOf(`/${rel}/`);
    if (at <= 0)
        return undefined;
    return output.slice(0, at);
}
/** Entries of a build dir that are never a profile (rustdoc output, `cargo package`, ...). */
const view_NOT_PROFILES = new Set(['doc', 'package', 'tmp', 'incremental', 'deps', 'build', 'examples', '.fingerprint']);
const hasLock = (d) => ['.cargo-lock', '.cargo-build-lock'].some((f) => (0,external_node_fs_.lstatSync)((0,external_node_path_.join)(d, f), { throwIfNoEntry: false })?.isFile());
const view_subdirs = (d) => listDirentsSync(d, { notADirectory: 'absent' })
    .filter((e) => e.isDirectory() && !view_NOT_PROFILES.has(e.name))
    .map((e) => (0,external_node_path_.join)(d, e.name));
const list = (d) => listDirSync(d, { notADirectory: 'absent' });
/**
 * Profile dirs of a build dir, `<profile>` and `<triple>/<profile>`: those holding cargo's build
 * lock (`.cargo-lock`, `.cargo-build-lock` from 1.96), which stays at the profile in both of
 * cargo's build-dir layouts.
 */
function view_profileDirs(buildDir) {
    return view_subdirs(buildDir).flatMap((p) => (hasLock(p) ? [p] : view_subdirs(p).filter(hasLock)));
}
/**
 * Where a profile's dep-info files are: `deps/` (cargo's layout up to 1.99) and each unit's
 * `build/<pkg>/<hash>/out/` (layout v2, stable in 1.100). As many entries as units.
 */
function depInfoDirs(profile) {
    const v2 = list((0,external_node_path_.join)(profile, 'build')).flatMap((pkg) => list((0,external_node_path_.join)(profile, 'build', pkg)).map((h) => (0,external_node_path_.join)(profile, 'build', pkg, h, 'out')));
    return [(0,external_node_path_.join)(profile, 'deps'), ...v2];
}
/**
 * The newest dep-info file written under `buildDir` since the lease started: its first output
 * path and its owner. One lstat per dep-info file (as many as units); at most READ_MAX are read.
 */
function builtSince(buildDir, startedAt) {
    const since = cutOff(startedAt);
    const found = [];
    for (const dir of view_profileDirs(buildDir).flatMap(depInfoDirs)) {
        for (const n of list(dir)) {
            if (!n.endsWith('.d'))
                continue;
            const st = (0,external_node_fs_.lstatSync)((0,external_node_path_.join)(dir, n), { throwIfNoEntry: false });
            if (st?.isFile() && st.mtimeMs >= since)
                found.push({ path: (0,external_node_path_.join)(dir, n), mtimeMs: st.mtimeMs, uid: st.uid });
        }
    }
    found.sort((a, b) => b.mtimeMs - a.mtimeMs);
    for (const f of found.slice(0, READ_MAX)) {
        const output = outputOf(readHead(f.path));
        if (output)
            return { output, uid: f.uid };
    }
    return undefined;
}
function readHead(path) {
    let fd;
    try {
        fd = (0,external_node_fs_.openSync)(path, 'r');
        const buf = Buffer.alloc(HEAD_BYTES);
        return buf.subarray(0, (0,external_node_fs_.readSync)(fd, buf, 0, HEAD_BYTES, 0)).toString('utf8');
    }
    catch {
        return '';
    }
    finally {
        if (fd !== undefined)
            (0,external_node_fs_.closeSync)(fd);
    }
}

;// CONCATENATED MODULE: ./src/owners/foreign.ts


/*
 * Files of another uid *below* a slot's top entries. A `docker run` step (root inside) that
 * mounts the job's target dir and CARGO_HOME creates `target/debug/`, its `.cargo-lock`,
 * `cargo-home/registry/...` as root, while `target/` and `cargo-home/` stay the runner user's:
 * owner.ts's O(1) check sees nothing, and the next job of that user fails with EACCES on
 * `target/debug/.cargo-lock`. Only root's files in the places cargo writes to on every build
 * matter, so the probe looks exactly there and never walks a tree:
 *
 *   entries of                     whose owners are probed
 *   target/                        profile dirs, triple dirs, .rustc_info.json, CACHEDIR.TAG
 *   target/<dir>/                  a profile's lock files (.cargo-lock; .cargo-build-lock and
 *                                  .cargo-artifact-lock from cargo 1.96), its final artifacts,
 *                                  and its parts (owners only, never their content): deps/,
 *                                  .fingerprint/ (layout v1, cargo up to 1.99), build/ (both
 *                                  layouts; every unit's dir on layout v2, cargo 1.100+),
 *                                  incremental/, examples/
 *   target/<triple>/<profile>/     the same for cross builds (cargo's src/compiler/layout.rs)
 *   cargo-home/                    .package-cache, .package-cache-mutate, .global-cache, registry/, git/, bin/
 *   cargo-home/registry/<kind>/    index/<dir>, cache/<dir>, src/<dir>: one per registry
 *   cargo-home/git/<kind>/         db/<repo>, checkouts/<repo>: one per git dependency
 *
 * That is a few dozen lstat calls, whatever the size of the build: the directories listed hold
 * one entry per profile, triple, registry or git dependency, and a profile's own entries (its
 * final artifacts among them). What it cannot see: another uid's files deep inside a tree the
 * runner's user made first (see docs/docker-run.md); the fix at the source covers both.
 */
/**
 * Sub-directories of a profile dir: their owners are probed, their entries never listed. Layout v2
 * (cargo 1.100+) keeps every unit under build/<pkg>/<hash>/ and has no deps/ or .fingerprint/;
 * a build as root in a slot it found empty makes target/<profile>/ itself root's, which is seen.
 */
const PROFILE_PARTS = new Set(['deps', 'build', '.fingerprint', 'incremental', 'examples', 'native']);
/**
 * Pure: is the directory at `rel` (components below the slot dir) listed, so that the owners
 * of its entries are probed? Everything listed is bounded by the number of profiles, targets,
 * registries and git dependencies, never by the number of crates or files.
 */
function listed(rel) {
    const [top, a, b] = rel;
    if (top === 'target') {
        if (rel.length <= 2)
            return true; // target/, target/<profile or triple>/
        // target/<triple>/<profile>/: not a part of a profile (deps, build, ...)
        return rel.length === 3 && !PROFILE_PARTS.has(b);
    }
    if (top === 'cargo-home') {
        if (rel.length === 1)
            return true;
        if (a !== 'registry' && a !== 'git')
            return false;
        return rel.length === 2 || (rel.length === 3 && ['index', 'cache', 'src', 'db', 'checkouts'].includes(b));
    }
    return false;
}
/**
 * Pure: what a job running as `uid` cannot rely on. Root can write anything; every other uid
 * needs its own files where cargo opens, creates or locks (a file of root's mode 0644 is as
 * fatal as a directory: cargo opens .cargo-lock read-write).
 */
function foreignOf(uid, seen) {
    return uid === 0 ? [] : seen.filter((s) => s.uid !== uid);
}
/** The probe's view of a slot: the owner of every entry of every listed directory. */
async function probeOwners(dirs) {
    // target/ and cargo-home/ themselves are owner.ts's top entries; their content starts here.
    return probeTops({ target: (0,external_node_path_.join)(dirs.base, 'target'), 'cargo-home': (0,external_node_path_.join)(dirs.base, 'cargo-home') });
}
/** The same probe over directories named as the slot names them (`target`, `cargo-home`). */
async function probeTops(tops) {
    const out = [];
    const visit = async (top, rel) => {
        const entries = await absent_listDirents((0,external_node_path_.join)(tops[top], ...rel.slice(1)), { notADirectory: 'absent' });
        await Promise.all(entries.map(async (e) => {
            const r = [...rel, e.name];
            const st = await absent_lstatIfPresent((0,external_node_path_.join)(tops[top], ...r.slice(1)));
            if (!st)
                return;
            out.push({ rel: r.join('/'), uid: st.uid });
            if (st.isDirectory() && listed(r))
                await visit(top, r);
        }));
    };
    await Promise.all(Object.keys(tops).map((t) => visit(t, [t])));
    return out.sort((x, y) => x.rel.localeCompare(y.rel));
}
/**
 * Another uid's entries where cargo writes in a CARGO_HOME shared by the jobs of `uid`
 * (cargo-home.ts), probed as a slot's cargo-home/ is: the same few dozen lstat calls.
 */
async function foreign_findForeignInHome(home, uid) {
    return uid === 0 ? [] : foreignOf(uid, await probeTops({ 'cargo-home': home }));
}
/** Entries of another uid than `uid` in the places cargo writes to (empty for root). */
async function foreign_findForeign(dirs, uid) {
    return uid === 0 ? [] : foreignOf(uid, await probeOwners(dirs));
}
/** Pure: the entries that say most first: the build's own (target/), shallow before deep. */
function telling(found) {
    const depth = (o) => o.rel.split('/').length;
    return [...found].sort((a, b) => Number(b.rel.startsWith('target/')) - Number(a.rel.startsWith('target/')) || depth(a) - depth(b) || a.rel.localeCompare(b.rel));
}
/** Pure: the uids and a few of the paths, for a message: `uid 0 (target/debug, ...)`. */
function foreign_describeForeign(found, max = 3) {
    const uids = [...new Set(found.map((f) => f.uid))].sort((a, b) => a - b);
    const shown = telling(found)
        .slice(0, max)
        .map((f) => f.rel);
    return `uid ${uids.join(', ')} (${shown.join(', ')}${found.length > max ? ` and ${found.length - max} more` : ''})`;
}

;// CONCATENATED MODULE: ./src/job/cargo-home.ts





/** Pure: the CARGO_HOME a job of `uid` sees in `dirs` under `root`: its uid's shared one or the slot's own. */
function homeFor(root, dirs, uid, shared) {
    return shared ? sharedHome(root, uid) : dirs.cargoHome;
}
/** Pure: the job's CARGO_HOME. `problem`: why the shared home cannot be used, when it cannot. */
function cargo_home_chooseHome(root, dirs, o) {
    if (o.layout === 'job')
        return { cargoHome: dirs.cargoHome, shared: false, reason: 'layout: job keeps all of a job in its own directory' };
    if (o.fork)
        return { cargoHome: dirs.cargoHome, shared: false, reason: 'a fork PR gets a private CARGO_HOME in its slot, wiped with it' };
    if (o.problem)
        return { cargoHome: dirs.cargoHome, shared: false, reason: `a private CARGO_HOME in the slot: the shared one cannot be used (${o.problem})` };
    return { cargoHome: homeFor(root, dirs, o.uid, true), shared: true, reason: `shared by the trusted jobs of uid ${o.uid} on this root` };
}
/**
 * Makes `<root>/homes/u<uid>` ready, or says why it cannot be used: not a directory of this
 * uid's own, or another uid's files where cargo writes in it (root cannot be harmed by those).
 */
async function sharedHomeProblem(root, uid) {
    const { dir, theirs } = await ownDirIn(rootPaths(root).homes, `u${uid}`, uid, 0o755, await rootOwnerFor(root, uid));
    if (theirs)
        return theirs;
    const foreign = await findForeignInHome(dir, uid);
    if (foreign.length > 0)
        return (`${dir} holds files of ${describeForeign(foreign)} where cargo writes: a \`docker run\` step as root mounted it? ` +
            "Root's 'cargo-isolate gc' hands them back");
    return undefined;
}
/** For root: the root's owner, who gets back what root's jobs make (its home among them). */
async function rootOwnerFor(root, uid) {
    return uid === 0 ? (await owner_ownerOf(root).catch(() => undefined))?.uid : undefined;
}
/**
 * The runner's own CARGO_HOME, whose config and credentials its jobs get a copy of (home-top.ts).
 * A nested run (the action used twice in one job) must find the runner's home, not ours.
 */
function originalCargoHome(env, root) {
    const home = (0,external_node_path_.resolve)(env.CARGO_HOME || (0,external_node_path_.join)(env.HOME || (0,external_node_os_.homedir)(), '.cargo'));
    return home === root || home.startsWith(root + external_node_path_.sep) ? undefined : home;
}

;// CONCATENATED MODULE: ./src/job/exports.ts




/*
 * What a job exports and what its slot's record says, made alike at the job's start (start.ts)
 * and at its end (end.ts), so that a view recorded and a view expected compare equal.
 */
/**
 * What every later step sees, and the one rule for it: anything that needs to know the paths a
 * job's build sees (a slot's CARGO_HOME string, say) computes them here.
 * CARGO_BUILD_BUILD_DIR (Rust 1.91+) is set to the target dir, which is cargo's own default: a
 * repository's `build.build-dir` would otherwise send every job's intermediate artifacts to one
 * shared directory outside the slot (an environment variable beats a config file). Equal to the
 * target dir, cargo's locks, the guard's sizes and every removal already cover it, in cargo <=
 * 1.95 and in 1.96+'s split build-dir locks, on build-dir layout v1 and v2 (1.100+). CARGO_HOME is the uid's shared home or a private
 * one (cargo-home.ts); CARGO_INSTALL_ROOT keeps `cargo install` in the slot.
 */
function exportsFor(dirs, cargoHome) {
    return {
        CARGO_TARGET_DIR: dirs.target,
        CARGO_BUILD_BUILD_DIR: dirs.target,
        CARGO_HOME: cargoHome,
        CARGO_INSTALL_ROOT: dirs.install,
        TMPDIR: dirs.tmp,
        TMP: dirs.tmp,
        TEMP: dirs.tmp,
    };
}
/**
 * The paths a job whose steps see the root at `vp` sees in slot `name`: its exports there, through
 * exportsFor and nothing else, so that a view recorded and a view expected are made alike.
 * `shared`: the job gets its uid's shared CARGO_HOME, else the slot's private one (cargo-home.ts).
 */
function viewAt(vp, name, shared) {
    const dirs = layout_slotDirs(vp.root, name);
    const e = exportsFor(dirs, homeFor(vp.root, dirs, vp.uid, shared));
    return { root: vp.root, uid: vp.uid, cargoHome: e.CARGO_HOME, target: e.CARGO_TARGET_DIR };
}
/**
 * The view the slot's content was built under once this job ends: the one its build showed in
 * cargo's dep-info (pool/view.ts) when it compiled anything, else the content's view at the lease.
 * A build under paths that are not the slot's at any root (a `docker run` step mounting it
 * elsewhere) leaves the view unknown.
 */
function viewAfter(j) {
    const shared = j.home?.shared ?? false;
    const buildDir = layout_slotDirs(j.root, j.slot).target;
    const seen = builtSince(buildDir, j.startedAt);
    if (!seen)
        return j.view;
    const root = rootSeen(seen.output, j.root, buildDir);
    return root === undefined ? undefined : viewAt({ root, uid: seen.uid }, j.slot, shared);
}
function recordFor(lease, me, now, previous, view) {
    return {
        format: 1,
        name: lease.name,
        layout: lease.layout,
        repository: me.repository,
        key: me.key,
        runnerId: me.runnerId,
        runnerName: me.runnerName,
        host: me.host,
        workflow: me.workflow,
        runId: me.runId,
        runAttempt: me.runAttempt,
        job: me.job,
        jobKey: me.jobKey || undefined,
        jobUid: me.jobUid,
        leasedAt: now,
        lastUsed: now,
        sizes: previous?.sizes,
        uid: proc_myUid(),
        view,
    };
}

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
        child.on('error', (e) => settle(undefined, new Failure(`Cannot run 'flock' (util-linux) to take ${paths[0]}: ${e.message}. Install util-linux.`, 'environment')));
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
function flock_detach(h) {
    h.child.stdout?.destroy();
    h.child.stderr?.destroy();
    h.child.removeAllListeners();
    h.child.unref();
}
/** True when none of `paths` is locked right now (it takes and drops them: a probe, not a hold). */
function allFree(paths, shared = false) {
    paths = paths.filter((p) => (0,external_node_fs_.existsSync)(p)); // a lock file that does not exist is held by nobody
    if (paths.length === 0)
        return true;
    const r = (0,external_node_child_process_namespaceObject.spawnSync)('flock', flockArgs(paths, { shared }, ['true']), { stdio: 'ignore' });
    if (r.error)
        throw new Failure(`Cannot run 'flock' (util-linux): ${r.error.message}. Install util-linux.`, 'environment');
    return r.status === 0;
}
/** allFree without blocking this process: its flock runs while the caller does other work. */
function flock_probeFree(paths, shared = false) {
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
    paths = paths.filter((p) => (0,external_node_fs_.existsSync)(p)); // a lock file that does not exist is held by nobody
    if (paths.length === 0)
        return Promise.resolve(true);
    return new Promise((res, reject) => {
        const child = (0,external_node_child_process_namespaceObject.spawn)('flock', flockArgs(paths, o, ['true']), { stdio: 'ignore' });
        child.on('error', (e) => reject(new Failure(`Cannot run 'flock' (util-linux) on ${paths[0]}: ${e.message}. Install util-linux.`, 'environment')));
        child.on('exit', (code) => res(code === 0));
    });
}
/** `pid` runs and is a `flock` holding `lockPath` (its command line says so): not gone, not a reused pid. */
function isHolder(pid, lockPath) {
    try {
        const cmdline = (0,external_node_fs_.readFileSync)(`/proc/${pid}/cmdline`, 'utf8');
        return cmdline.startsWith('flock\0') && cmdline.includes(`\0${lockPath}\0`);
    }
    catch {
        return false; // already gone
    }
}
/** Kills a detached holder's process group, after checking the pid still is that holder. */
function flock_killHolder(pid, lockPath) {
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

;// CONCATENATED MODULE: ./src/os/fsutil.ts



/*
 * Small file effects every store and record shares: whether something is at a path, the one atomic
 * write (a temp file renamed into place), and the one link-else-copy.
 */
/** True when something (even a dangling symlink) is at the path. */
const fsutil_exists = (p) => external_node_fs_.promises.lstat(p).then(() => true, () => false);
/** The error a uid gets for another uid's files: the cue to leave them to root (owner.ts). */
const fsutil_isPermissionError = (e) => ['EACCES', 'EPERM'].includes(e?.code ?? '');
/**
 * Writes a whole file or nothing: a temp file in the same directory (named so that no glob for
 * the real name, such as node_exporter's `*.prom`, matches it), then rename(2) over the path.
 * The one atomic write: records, the hooks' state, the store's lists, scripts, metrics.
 * With `mode`, the file gets exactly that mode, not narrowed by the umask (node_exporter runs as
 * its own user, a wrapper script must stay executable); without it, 0644 narrowed by the umask.
 */
async function writeAtomic(path, data, mode) {
    const tmp = (0,external_node_path_.join)((0,external_node_path_.dirname)(path), `.${(0,external_node_path_.basename)(path)}.${(0,external_node_crypto_.randomBytes)(4).toString('hex')}.tmp`);
    let step = 'write into';
    try {
        // 'wx': the temp name is new; a link planted there (a directory others write to) is refused, not followed.
        await external_node_fs_.promises.writeFile(tmp, data, { mode: mode ?? 0o644, flag: 'wx' });
        if (mode !== undefined)
            await external_node_fs_.promises.chmod(tmp, mode);
        step = 'rename';
        await external_node_fs_.promises.rename(tmp, path);
    }
    catch (e) {
        await external_node_fs_.promises.rm(tmp, { force: true }).catch(() => undefined);
        // Said of what the caller named: the directory that refused the temp file, or the path it
        // could not replace. The temp file's name would only puzzle whoever reads the message.
        const err = e;
        if (err.code)
            Object.assign(err, step === 'write into' ? { syscall: 'write into', path: (0,external_node_path_.dirname)(path) } : { syscall: 'replace', path });
        throw err;
    }
}
/**
 * Puts `from`'s bytes at `to`, which must not exist: a hard link for 'link' (no bytes written), a
 * copy for 'copy' (a reflink where the filesystem can), and a copy too when the kernel refuses the
 * link; then it says why. The one link-else-copy of the crate and git stores.
 */
async function fsutil_linkOrCopy(from, to, mode) {
    if (mode === 'link') {
        try {
            await external_node_fs_.promises.link(from, to);
            return undefined;
        }
        catch (e) {
            const code = e.code;
            if (code !== 'EXDEV' && code !== 'EPERM')
                throw e;
            await external_node_fs_.promises.copyFile(from, to, external_node_fs_.constants.COPYFILE_FICLONE);
            return code;
        }
    }
    await external_node_fs_.promises.copyFile(from, to, external_node_fs_.constants.COPYFILE_FICLONE);
    return undefined;
}

;// CONCATENATED MODULE: ./src/store/lockfile.ts



/**
 * Pure: the string keys of every `[[package]]` of a Cargo.lock, each package a lookup of its own.
 * Only plain `key = "value"` lines before a package's first sub-table are read: the few keys
 * used here need no TOML library in the bundle. The one Cargo.lock reader of both stores.
 */
function lockPackages(text) {
    return text
        .split(/^\[\[package\]\]\s*$/m)
        .slice(1)
        .map((block) => {
        const head = block.split(/^\[/m)[0];
        return (k) => new RegExp(`^${k}\\s*=\\s*"([^"]*)"\\s*$`, 'm').exec(head)?.[1];
    });
}
/**
 * Pure: the registry packages of a Cargo.lock (format v3 and v4; v1/v2 keep checksums in
 * [metadata] and are ignored: nothing is seeded for them).
 */
function lockfile_parseLock(text) {
    const out = [];
    for (const field of lockPackages(text)) {
        const [name, version, source, checksum] = ['name', 'version', 'source', 'checksum'].map(field);
        const fromRegistry = source !== undefined && (source.startsWith('registry+') || source.startsWith('sparse+'));
        if (name && version && fromRegistry && checksum && /^[0-9a-f]{64}$/.test(checksum))
            out.push({ name, version, source: source, checksum });
    }
    return out;
}
/**
 * Pure: a Cargo.lock's packages split in two: `local`, the names of those without a `source`
 * (the workspace's members and path dependencies, which cargo fingerprints by mtime), and
 * `external`, one `name version source checksum` line per other package (what a dependency
 * archive's key hashes).
 */
function lockDependencies(text) {
    const local = [];
    const external = [];
    for (const field of lockPackages(text)) {
        const [name, version, source, checksum] = ['name', 'version', 'source', 'checksum'].map(field);
        if (!name)
            continue;
        if (source === undefined)
            local.push(name);
        else
            external.push([name, version, source, checksum ?? ''].join(' '));
    }
    return { local, external };
}
/**
 * Pure: what a manifest's text says of where its workspace's root is, where that is plain:
 * `here` for a manifest with a `[workspace]` table (a workspace's root is where it is declared);
 * `alone` for one that names no workspace at all (then its directory is the root unless a
 * manifest above claims it); `ask` for a `workspace = ...` key (a package that names its root,
 * or a workspace written inline), which only cargo reads right.
 */
function workspaceHint(manifest) {
    if (/^\s*workspace\s*=/m.test(manifest))
        return 'ask';
    return /^\s*\[\s*workspace\s*(\.[^\]]*)?\]/m.test(manifest) ? 'here' : 'alone';
}
/**
 * The workspace's Cargo.lock, found the way cargo finds the workspace. Where the manifest says it
 * plainly (workspaceHint: a `[workspace]` table, or a package with no manifest above it), from the
 * manifest; otherwise `cargo locate-project --workspace` run where the build will run, which costs
 * a process and rustup's proxy, 10 to 20 ms of every step's start; when cargo cannot say (no
 * Cargo.toml there), the nearest Cargo.lock above the directory.
 */
async function lockfile_findLockFile(manifestPath, workingDirectory, env) {
    const manifest = manifestPath ? (0,external_node_path_.resolve)(workingDirectory, manifestPath) : nearestAbove(workingDirectory, 'Cargo.toml');
    if (!manifest)
        return undefined;
    const text = await external_node_fs_.promises.readFile(manifest, 'utf8').catch(() => undefined);
    const hint = text === undefined ? 'ask' : workspaceHint(text);
    if (hint === 'here' || (hint === 'alone' && !nearestAbove((0,external_node_path_.dirname)((0,external_node_path_.dirname)(manifest)), 'Cargo.toml'))) {
        const lock = (0,external_node_path_.join)((0,external_node_path_.dirname)(manifest), 'Cargo.lock');
        return (0,external_node_fs_.existsSync)(lock) ? lock : undefined;
    }
    const args = [
        'locate-project',
        '--workspace',
        '--message-format',
        'plain',
        ...(manifestPath ? ['--manifest-path', (0,external_node_path_.resolve)(workingDirectory, manifestPath)] : []),
    ];
    const r = await run_runCommand('cargo', args, 30_000, { cwd: workingDirectory, env });
    if (r.code === 0 && r.stdout.trim()) {
        const lock = (0,external_node_path_.join)((0,external_node_path_.dirname)(r.stdout.trim()), 'Cargo.lock');
        return (0,external_node_fs_.existsSync)(lock) ? lock : undefined;
    }
    for (let d = (0,external_node_path_.resolve)(workingDirectory);; d = (0,external_node_path_.dirname)(d)) {
        if ((0,external_node_fs_.existsSync)((0,external_node_path_.join)(d, 'Cargo.lock')))
            return (0,external_node_path_.join)(d, 'Cargo.lock');
        if ((0,external_node_path_.dirname)(d) === d)
            return undefined;
    }
}
/** The nearest `name` at or above `dir`, or undefined. */
function nearestAbove(dir, name) {
    for (let d = (0,external_node_path_.resolve)(dir);; d = (0,external_node_path_.dirname)(d)) {
        if ((0,external_node_fs_.existsSync)((0,external_node_path_.join)(d, name)))
            return (0,external_node_path_.join)(d, name);
        if ((0,external_node_path_.dirname)(d) === d)
            return undefined;
    }
}
async function readLock(path) {
    return lockfile_parseLock(await fs.readFile(path, 'utf8'));
}
/** cargo's sparse-index path of a crate name (also the layout of registry/index/<dir>/.cache). */
function lockfile_indexPath(name) {
    const n = name.toLowerCase();
    if (n.length <= 2)
        return `${n.length}/${n}`;
    if (n.length === 3)
        return `3/${n[0]}/${n}`;
    return `${n.slice(0, 2)}/${n.slice(2, 4)}/${n}`;
}
/**
 * Pure: does a cached index file (cargo's binary .cache format: a header, then pairs of
 * NUL-terminated version and JSON line) carry this version with this checksum?
 */
function lockfile_indexEntryMatches(buf, version, checksum) {
    return indexChecksums(buf, version).includes(checksum);
}
/** Pure: the checksums a cached index file (the format above) gives for one version. */
function indexChecksums(buf, version) {
    const parts = buf.toString('latin1').split('\0');
    const out = [];
    for (let i = 1; i + 1 < parts.length; i++) {
        if (parts[i] !== version)
            continue;
        try {
            const entry = JSON.parse(Buffer.from(parts[i + 1], 'latin1').toString('utf8'));
            if (entry.vers === version && typeof entry.cksum === 'string')
                out.push(entry.cksum);
        }
        catch {
            /* not a JSON line: keep looking */
        }
    }
    return out;
}

;// CONCATENATED MODULE: ./src/store/dir-names.ts





/*
 * cargo's directory names, learned rather than computed. cargo names a registry's index dir
 * (registry/index/<name>) and a git dependency's database (git/db/<name>) by a hash of the source
 * whose inputs change between cargo versions. So a publisher writes down the names its cargo
 * used, per cargo version and source, in <store>/dirs/, and a seeder seeds only under those.
 * The crate store and the git store share this; each keeps its own dirs/ folder.
 */
const record = (dirsDir, version, source) => (0,external_node_path_.join)(dirsDir, `${sha256Hex(`${version}\n${source}`).slice(0, 32)}.json`);
/** A name that stays one directory: no separator, never `.`, `..` or a hidden name. */
const plainName = (d) => /^[A-Za-z0-9._-]+$/.test(d) && !d.startsWith('.');
/** The names publishers of `source` with cargo `version` saw; none when nobody has published. */
async function dir_names_knownDirs(dirsDir, version, source) {
    const text = await absent_readTextIfPresent(record(dirsDir, version, source), { notADirectory: 'absent' });
    try {
        return text === undefined ? [] : JSON.parse(text).dirs.filter(plainName);
    }
    catch {
        return []; // not a record this module wrote
    }
}
/**
 * Adds `dir` to what is known for `source` and cargo `version`. `field` names the source in the
 * record as each store has always written it (`source` for a registry, `url` for a git repository).
 * Two publishers learning at once may each write their own list; either list is correct, and the
 * next publisher adds what the other one lost.
 */
async function learnDir(dirsDir, version, source, dir, field) {
    const known = await dir_names_knownDirs(dirsDir, version, source);
    if (known.includes(dir))
        return;
    const file = record(dirsDir, version, source);
    await external_node_fs_.promises.mkdir((0,external_node_path_.dirname)(file), { recursive: true });
    await writeAtomic(file, JSON.stringify({ version, [field]: source, dirs: [...known, dir] }) + '\n');
}

;// CONCATENATED MODULE: ./src/os/changes.ts



/*
 * What changed in trees since a moment, by the one timestamp no process can set: the inode's
 * change time (ctime). A write, a truncate, a chmod, a rename into place, a new link, and
 * `touch -r` putting an mtime back all set it to the current time; nothing sets it to another.
 *
 * Granularity: many filesystems stamp ctime from a coarse clock (one scheduler tick, up to 10 ms,
 * behind the precise one), so a change made just after a moment T can carry a ctime a little
 * before T. Callers therefore record a moment only after SETTLE_MS have passed since their own
 * last write, and ask for changes after that moment (settle.ts of a caller's pass): a later change
 * is then always stamped after it (settle below). A system clock stepped backwards (ctime earlier than a record)
 * is the caller's to detect: a record from the future is not trusted.
 *
 * One `find` over every tree (GNU findutils: -newerct, -printf; it stats each entry without
 * following links); where no `find` runs (a minimal container image), the same walk in-process.
 */
/** Longer than a scheduler tick at HZ=100 (10 ms), the coarsest clock filesystems stamp ctime with. */
const SETTLE_MS = 30;
/**
 * The moment to record once one's own writes are done: the next millisecond. Date.now() is the
 * current millisecond rounded down, and a write made earlier in that same millisecond carries a
 * ctime with its fraction (a file changed at .86 of millisecond T is newer than T), so T itself
 * would make one's own last write look like a later change.
 */
const afterOwnWrites = () => Date.now() + 1;
/**
 * Pure: a file whose ctime is `ctimeMs` has not changed since a record said it was read after
 * `at` (readBefore below). A record from the future proves nothing: the clock was set back.
 */
const unchangedSince = (ctimeMs, at, now) => at <= now + 60_000 && ctimeMs <= at;
/**
 * The moment to record for what is about to be read: SETTLE_MS (and a millisecond) before now, so
 * that a change made while or after it is read, stamped by a clock up to one tick behind, is
 * after the moment; a change just before it may look later, which costs only a second reading.
 */
const readBefore = () => Date.now() - SETTLE_MS - 1;
/** Waits until the clock is past `at + SETTLE_MS`: every change after that is stamped after `at`. */
async function settle(at) {
    const left = at + SETTLE_MS + 1 - Date.now();
    if (left > 0)
        await new Promise((r) => setTimeout(r, left));
}
/**
 * The paths (as given, and every entry below them) changed after `sinceMs`, with their ctime in
 * ms. Two `find`s at once over halves of the list (a host has at least two cores; the walk is
 * mostly system calls), each list in batches no kernel's argument limit refuses.
 */
async function changedSince(paths, sinceMs, o = {}) {
    const out = new Map();
    const batches = [];
    const half = Math.ceil(paths.length / (paths.length > 40 ? 2 : 1));
    for (let i = 0; i < paths.length;) {
        const batch = [];
        for (let size = 0; i < paths.length && size < 100_000 && batch.length < half; i++) {
            batch.push(paths[i]);
            size += paths[i].length + 1;
        }
        batches.push(batch);
    }
    for (let i = 0; i < batches.length; i += 2) {
        const found = await Promise.all(batches.slice(i, i + 2).map((b) => findNewer(b, sinceMs, o.skip)));
        for (const [k, f] of found.entries()) {
            if (f === undefined)
                walkNewer(batches[i + k], sinceMs, out, o.skip);
            else
                for (const [p, t] of f)
                    out.set(p, t);
        }
    }
    return out;
}
/**
 * `find PATHS -newerct @T -printf`; undefined when find cannot run here. Missing paths are
 * skipped; entries named `skip` are not entered (a git checkout's own `.git`).
 */
function findNewer(paths, sinceMs, skip) {
    return new Promise((res) => {
        const at = `@${Math.floor(sinceMs / 1000)}.${String(sinceMs % 1000).padStart(3, '0')}`;
        const pruned = skip ? ['-name', skip, '-prune', '-o'] : [];
        const child = (0,external_node_child_process_namespaceObject.spawn)('find', [...paths, ...pruned, '-newerct', at, '-printf', '%C@\\t%p\\0'], { stdio: ['ignore', 'pipe', 'ignore'] });
        const chunks = [];
        child.stdout.on('data', (d) => chunks.push(d));
        child.on('error', () => res(undefined));
        child.on('close', (code) => {
            // 1: some start point did not exist (told on stderr); the others were still searched.
            if (code !== 0 && code !== 1)
                return res(undefined);
            const m = new Map();
            for (const rec of Buffer.concat(chunks).toString('utf8').split('\0')) {
                const tab = rec.indexOf('\t');
                if (tab > 0)
                    m.set(rec.slice(tab + 1), parseFloat(rec.slice(0, tab)) * 1000);
            }
            res(m);
        });
    });
}
function walkNewer(paths, sinceMs, out, skip) {
    const visit = (p) => {
        if (skip && p.endsWith(`/${skip}`))
            return;
        let st;
        try {
            st = (0,external_node_fs_.lstatSync)(p);
        }
        catch {
            return;
        }
        if (st.ctimeMs > sinceMs)
            out.set(p, st.ctimeMs);
        if (st.isDirectory())
            for (const n of readdirSafe(p))
                visit((0,external_node_path_.join)(p, n));
    };
    for (const p of paths)
        visit(p);
}
function readdirSafe(p) {
    try {
        return (0,external_node_fs_.readdirSync)(p);
    }
    catch {
        return [];
    }
}

;// CONCATENATED MODULE: ./src/store/blob-stamps.ts





/*
 * Which blobs of the crate store one uid found whole (their bytes hash to their name), so that a
 * job's end does not hash every blob of its lock again when nothing changed.
 *
 * The record (`<root>/homes/u<uid>-verified/blobs.json`, beside the sources record of that uid's
 * shared home, job/shared-home.ts) maps a sha256 to a moment `at` read before the blob was hashed
 * (os/changes.ts readBefore). A blob whose ctime is not after `at` is the file that was hashed:
 * every write, chmod, rename over it and new link sets ctime to the current time, and nothing
 * sets it back. A blob changed since, replaced, or linked into a home is hashed again.
 *
 * What trusting a record can cost: a record is only ever asked "is this blob still whole?", to
 * skip a repair. The bytes written into the store are always hashed as they are written
 * (crates.ts publishCrates), and every consumer hashes a blob before it seeds it, so a record
 * that lied (only its own uid can write it) keeps a damaged blob unrepaired, never plants one.
 */
/** A blob not looked at for this long leaves the record (it is hashed again if it is ever needed). */
const KEEP_MS = 30 * 86_400_000;
async function readStamps(file, now) {
    try {
        const r = JSON.parse((await absent_readTextIfPresent(file)) ?? '{}');
        if (r.format !== 1 || typeof r.blobs !== 'object' || r.blobs === null)
            return {};
        return Object.fromEntries(Object.entries(r.blobs).filter((e) => typeof e[1] === 'number' && now - e[1] < KEEP_MS));
    }
    catch {
        return {}; // unreadable or not JSON: every blob is hashed, as without a record
    }
}
/** The stamps kept in `file`; without a file (a private home), every blob is hashed. */
async function blobStamps(file, now = Date.now()) {
    const stamps = file ? await readStamps(file, now) : {};
    let changed = false;
    return {
        async whole(path, sha) {
            const st = await absent_lstatIfPresent(path);
            if (!st?.isFile())
                return false;
            const at = stamps[sha];
            if (at !== undefined && unchangedSince(st.ctimeMs, at, Date.now()))
                return true;
            const before = readBefore();
            const ok = sha256Hex(await external_node_fs_.promises.readFile(path)) === sha;
            if (ok && file) {
                stamps[sha] = before;
                changed = true;
            }
            else if (stamps[sha] !== undefined) {
                delete stamps[sha];
                changed = true;
            }
            return ok;
        },
        async save() {
            if (file && changed)
                await writeAtomic(file, JSON.stringify({ format: 1, blobs: stamps })).catch(() => undefined);
        },
    };
}

;// CONCATENATED MODULE: ./src/store/crates.ts











const blobPath = (root, sha) => (0,external_node_path_.join)(layout_storePaths(root).blobs, sha.slice(0, 2), `${sha}.crate`);
const crateFile = (c) => `${c.name}-${c.version}.crate`;
/** Pure: may this job publish into the host's store? */
function crates_mayPublish(policy, id) {
    return policy === 'always' || (policy === 'trusted' && !id.fork);
}
async function fileSha256(path) {
    const h = (0,external_node_crypto_.createHash)('sha256');
    for await (const chunk of (0,external_node_fs_.createReadStream)(path))
        h.update(chunk);
    return h.digest('hex');
}
/**
 * The version cargo reports where the build will run (rust-toolchain.toml may pick another). Not
 * synchronous: a job's start asks it while its guard and lease wait on their own processes.
 */
async function crates_cargoVersion(cwd, env) {
    const r = await run_runCommand('cargo', ['--version'], 30_000, { cwd, env });
    return r.code === 0 ? /cargo (\S+)/.exec(r.stdout)?.[1] : undefined;
}
/** Writes `data` (or links/copies `from`) at `dest` atomically: a temp name, then rename. */
async function placeAtomically(dest, how, mode) {
    await external_node_fs_.promises.mkdir((0,external_node_path_.dirname)(dest), { recursive: true });
    if ('data' in how)
        return writeAtomic(dest, how.data, mode).then(() => undefined);
    const tmp = (0,external_node_path_.join)((0,external_node_path_.dirname)(dest), `.${(0,external_node_path_.basename)(dest)}.${(0,external_node_crypto_.randomBytes)(4).toString('hex')}.tmp`);
    try {
        const copied = await fsutil_linkOrCopy(how.from, tmp, how.mode);
        await external_node_fs_.promises.rename(tmp, dest);
        return copied;
    }
    catch (e) {
        await external_node_fs_.promises.rm(tmp, { force: true });
        throw e;
    }
}
/** Reads only: a seed's plan. Nothing absent (a warm home) means nothing to place, and no lock to take for it. */
async function crates_planSeed(root, cargoHome, locked, version) {
    const dirsBySource = new Map();
    let unknownDirs = 0;
    for (const s of new Set(locked.map((c) => c.source))) {
        const dirs = await knownDirs(storePaths(root).dirs, version, s);
        if (dirs.length === 0)
            unknownDirs++;
        dirsBySource.set(s, dirs);
    }
    const crates = await Promise.all(locked.map(async (crate) => {
        const dirs = dirsBySource.get(crate.source) ?? [];
        const dests = dirs.map((dir) => join(cargoHome, 'registry', 'cache', dir, crateFile(crate)));
        const absent = (await Promise.all(dests.map(exists))).map((e) => !e);
        return { crate, dirs, dests, absent, inStore: absent.includes(true) && (await exists(blobPath(root, crate.checksum))) };
    }));
    return { crates, unknownDirs };
}
/**
 * Pure: a seed would place nothing. A crate the home lacks and the store has not either (a
 * dependency of another platform's, which cargo never downloads here) gives nothing to place.
 */
const crates_nothingToSeed = (p) => p.crates.every((c) => !c.absent.includes(true) || !c.inStore);
/** Seeds the slot's CARGO_HOME from the store with every locked crate whose bytes check out. */
async function crates_seedCrates(root, cargoHome, locked, version, mode, plan) {
    const { crates, unknownDirs } = plan ?? (await crates_planSeed(root, cargoHome, locked, version));
    const r = {
        locked: locked.length,
        seeded: 0,
        seededBytes: 0,
        present: 0,
        missing: 0,
        mismatches: [],
        indexEntries: 0,
        unknownDirs,
        dirs: 0,
        mode,
        copiedInstead: 0,
    };
    const usedDirs = new Set();
    for (const { crate: c, dirs, dests, absent, inStore } of crates) {
        if (dirs.length === 0)
            continue;
        if (!absent.includes(true)) {
            r.present++; // a warm slot of the same key: nothing to place, nothing to hash
            continue;
        }
        // As planned, even if a publisher added it since: a plan that placed nothing took no lock.
        if (!inStore) {
            r.missing++;
            continue;
        }
        const blob = blobPath(root, c.checksum);
        const st = await ifPresent(blob, () => fs.stat(blob), { notADirectory: 'absent' });
        if (!st) {
            r.missing++;
            continue;
        }
        const actual = await fileSha256(blob);
        if (actual !== c.checksum) {
            r.mismatches.push({
                crate: `${c.name} ${c.version}`,
                why: `store file ${blob} has sha256 ${actual.slice(0, 16)}..., Cargo.lock says ${c.checksum.slice(0, 16)}...: not seeded, cargo downloads it`,
            });
            continue;
        }
        // Every index dir this host has seen for the source: the job's own cargo config (source
        // replacement, a mirror) decides which one it reads; links to the others cost nothing.
        r.dirs = Math.max(r.dirs, dirs.length);
        for (const [i, dir] of dirs.entries()) {
            if (!absent[i])
                continue;
            const code = await placeAtomically(dests[i], { from: blob, mode });
            if (code) {
                // EXDEV: store and slot on different filesystems. EPERM: a store file of another uid
                // (published by a root container job) under fs.protected_hardlinks. A copy of bytes
                // just verified is as good, and private to this slot.
                r.copiedInstead++;
                r.copyReason ??=
                    code === 'EXDEV' ? 'the store is on another filesystem' : `the kernel refused hardlinks to store files of uid ${st.uid} (fs.protected_hardlinks)`;
            }
            usedDirs.add(dir);
            const cached = join(storePaths(root).index, dir, '.cache', indexPath(c.name));
            const slotCached = join(cargoHome, 'registry', 'index', dir, '.cache', indexPath(c.name));
            const buf = await readBytesIfPresent(cached);
            if (buf && indexEntryMatches(buf, c.version, c.checksum) && !(await exists(slotCached))) {
                await placeAtomically(slotCached, { data: buf });
                r.indexEntries++;
            }
        }
        r.seeded++;
        r.seededBytes += st.size;
    }
    // The registry's config.json, once per index dir that received crates.
    for (const dir of usedDirs) {
        const config = join(cargoHome, 'registry', 'index', dir, 'config.json');
        const cfg = (await exists(config)) ? undefined : await readBytesIfPresent(join(storePaths(root).index, dir, 'config.json'));
        if (cfg)
            await placeAtomically(config, { data: cfg });
    }
    return r;
}
/** Adds the slot's verified new .crate files (and their index entries) to the store. */
async function publishCrates(root, cargoHome, locked, version, o = {}) {
    const stamps = o.stamps ?? (await blobStamps(undefined));
    const r = { published: 0, publishedBytes: 0, skipped: 0, mismatches: [], indexEntries: 0 };
    const byFile = new Map();
    for (const c of locked)
        byFile.set(crateFile(c), [...(byFile.get(crateFile(c)) ?? []), c]);
    const cacheRoot = (0,external_node_path_.join)(cargoHome, 'registry', 'cache');
    const learned = new Set();
    const publishedDirs = new Set();
    for (const dir of await absent_listDir(cacheRoot)) {
        for (const f of await absent_listDir((0,external_node_path_.join)(cacheRoot, dir), { notADirectory: 'absent' })) {
            const candidates = byFile.get(f);
            if (!candidates)
                continue; // not in this Cargo.lock: nothing to verify it against
            const path = (0,external_node_path_.join)(cacheRoot, dir, f);
            const st = await absent_lstatIfPresent(path);
            if (!st?.isFile())
                continue;
            // Seeded by hardlink: the slot's file *is* a store file, verified when it was seeded.
            const seeded = await Promise.all(candidates.map((c) => absent_lstatIfPresent(blobPath(root, c.checksum))));
            if (seeded.some((b) => b && b.ino === st.ino && b.dev === st.dev)) {
                r.skipped++;
                continue;
            }
            // Known from the home's check while unchanged; else read once, and those bytes are what
            // is hashed and, if the store lacks them, written: never a second read that could differ.
            let data;
            const known = o.verified?.(`${dir}/${f.slice(0, -'.crate'.length)}`, st.ctimeMs);
            let sha = known && candidates.some((c) => c.checksum === known) ? known : undefined;
            if (!sha) {
                data = await external_node_fs_.promises.readFile(path);
                sha = sha256Hex(data);
            }
            const match = candidates.find((c) => c.checksum === sha);
            if (!match) {
                r.mismatches.push({ crate: f, why: `sha256 ${sha.slice(0, 16)}... is not the Cargo.lock checksum: not published` });
                continue;
            }
            if (!learned.has(`${match.source}\n${dir}`)) {
                // Unwritable (a root job's, not handed back): seeding just does not learn this dir yet.
                await learnDir(layout_storePaths(root).dirs, version, match.source, dir, 'source').catch((e) => {
                    if (!fsutil_isPermissionError(e))
                        throw e;
                });
                learned.add(`${match.source}\n${dir}`);
            }
            const blob = blobPath(root, sha);
            // A store file of that name that does not hash to it was damaged or replaced: repair it.
            if (await stamps.whole(blob, sha)) {
                r.skipped++;
            }
            else {
                data ??= await external_node_fs_.promises.readFile(path);
                if (sha256Hex(data) !== sha) {
                    r.mismatches.push({ crate: f, why: `changed since it was verified as ${sha.slice(0, 16)}...: not published` });
                    continue;
                }
                try {
                    await placeAtomically(blob, { data }, 0o444);
                }
                catch (e) {
                    if (!fsutil_isPermissionError(e))
                        throw e;
                    // A store directory made by a root job that never handed it back: root's gc fixes it.
                    r.mismatches.push({ crate: f, why: `cannot write into ${(0,external_node_path_.dirname)(blob)} (${e.code}; made by another uid): not published` });
                    continue;
                }
                r.published++;
                r.publishedBytes += st.size;
            }
            const storeCached = (0,external_node_path_.join)(layout_storePaths(root).index, dir, '.cache', lockfile_indexPath(match.name));
            const stored = await absent_readBytesIfPresent(storeCached);
            if (!stored || !lockfile_indexEntryMatches(stored, match.version, match.checksum)) {
                const buf = await absent_readBytesIfPresent((0,external_node_path_.join)(cargoHome, 'registry', 'index', dir, '.cache', lockfile_indexPath(match.name)));
                if (buf && lockfile_indexEntryMatches(buf, match.version, match.checksum)) {
                    await placeAtomically(storeCached, { data: buf });
                    r.indexEntries++;
                }
            }
            publishedDirs.add(dir);
        }
    }
    await stamps.save();
    for (const dir of publishedDirs) {
        const storeConfig = (0,external_node_path_.join)(layout_storePaths(root).index, dir, 'config.json');
        const cfg = (await fsutil_exists(storeConfig)) ? undefined : await absent_readBytesIfPresent((0,external_node_path_.join)(cargoHome, 'registry', 'index', dir, 'config.json'));
        if (cfg)
            await placeAtomically(storeConfig, { data: cfg });
    }
    return r;
}
/**
 * Every blob of the store. Only through real directories: a store dir a build replaced by a link
 * (into a slot) is not the store, and an unlink through it would remove a file elsewhere.
 */
async function crateBlobs(root) {
    const { base, blobs } = layout_storePaths(root);
    const out = [];
    if (!(await absent_isDirAt(base)) || !(await absent_isDirAt(blobs)))
        return out;
    for (const sub of await absent_listDir(blobs)) {
        if (!(await absent_isDirAt((0,external_node_path_.join)(blobs, sub))))
            continue;
        for (const f of await absent_listDir((0,external_node_path_.join)(blobs, sub))) {
            const path = (0,external_node_path_.join)(blobs, sub, f);
            const st = await absent_lstatIfPresent(path);
            if (st?.isFile())
                out.push({ path, bytes: st.blocks * 512, lastUsedMs: st.ctimeMs, linked: st.nlink > 1 });
        }
    }
    return out;
}

;// CONCATENATED MODULE: ./src/store/crate-cache.ts


/*
 * Persists the crate store across ephemeral runners with @actions/cache (input `cache`).
 * The module is imported only when the input is on: it triples the bundle's start-up cost.
 * Every failure is a warning: a cache is an optimisation, never a reason to fail a job.
 */
const PREFIX = 'cargo-isolate-crates-v1-';
const cacheKey = (lockText) => `${PREFIX}${sha256Hex(lockText).slice(0, 32)}`;
const cachePaths = (root) => {
    const p = layout_storePaths(root);
    return [p.blobs, p.dirs, p.index];
};
async function crate_cache_restoreStore(root, lockText, log) {
    try {
        const cache = await __nccwpck_require__.e(/* import() */ 305).then(__nccwpck_require__.bind(__nccwpck_require__, 4305));
        if (!cache.isFeatureAvailable()) {
            log.info('cache: the GitHub cache service is not available to this runner; not restoring the crate store.');
            return undefined;
        }
        const hit = await cache.restoreCache(cachePaths(root), cacheKey(lockText), [PREFIX]);
        log.info(hit ? `cache: restored the crate store from ${hit}.` : 'cache: no saved crate store yet.');
        return hit;
    }
    catch (e) {
        log.warning(`cache: restoring the crate store failed (${e.message}); continuing without it.`);
        return undefined;
    }
}
async function saveStore(root, lockText, log) {
    try {
        const cache = await __nccwpck_require__.e(/* import() */ 305).then(__nccwpck_require__.bind(__nccwpck_require__, 4305));
        if (!cache.isFeatureAvailable()) {
            log.info('cache: the GitHub cache service is not available to this runner; not saving the crate store.');
            return false;
        }
        await cache.saveCache(cachePaths(root), cacheKey(lockText));
        log.info(`cache: saved the crate store as ${cacheKey(lockText)}.`);
        return true;
    }
    catch (e) {
        log.warning(`cache: saving the crate store failed (${e.message}); the next job downloads what is missing.`);
        return false;
    }
}

;// CONCATENATED MODULE: ./src/os/audit.ts

function audit_audit(e) {
    const file = process.env.CARGO_ISOLATE_AUDIT;
    if (!file)
        return;
    try {
        (0,external_node_fs_.appendFileSync)(file, JSON.stringify({ t: Date.now(), pid: process.pid, ...e }) + '\n');
    }
    catch {
        /* an audit log must never break a job */
    }
}

;// CONCATENATED MODULE: ./src/os/remove.ts












class remove_OutsideRootError extends Error {
}
/** Refuses anything that is not strictly inside the root, after resolving the parent's symlinks. */
async function assertInsideRoot(root, path) {
    const norm = (0,external_node_path_.normalize)(path);
    const realRoot = await external_node_fs_.promises.realpath(root);
    if (!(0,external_node_path_.isAbsolute)(path) || norm !== path.replace(/\/+$/, '') || ['.', '..', ''].includes((0,external_node_path_.basename)(norm))) {
        throw new remove_OutsideRootError(`Refusing to delete '${path}': not a plain absolute path.`);
    }
    const parent = await absent_ifPresent((0,external_node_path_.dirname)(norm), () => external_node_fs_.promises.realpath((0,external_node_path_.dirname)(norm)), { notADirectory: 'absent' });
    if (parent === undefined)
        return; // parent gone (or unreadable, said once): nothing there to delete
    const inside = parent === realRoot || parent.startsWith(realRoot + external_node_path_.sep);
    if (!inside)
        throw new remove_OutsideRootError(`Refusing to delete '${path}': it resolves outside the root ${realRoot}.`);
    // Inside the root is not enough: a link between the root and the path (a slot's
    // cargo-home/registry made a link into another slot) would move another slot's directory,
    // which the caller's locks do not cover. The root itself may be a link (an administrator's).
    const r = (0,external_node_path_.normalize)(root).replace(/(.)\/+$/, '$1');
    const from = norm.startsWith(r + external_node_path_.sep) ? r : norm.startsWith(realRoot + external_node_path_.sep) ? realRoot : undefined;
    if (from !== undefined && parent !== (0,external_node_path_.join)(realRoot, (0,external_node_path_.relative)(from, (0,external_node_path_.dirname)(norm)))) {
        throw new remove_OutsideRootError(`Refusing to delete '${path}': a symlink below the root leads it to ${parent}.`);
    }
}
/** rm, chmod, sudo: the exit code (-1 when it could not start) and what it said. */
const run = (cmd, args, timeoutMs) => run_runCommand(cmd, args, timeoutMs).then((r) => (r.error ? { code: -1, stderr: r.error.message } : { code: r.code, stderr: r.stderr }));
let sudoChecked;
function sudoAvailable() {
    if (sudoChecked === undefined) {
        sudoChecked = proc_myUid() !== 0 && (0,external_node_child_process_namespaceObject.spawnSync)('sudo', ['-n', 'true'], { stdio: 'ignore', timeout: 5000 }).status === 0;
    }
    return sudoChecked;
}
/**
 * Finds one remaining entry not owned by us, to name it in the warning. Never follows links. What
 * it cannot read is passed over in silence: a deletion just failed there, and its warning says so.
 */
async function foreignEntry(dir, budget = 2000) {
    const me = proc_myUid();
    const queue = [dir];
    while (queue.length && budget-- > 0) {
        const p = queue.shift();
        const st = await external_node_fs_.promises.lstat(p).catch(() => undefined);
        if (!st)
            continue;
        if (st.uid !== me)
            return { path: p, uid: st.uid };
        if (st.isDirectory())
            for (const e of await external_node_fs_.promises.readdir(p).catch(() => []))
                queue.push((0,external_node_path_.join)(p, e));
    }
    return undefined;
}
/** Deletes one entry of the trash; what it cannot delete stays there. */
async function deleteTrashEntry(entry, timeoutMs = DEFAULT_CLEANUP_TIMEOUT_MS) {
    const deadline = Date.now() + timeoutMs;
    const left = () => Math.max(1000, deadline - Date.now());
    const rm = () => run('rm', ['-rf', '--one-file-system', '--', entry], left());
    let r = await rm();
    if (!(await fsutil_exists(entry)))
        return { ok: true };
    // A build (or a crate's tests) left read-only directories: their entries cannot be unlinked
    // until the directory is writable. chmod -R does not follow symlinks met in the walk.
    await run('chmod', ['-R', 'u+rwX', '--', entry], left());
    r = await rm();
    if (!(await fsutil_exists(entry)))
        return { ok: true };
    if (sudoAvailable()) {
        r = await run('sudo', ['-n', 'rm', '-rf', '--one-file-system', '--', entry], left());
        if (!(await fsutil_exists(entry)))
            return { ok: true };
    }
    const foreign = await foreignEntry(entry);
    const why = foreign
        ? `${foreign.path} is owned by uid ${foreign.uid}, not by uid ${proc_myUid()} (files written by a container running as another user?)`
        : r.stderr.trim().split('\n').slice(-1)[0] || 'rm did not finish in time';
    return { ok: false, detail: why };
}
/** Renames `path` into the root's trash under `locks`, then deletes it. */
async function remove_removeTree(root, path, o) {
    const r = await removeTreeInner(root, path, o);
    if (r.outcome !== 'absent') {
        audit_audit({
            event: 'remove',
            path,
            outcome: r.outcome,
            why: o.why,
            evidence: o.locks?.length ? `held ${o.locks.length} lock(s) free of other holders during the rename: ${o.locks.join(', ')}` : "caller's own lease",
        });
    }
    return r;
}
async function removeTreeInner(root, path, o) {
    await assertInsideRoot(root, path);
    if (!(await fsutil_exists(path)))
        return { path, outcome: 'absent' };
    const trash = layout_rootPaths(root).trash;
    await external_node_fs_.promises.mkdir(trash, { recursive: true });
    const entry = (0,external_node_path_.join)(trash, `${Date.now()}-${(0,external_node_crypto_.randomBytes)(3).toString('hex')}-${(0,external_node_path_.basename)(path).slice(0, 60)}`);
    if (o.locks?.length) {
        const h = await flock_hold(o.locks);
        if (!h)
            return { path, outcome: 'live', detail: 'a lease or cargo lock is held' };
        try {
            await assertInsideRoot(root, path); // re-check now that nobody can lease it
            await external_node_fs_.promises.rename(path, entry);
            await o.whileLocked?.();
        }
        catch (e) {
            if (e.code === 'ENOENT')
                return { path, outcome: 'absent' };
            throw e;
        }
        finally {
            await flock_release(h);
        }
    }
    else {
        try {
            await external_node_fs_.promises.rename(path, entry);
        }
        catch (e) {
            if (e.code === 'ENOENT')
                return { path, outcome: 'absent' };
            throw e;
        }
    }
    const d = await deleteTrashEntry(entry, o.timeoutMs);
    return d.ok ? { path, outcome: 'removed' } : { path, outcome: 'left-in-trash', trashPath: entry, detail: d.detail };
}

;// CONCATENATED MODULE: ./src/store/gitstore.ts











const SHA = /^[0-9a-f]{40}$/;
/** Pure: the git packages of a Cargo.lock, one per (URL, commit). */
function gitstore_parseGitLock(text) {
    const out = [];
    const seen = new Set();
    for (const field of lockPackages(text)) {
        const [name, version, source] = ['name', 'version', 'source'].map(field);
        const m = source ? /^git\+([^?#]+)(?:\?[^#]*)?#([0-9a-f]{40})$/.exec(source) : null;
        if (!name || !version || !m)
            continue;
        const key = `${m[1]}#${m[2]}`;
        if (seen.has(key))
            continue; // a workspace of several crates in one repository: one database
        seen.add(key);
        out.push({ name, version, url: m[1], commit: m[2] });
    }
    return out;
}
/** The store's directory for a URL: readable, and distinct for distinct URLs. */
function urlKey(url) {
    const last = url
        .replace(/\/+$/, '')
        .split('/')
        .pop()
        ?.replace(/\.git$/, '') || 'repo';
    return `${key_safeComponent(last, 40)}-${sha256Hex(url).slice(0, 16)}`;
}
const entryPath = (root, url, commit) => (0,external_node_path_.join)(layout_gitStorePaths(root).db, urlKey(url), commit);
const label = (g) => `${g.name} ${g.commit.slice(0, 8)}`;
/**
 * Pure: which locked URL each db dir belongs to. A commit alone can be ambiguous (a fork pinned
 * at a commit of its upstream, both locked): then FETCH_HEAD, then cargo's `<last segment>-`
 * prefix decide; a dir still ambiguous is not published.
 */
function assignDbDirs(dirs, locked) {
    const assigned = new Map();
    const ambiguous = [];
    const norm = (u) => u
        .replace(/\/+$/, '')
        .replace(/\.git$/, '')
        .toLowerCase();
    for (const d of dirs) {
        let urls = [...new Set(locked.filter((g) => d.commits.includes(g.commit)).map((g) => g.url))];
        if (urls.length > 1) {
            const fetched = urls.filter((u) => d.fetchedFrom.some((f) => norm(f) === norm(u)));
            if (fetched.length > 0)
                urls = fetched;
        }
        if (urls.length > 1) {
            const prefix = d.name.replace(/-[0-9a-f]{16}(-shallow)?$/, '').toLowerCase();
            const named = urls.filter((u) => norm(u).split('/').pop() === prefix);
            if (named.length > 0)
                urls = named;
        }
        if (urls.length === 1)
            assigned.set(d.name, urls[0]);
        else if (urls.length > 1)
            ambiguous.push(d.name);
    }
    return { assigned, ambiguous };
}
/**
 * git as a child process with no GIT_* variable of the job's environment: GIT_DIR,
 * GIT_OBJECT_DIRECTORY or GIT_ALTERNATE_OBJECT_DIRECTORIES would make a check read other
 * objects than the ones placed. `safe.directory=*`: store files may belong to another uid.
 */
function gitstore_systemGit(env = process.env, timeoutMs = 600_000) {
    const clean = Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('GIT_')));
    return {
        run(args, o = {}) {
            const r = (0,external_node_child_process_namespaceObject.spawnSync)('git', ['-c', 'safe.directory=*', '-c', 'init.defaultBranch=main', ...args], {
                env: { ...clean, GIT_TERMINAL_PROMPT: '0' },
                input: o.input,
                encoding: 'utf8',
                timeout: timeoutMs,
                maxBuffer: 64 << 20,
            });
            return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
        },
    };
}
const firstLine = (r) => (r.error?.message ?? (r.stderr.trim() || r.stdout.trim()).split('\n').filter((l) => !/^(hint|Checking|notice)/.test(l))[0] ?? `exit ${r.status}`).slice(0, 200);
/** True when git answers at all (hosts without git still build: cargo has libgit2 built in). */
function gitAvailable(git) {
    return git.run(['--version']).status === 0;
}
/**
 * The build runs as the store's owner and may replace a store directory by a symlink (into a
 * slot, out of the root): nothing is listed, written or removed through one. Absent is fine:
 * mkdir makes a real directory.
 */
async function plainDirs(root, ...rel) {
    let p = root;
    for (const c of rel) {
        p = (0,external_node_path_.join)(p, c);
        const st = await absent_lstatIfPresent(p);
        if (st && !st.isDirectory())
            return false;
    }
    return true;
}
async function learnGitDir(root, version, url, dir) {
    if (await plainDirs(root, 'git', 'dirs'))
        await learnDir(layout_gitStorePaths(root).dirs, version, url, dir, 'url');
}
async function packFiles(entry) {
    const out = [];
    for (const name of await absent_listDir(entry)) {
        if (!/^pack-[0-9a-f]{40,64}\.(pack|idx)$/.test(name))
            continue;
        const st = await absent_lstatIfPresent((0,external_node_path_.join)(entry, name));
        if (st?.isFile())
            out.push({ name, path: (0,external_node_path_.join)(entry, name), bytes: st.size, nlink: st.nlink, ctimeMs: st.ctimeMs, uid: st.uid });
    }
    return out;
}
/**
 * Checks a database made by this code, by git's own hashes: the locked commit and its tree
 * resolve, then fsck reads every object (packed ones re-hashed, the pack's trailing checksum
 * verified) and walks from the refs, so a missing or altered object reachable from the locked
 * commit fails it. Undefined when intact; otherwise why not.
 */
function verifyDb(git, gitDir, commit) {
    const tree = git.run(['--git-dir', gitDir, 'rev-parse', '--verify', '--quiet', `${commit}^{tree}`]);
    if (tree.status !== 0)
        return `the locked commit ${commit.slice(0, 12)} or its tree is not in it`;
    // A ref of our own, from the consumer's Cargo.lock: the root of fsck's walk, and it keeps the
    // objects reachable should cargo ever gc this database.
    const ref = git.run(['--git-dir', gitDir, 'update-ref', `refs/cargo-isolate/${commit}`, commit]);
    if (ref.status !== 0)
        return `cannot point a ref at the locked commit ${commit.slice(0, 12)}: ${firstLine(ref)}`;
    const fsck = git.run(['--git-dir', gitDir, 'fsck', '--full', '--no-dangling', '--no-progress']);
    if (fsck.status !== 0)
        return `git fsck failed: ${firstLine(fsck)}`;
    return undefined;
}
/** The db dirs (cargo's names for the URL) this CARGO_HOME lacks, or holds without the locked commit. */
async function dbDirsLacking(git, dbRoot, dirs, commit) {
    const todo = [];
    for (const dir of dirs) {
        const d = join(dbRoot, dir);
        const isDir = (await lstatIfPresent(d))?.isDirectory() ?? false;
        if (!(isDir && git.run(['--git-dir', d, 'cat-file', '-e', `${commit}^{commit}`]).status === 0))
            todo.push(dir);
    }
    return todo;
}
/** Why a store entry does not claim to be this dependency (its entry.json); undefined when it does. */
async function claimRefusal(entry, g) {
    let claimed = {};
    try {
        claimed = JSON.parse(await fs.readFile(join(entry, 'entry.json'), 'utf8'));
    }
    catch {
        /* judged below */
    }
    return claimed.url === g.url && claimed.commit === g.commit ? undefined : `${entry}/entry.json does not name ${g.url} at ${g.commit.slice(0, 12)}`;
}
/**
 * One db dir from the entry's packs: a fresh bare repository beside it, the packs linked or
 * copied in, verified by git (verifyDb), then renamed into place or its packs added to this
 * CARGO_HOME's own database of the URL. Why it was refused, or undefined once seeded.
 */
async function seedDbDir(git, files, dbRoot, dir, g, mode, r) {
    const tmp = join(dbRoot, `.${dir}.seed-${randomBytes(4).toString('hex')}`);
    try {
        await fs.mkdir(dbRoot, { recursive: true });
        const init = git.run(['init', '--quiet', '--bare', tmp]);
        if (init.status !== 0)
            throw new Error(`git init ${tmp}: ${firstLine(init)}`);
        for (const f of files)
            if (await linkOrCopy(f.path, join(tmp, 'objects', 'pack', f.name), mode))
                r.copiedInstead++;
        const refused = verifyDb(git, tmp, g.commit);
        if (refused)
            return refused;
        const dest = join(dbRoot, dir);
        const st = await lstatIfPresent(dest);
        // A symlink a build left in its place (into another slot, say) is removed, never followed.
        if (st && !st.isDirectory())
            await fs.rm(dest, { force: true });
        if (!st?.isDirectory())
            await fs.rename(tmp, dest);
        else {
            // This slot's own database of the URL, without this commit: add the verified pack.
            await fs.mkdir(join(dest, 'objects', 'pack'), { recursive: true });
            for (const f of files)
                await fs.rename(join(tmp, 'objects', 'pack', f.name), join(dest, 'objects', 'pack', f.name));
            git.run(['--git-dir', dest, 'update-ref', `refs/cargo-isolate/${g.commit}`, g.commit]);
        }
        return undefined;
    }
    finally {
        await fs.rm(tmp, { recursive: true, force: true });
    }
}
/** Seeds one locked dependency into every db dir that lacks it; what became of it goes into `r`. */
async function seedOne(root, dbRoot, g, version, mode, git, r) {
    const dirs = await knownDirs(gitStorePaths(root).dirs, version, g.url);
    const entry = entryPath(root, g.url, g.commit);
    if (dirs.length === 0) {
        const why = (await exists(entry))
            ? `no job on this host has published ${g.url} with cargo ${version} yet (the db dir name is learned per version)`
            : 'not in the store yet';
        r.notSeeded.push({ dep: label(g), why: `${why}: cargo fetches it` });
        return;
    }
    const todo = await dbDirsLacking(git, dbRoot, dirs, g.commit);
    if (todo.length === 0) {
        r.present++; // this slot's own database (a warm slot of the same trust domain)
        return;
    }
    const files = await packFiles(entry);
    if (!files.some((f) => f.name.endsWith('.pack'))) {
        r.notSeeded.push({ dep: label(g), why: 'not in the store yet: cargo fetches it' });
        return;
    }
    let refused = await claimRefusal(entry, g);
    for (const dir of todo)
        refused ??= await seedDbDir(git, files, dbRoot, dir, g, mode, r);
    if (refused) {
        r.refused.push({ url: g.url, commit: g.commit });
        r.notSeeded.push({ dep: label(g), why: `store entry ${entry} refused: ${refused}; not seeded, cargo fetches it` });
        return;
    }
    const bytes = files.reduce((n, f) => n + f.bytes, 0);
    r.seeded.push({ dep: label(g), bytes });
    r.seededBytes += bytes;
}
/** Seeds the slot's CARGO_HOME/git/db with every locked commit the store holds intact. */
async function gitstore_seedGit(root, cargoHome, locked, version, mode, git) {
    const r = { locked: locked.length, seeded: [], seededBytes: 0, present: 0, notSeeded: [], refused: [], mode, copiedInstead: 0 };
    if (locked.length === 0)
        return r;
    if (!gitAvailable(git)) {
        for (const g of locked)
            r.notSeeded.push({ dep: label(g), why: "no 'git' program on PATH to verify the store with: cargo fetches it" });
        return r;
    }
    // A link a build left in place of git/ or git/db (into another slot, say): seeding would write
    // there. prepare.ts checks only the top dirs; cargo fetches instead.
    if (!(await plainDirs(cargoHome, 'git', 'db'))) {
        for (const g of locked)
            r.notSeeded.push({ dep: label(g), why: `${join(cargoHome, 'git')} or its db/ is not a directory of this CARGO_HOME (a symlink?): cargo fetches it` });
        return r;
    }
    for (const g of locked)
        await seedOne(root, join(cargoHome, 'git', 'db'), g, version, mode, git, r);
    return r;
}
/** The locked commits each of the job's db dirs holds, and the URLs its FETCH_HEAD names. */
function dbFacts(git, dbRoot, names, locked) {
    const commits = [...new Set(locked.map((g) => g.commit))];
    return Promise.all(names.map(async (name) => {
        const gitDir = (0,external_node_path_.join)(dbRoot, name);
        const check = git.run(['--git-dir', gitDir, 'cat-file', '--batch-check=%(objectname) %(objecttype)'], { input: commits.join('\n') + '\n' });
        const present = check.status === 0
            ? check.stdout
                .split('\n')
                .map((l) => l.split(' '))
                .filter(([sha, type]) => SHA.test(sha) && type === 'commit')
                .map(([sha]) => sha)
            : [];
        const head = (await absent_readTextIfPresent((0,external_node_path_.join)(gitDir, 'FETCH_HEAD'))) ?? '';
        const fetchedFrom = [...head.matchAll(/ of (\S+)\s*$/gm)].map((m) => m[1]);
        return { name, commits: present, fetchedFrom };
    }));
}
/**
 * Adds the job's databases of locked commits the store lacks (or holds damaged: `replace`).
 * Each entry is packed by git from the job's database into a temp dir under the store, then
 * renamed into place: a reader sees no entry or a whole one.
 */
async function publishGit(root, cargoHome, locked, version, git, replace = []) {
    const r = { published: [], publishedBytes: 0, skipped: 0, notPublished: [] };
    if (locked.length === 0)
        return r;
    if (!gitAvailable(git)) {
        for (const g of locked)
            r.notPublished.push({ dep: label(g), why: "no 'git' program on PATH" });
        return r;
    }
    const dbRoot = (0,external_node_path_.join)(cargoHome, 'git', 'db');
    const names = (await absent_listDir(dbRoot)).filter((n) => !n.startsWith('.'));
    const facts = await dbFacts(git, dbRoot, names, locked);
    const { assigned, ambiguous } = assignDbDirs(facts, locked);
    for (const g of locked) {
        const dirs = facts.filter((d) => assigned.get(d.name) === g.url && d.commits.includes(g.commit)).map((d) => d.name);
        if (dirs.length === 0) {
            const amb = facts.filter((d) => ambiguous.includes(d.name) && d.commits.includes(g.commit)).map((d) => d.name);
            r.notPublished.push({
                dep: label(g),
                why: amb.length
                    ? `the databases ${amb.join(', ')} hold the commit for several locked URLs: cannot tell which is ${g.url}`
                    : `no database in ${dbRoot} holds the commit (the build did not fetch it)`,
            });
            continue;
        }
        for (const d of dirs) {
            // Unwritable (a root job's, not handed back): seeding just does not learn this dir yet.
            await learnGitDir(root, version, g.url, d).catch((e) => {
                if (!fsutil_isPermissionError(e))
                    throw e;
            });
        }
        const entry = entryPath(root, g.url, g.commit);
        const mustReplace = replace.some((x) => x.url === g.url && x.commit === g.commit);
        if ((await fsutil_exists(entry)) && !mustReplace) {
            r.skipped++;
            continue;
        }
        if (!(await plainDirs(root, 'git', 'db', urlKey(g.url)))) {
            r.notPublished.push({ dep: label(g), why: `${(0,external_node_path_.dirname)(entry)} is not a directory of the store (a symlink?): not published` });
            continue;
        }
        const tmp = (0,external_node_path_.join)((0,external_node_path_.dirname)(entry), `.tmp-${g.commit.slice(0, 12)}-${(0,external_node_crypto_.randomBytes)(4).toString('hex')}`);
        try {
            await external_node_fs_.promises.mkdir(tmp, { recursive: true });
            const pack = git.run(['--git-dir', (0,external_node_path_.join)(dbRoot, dirs[0]), 'pack-objects', '--quiet', '--revs', (0,external_node_path_.join)(tmp, 'pack')], { input: `${g.commit}\n` });
            if (pack.status !== 0)
                throw new Error(`git pack-objects in ${(0,external_node_path_.join)(dbRoot, dirs[0])}: ${firstLine(pack)}`);
            await external_node_fs_.promises.writeFile((0,external_node_path_.join)(tmp, 'entry.json'), JSON.stringify({ url: g.url, commit: g.commit, version, publishedAt: new Date().toISOString() }) + '\n');
            const files = await packFiles(tmp);
            for (const f of [...files.map((x) => x.path), (0,external_node_path_.join)(tmp, 'entry.json')])
                await external_node_fs_.promises.chmod(f, 0o444);
            await external_node_fs_.promises.chmod(tmp, 0o755);
            if (mustReplace && (await fsutil_exists(entry)))
                await remove_removeTree(root, entry, { why: 'git store: an entry being replaced', timeoutMs: 60_000 });
            try {
                await external_node_fs_.promises.rename(tmp, entry);
            }
            catch (e) {
                if (!['ENOTEMPTY', 'EEXIST'].includes(e.code ?? ''))
                    throw e;
                r.skipped++; // another job published it meanwhile: one intact entry either way
                continue;
            }
            const bytes = files.reduce((n, f) => n + f.bytes, 0);
            r.published.push({ dep: label(g), bytes });
            r.publishedBytes += bytes;
        }
        catch (e) {
            r.notPublished.push({
                dep: label(g),
                why: fsutil_isPermissionError(e) ? `cannot write into ${(0,external_node_path_.dirname)(entry)} (made by another uid): not published` : e.message,
            });
        }
        finally {
            await external_node_fs_.promises.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
        }
    }
    return r;
}
/** Every entry of the store (and the temp dirs of publishers that died, as old as their ctime). */
async function gitEntries(root) {
    const out = [];
    const db = layout_gitStorePaths(root).db;
    if (!(await plainDirs(root, 'git', 'db')))
        return out;
    for (const key of await absent_listDir(db)) {
        if (!(await absent_lstatIfPresent((0,external_node_path_.join)(db, key)))?.isDirectory())
            continue;
        for (const commit of await absent_listDir((0,external_node_path_.join)(db, key))) {
            const path = (0,external_node_path_.join)(db, key, commit);
            const st = await absent_lstatIfPresent(path);
            if (!st?.isDirectory())
                continue;
            const files = await packFiles(path);
            // Linking and unlinking change a file's ctime: the newest ctime is the last seeding.
            out.push({
                path,
                bytes: files.reduce((n, f) => n + f.bytes, 0),
                lastUsedMs: Math.max(st.ctimeMs, ...files.map((f) => f.ctimeMs)),
                linked: files.some((f) => f.nlink > 1),
            });
        }
    }
    return out;
}

;// CONCATENATED MODULE: ./src/job/dependencies.ts








/**
 * Where the job's Cargo.lock is and which cargo builds it: a question that may cost two processes
 * (`cargo locate-project`, `cargo --version`: rustup's proxy each time), asked as a job starts
 * (mainJob) and answered while its guard and its lease wait for their own processes and locks.
 */
async function findWorkspace(s, env) {
    const lockFile = await findLockFile(s.manifestPath, s.workingDirectory, env);
    return lockFile ? { lockFile, version: await cargoVersion(dirname(lockFile), env) } : {};
}
/** Seeds the new CARGO_HOME from the host's store with the crates of the workspace's Cargo.lock (findWorkspace). */
async function dependencies_prepareCrates(s, root, cargoHome, me, env, log, workspace = findWorkspace(s, env)) {
    const state = {
        search: { manifestPath: s.manifestPath, workingDirectory: s.workingDirectory },
        publish: mayPublish(s.publishCrates, me),
        policy: s.publishCrates,
        cache: s.cache,
    };
    const { lockFile, version } = await workspace;
    if (!lockFile) {
        log.info(`Crates: no Cargo.lock found from ${s.manifestPath ?? s.workingDirectory}; ` +
            "nothing to seed (set 'working-directory' or 'manifest-path' if the workspace is elsewhere).");
        return state;
    }
    if (!version) {
        log.warning(`Crates: 'cargo --version' failed in ${dirname(lockFile)}; not seeding crates.`);
        return state;
    }
    // One read serves the cache key, the registry crates and the git dependencies.
    const lockText = await fs.readFile(lockFile, 'utf8');
    if (s.cache)
        await restoreStore(root, lockText, log);
    const locked = parseLock(lockText);
    const plan = await planSeed(root, cargoHome, locked, version);
    // Seeding writes where cargo downloads: under cargo's own download lock of that home, as a
    // second cargo would (another job of this uid may be resolving in the shared home right now).
    // A home that holds every locked crate already (a warm one) gets no write: no lock to wait for.
    const writes = !nothingToSeed(plan) || parseGitLock(lockText).length > 0;
    const downloadLock = writes ? await hold([join(cargoHome, '.package-cache')], { waitSeconds: 120 }) : undefined;
    if (writes && !downloadLock) {
        log.warning(`Crates: another cargo held ${join(cargoHome, '.package-cache')} for 120 s; not seeding (cargo downloads what it needs).`);
        return { ...state, lockFile, cargoVersion: version };
    }
    try {
        const seed = await seedCrates(root, cargoHome, locked, version, me.fork ? 'copy' : 'link', writes ? undefined : plan);
        seed.lockFile = lockFile;
        const how = [
            formatBytes(seed.seededBytes),
            seed.mode,
            seed.copiedInstead && `${seed.copiedInstead} copied because ${seed.copyReason}`,
            seed.dirs > 1 && `into ${seed.dirs} index dirs`,
        ].filter(Boolean);
        const unknown = seed.unknownDirs ? `, ${seed.unknownDirs} registries this host has not published for cargo ${version} yet` : '';
        log.info(`Crates: ${lockFile} locks ${seed.locked} registry crates; seeded ${seed.seeded} (${how.join(', ')}), ` +
            `${seed.present} already there, ${seed.missing} not in the store yet${unknown}.`);
        for (const m of seed.mismatches)
            log.warning(`Crates: ${m.crate}: ${m.why}.`);
        const gitSeed = await prepareGit(root, cargoHome, lockText, version, me, env, log);
        return { ...state, lockFile, cargoVersion: version, seed, gitSeed };
    }
    finally {
        if (downloadLock)
            await release(downloadLock);
    }
}
/** Seeds the locked git dependencies; a failure is a warning: cargo then fetches them itself. */
async function prepareGit(root, cargoHome, lockText, version, me, env, log) {
    try {
        const locked = parseGitLock(lockText);
        if (locked.length === 0)
            return undefined;
        const r = await seedGit(root, cargoHome, locked, version, me.fork ? 'copy' : 'link', systemGit(env));
        log.info(`Git: ${locked.length} locked git dependencies; seeded ${r.seeded.length} ` +
            `(${formatBytes(r.seededBytes)}, ${r.mode}${r.copiedInstead ? `, ${r.copiedInstead} files copied instead` : ''}), ${r.present} already there.`);
        // A refused entry is a warning (someone damaged the store); an absent one is routine.
        for (const n of r.notSeeded) {
            if (n.why.includes(' refused: '))
                log.warning(`Git: ${n.dep}: ${n.why}.`);
            else
                log.info(`Git: ${n.dep}: ${n.why}.`);
        }
        return r;
    }
    catch (e) {
        log.warning(`Git: seeding git dependencies into ${join(cargoHome, 'git', 'db')} failed (${e.message}); cargo fetches them.`);
        return undefined;
    }
}
/**
 * Post's lock file: main's, else found again (the job's build may have made one), read once;
 * cargo's version only where something may be published (it costs a `cargo --version`).
 */
async function postLock(c, env) {
    const lockFile = c.lockFile ?? (await lockfile_findLockFile(c.search.manifestPath, c.search.workingDirectory, env));
    if (!lockFile)
        return undefined;
    const text = await external_node_fs_.promises.readFile(lockFile, 'utf8');
    return { file: lockFile, text, version: c.publish ? (c.cargoVersion ?? (await crates_cargoVersion((0,external_node_path_.dirname)(lockFile), env))) : undefined };
}

;// CONCATENATED MODULE: external "node:timers/promises"
const promises_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:timers/promises");
;// CONCATENATED MODULE: ./src/model/record.ts
/*
 * What a slot remembers in its slot.json: who used it last (trust domain, job, runner, uid), when,
 * what it holds and how big, under which paths its build was made (the view), and where a warm copy
 * came from. Plain data with the pure reads other modules decide on.
 */
const record_trustDomain = (r) => `${r.repository}#${r.key}`;
const parsed = new Map();
/**
 * A record's `lastUsed` in ms since the epoch, 0 when absent or unreadable. Memoised: the chooser
 * and the guard compare it many times per decision, and the fleet simulation makes thousands.
 */
function record_lastUsedMs(r) {
    if (!r)
        return 0;
    let t = parsed.get(r.lastUsed);
    if (t === undefined) {
        if (parsed.size > 4096)
            parsed.clear();
        t = Date.parse(r.lastUsed) || 0;
        parsed.set(r.lastUsed, t);
    }
    return t;
}

;// CONCATENATED MODULE: ./src/pool/value.ts


/*
 * What an idle warm build is worth, from what this host knows. The pool is a cache whose budget
 * is the disk; when something must go (the guard over its threshold, a job that must wipe a free
 * slot), the build worth least goes first, and a build worth nothing goes before anything else.
 *
 *   value = √saving / size / time to its next use
 *
 * because what a slot costs is disk for a while and what it pays is a warm start when its key
 * and job come back:
 *
 * - saving: what a warm start of that job saves, its cold leases' duration minus its warm ones'
 *   (moving averages over the host's history, `<root>/warmth.jsonl`, where post writes each
 *   job's lease time and units built and fresh). A job not seen cold yet counts as its
 *   repository's typical job. It enters as its square root: lease times are noisy (a cancelled
 *   build, a cold start with sccache hits, tests that dominate the lease), and every cold start
 *   is a slow CI round whatever it costs. Measured on the fleet simulation: weighing the saving
 *   in full keeps 10% fewer jobs warm for 2% less compile time; ignoring it keeps no compile
 *   time, and would lose it on fleets whose jobs differ more in cost per GiB. The root keeps
 *   both within about 1% of their best.
 * - size: the target dir as the last post step recorded it. Targets differ 20x (0.5 to 12 GiB):
 *   under pressure one big build of little use can hold the place of five small ones.
 * - time to the next use: the longer of the key's mean time between runs and how long it has
 *   been idle. Pushes come in bursts, but a key idle for longer than its usual gap is probably
 *   done (merged, abandoned), and its value keeps falling with its idle time: idle keys age out
 *   by themselves. A key with one run so far counts as its repository's typical key. The base
 *   branch's builds are also the start of every first run of its repository (choose.ts, tier
 *   `base`): its rate adds the repository's rate of first runs.
 * - a PR the host was told has closed (a `pull_request: closed` run of the action or
 *   `cargo-isolate forget`) is worth nothing, until it runs again (reopened).
 * - an older build of the same key and job, when a newer one is idle too, is worth nothing: the
 *   job comes back to the newest (the base branch's older builds excepted: first runs take them).
 *
 * Values within 25% of each other count as equal (valueRank); between equals the least recently
 * used goes first. Measured sizes and times are noisy, and a near tie is better decided by age
 * than by a few percent of jitter. docs/simulation.md measures the rule against plain LRU and a
 * clairvoyant reference on traces it was not tuned on.
 */
const GiB = 2 ** 30;
const HOUR = 3_600_000;
/** Before the host has seen any job cold: a typical CI build. */
const DEFAULT_SAVING_MS = 10 * 60_000;
/** Before the host has seen any key run twice. */
const DEFAULT_GAP_MS = 2 * HOUR;
/** A slot whose post step never recorded its size (killed job). */
const DEFAULT_BYTES = GiB;
/** Weight of the latest lease in the moving averages: recent builds say most about the next. */
const ALPHA = 0.3;
/** Run ids remembered per key to count distinct runs (a run's jobs end at different times). */
const RUNS_KEPT = 8;
const emptyStats = () => ({
    keys: new Map(),
    jobs: new Map(),
    closed: new Map(),
    bases: new Set(),
    firstRuns: new Map(),
    runners: new Map(),
    largest: 0,
    version: 0,
});
const domainOf = (repository, key) => `${repository}#${key}`;
const jobOf = (r) => `${r.repository}|${r.workflow ?? ''}|${r.job}|${r.jobKey ?? ''}`;
const ewma = (prev, x) => (prev === undefined ? x : prev + ALPHA * (x - prev));
/** Adds one job's line (in time order). The accumulator is what the value rule reads. */
function addEntry(s, e) {
    const t = Date.parse(e.t);
    if (!Number.isFinite(t))
        return;
    s.version++;
    const id = domainOf(e.repository, e.key);
    // Entries of older versions carry no run id: jobs ending within 10 minutes count as one run.
    const run = e.run ?? `t${Math.floor(t / 600_000)}`;
    let k = s.keys.get(id);
    if (!k) {
        k = { runs: 0, recent: [], first: t, last: t };
        s.keys.set(id, k);
        if (e.base) {
            const f = s.firstRuns.get(e.repository) ?? { n: 0, since: t };
            f.n++;
            s.firstRuns.set(e.repository, f);
        }
    }
    if (!k.recent.includes(run)) {
        k.runs++;
        k.recent.push(run);
        if (k.recent.length > RUNS_KEPT)
            k.recent.shift();
        k.last = Math.max(k.last, t);
    }
    if (e.base) {
        k.base = e.base;
        s.bases.add(domainOf(e.repository, e.base));
    }
    if (e.runner !== undefined)
        s.runners.set(e.runner, Math.max(s.runners.get(e.runner) ?? t, t));
    if (e.target !== undefined && e.target > s.largest)
        s.largest = e.target;
    // A run after the close: the PR was reopened.
    if ((s.closed.get(id) ?? Infinity) < t)
        s.closed.delete(id);
    if (e.ms !== undefined && e.ms > 0 && e.built + e.fresh > 0) {
        const j = s.jobs.get(jobOf(e)) ?? {};
        if (startedWarm(e))
            j.warm = ewma(j.warm, e.ms);
        else
            j.cold = ewma(j.cold, e.ms);
        s.jobs.set(jobOf(e), j);
    }
}
/** A PR (or any key) said to be closed at `tMs`. */
function addClosed(s, repository, key, tMs) {
    s.version++;
    s.closed.set(domainOf(repository, key), tMs);
}
/** The accumulator over a whole history, oldest first. */
function statsOf(entries, closed = []) {
    const s = emptyStats();
    const all = [
        ...entries.map((e) => ({ c: false, e })),
        ...closed.map((e) => ({ c: true, e })),
    ];
    all.sort((a, b) => a.e.t.localeCompare(b.e.t));
    for (const x of all) {
        if (x.c)
            addClosed(s, x.e.repository, x.e.key, Date.parse(x.e.t));
        else
            addEntry(s, x.e);
    }
    return s;
}
const median = (xs) => {
    if (xs.length === 0)
        return undefined;
    const v = [...xs].sort((a, b) => a - b);
    return v[Math.floor((v.length - 1) / 2)];
};
/** Typical gap between runs and typical saving per repository (the fallbacks), once per version of the stats. */
function typical(s) {
    if (s.typical?.version !== s.version)
        s.typical = { version: s.version, of: typicalNow(s) };
    return s.typical.of;
}
function typicalNow(s) {
    const gaps = new Map();
    const all = [];
    for (const [id, k] of s.keys) {
        if (k.runs < 2)
            continue;
        const g = (k.last - k.first) / (k.runs - 1);
        const repo = id.slice(0, id.lastIndexOf('#'));
        (gaps.get(repo) ?? gaps.set(repo, []).get(repo)).push(g);
        all.push(g);
    }
    const savings = new Map();
    const allSavings = [];
    for (const [id, j] of s.jobs) {
        if (j.cold === undefined)
            continue;
        const v = saving(j);
        const repo = id.slice(0, id.indexOf('|'));
        (savings.get(repo) ?? savings.set(repo, []).get(repo)).push(v);
        allSavings.push(v);
    }
    const hostGap = median(all) ?? DEFAULT_GAP_MS;
    const hostSaving = median(allSavings) ?? DEFAULT_SAVING_MS;
    const repoGap = new Map([...gaps].map(([r, g]) => [r, median(g)]));
    const repoSaving = new Map([...savings].map(([r, v]) => [r, median(v)]));
    return { gap: (repo) => repoGap.get(repo) ?? hostGap, saving: (repo) => repoSaving.get(repo) ?? hostSaving };
}
/** What a warm start saves: cold minus warm, never less than a tenth of a cold start (noise). */
const saving = (j) => Math.max((j.cold ?? 0) - (j.warm ?? 0), (j.cold ?? 0) / 10);
/**
 * A merge-queue entry's content (GitHub names its branch `gh-readonly-queue/<base>/pr-<n>-<sha>`,
 * so its key is `ref-gh-readonly-queue-...+<hash>`, see key.ts). Every entry is a branch of its
 * own that no later run uses again: once its run has ended, it is the least valuable content on
 * the host, and the first to go.
 */
const spentQueueEntry = (r) => r.key.startsWith('ref-gh-readonly-queue-') && r.key.includes('+');
/**
 * Holds nothing another job could start warm from, as its record says: no record (the next user
 * wipes it), a target the guard pruned (or that a job left empty), or a merge-queue entry whose
 * run has ended. Worth 0 (slotValues), like a closed PR's build and an older copy.
 */
const value_worthless = (r) => !r || r.prunedAt !== undefined || r.sizes?.target === 0 || spentQueueEntry(r);
/** Pure: nothing another job could start warm from: its record says so, or its value is 0 (a closed PR's, an older copy). */
const worthNothing = (s) => value_worthless(s.record) || s.value === 0;
const worthKey = (w) => ({ spent: Number(w.key !== undefined && spentQueueEntry({ key: w.key })), rank: valueRank(w.value) });
/**
 * Pure: the one order of worth, least first, which the chooser (a free slot to wipe) and the guard
 * (an idle build to remove) both follow: a spent merge-queue entry before anything (its bytes come
 * back and no run asks for it again), then by value, values within 25% as equal (valueRank), the
 * unknown last. 0 for equals: the caller's tie-breaks follow.
 */
const byWorth = (a, b) => b.spent - a.spent || a.rank - b.rank || 0;
/**
 * Pure: the value of every idle slot's build (live slots get none: the chooser and the guard never
 * weigh them). A build `worthless` by its record is worth 0.
 */
function slotValues(slots, s, nowMs) {
    const out = new Map();
    const ty = typical(s);
    const idle = [];
    const newest = new Map();
    for (const x of slots) {
        if (x.live)
            continue;
        const r = x.record;
        if (!r || value_worthless(r)) {
            out.set(x.name, 0);
            continue;
        }
        const d = derive(r);
        idle.push({ name: x.name, r, d });
        const cur = newest.get(d.entry);
        if (!cur || d.t > cur.t || (d.t === cur.t && x.name < cur.name))
            newest.set(d.entry, { name: x.name, t: d.t });
    }
    for (const { name, r, d } of idle) {
        const isBase = s.bases.has(d.domain);
        const closedAt = s.closed.get(d.domain);
        if ((closedAt !== undefined && closedAt >= d.t) || (!isBase && newest.get(d.entry).name !== name)) {
            out.set(name, 0);
            continue;
        }
        const j = s.jobs.get(d.job);
        const save = j?.cold !== undefined ? saving(j) : ty.saving(r.repository);
        const k = s.keys.get(d.domain);
        const gap = k && k.runs >= 2 ? (k.last - k.first) / (k.runs - 1) : ty.gap(r.repository);
        let rate = 1 / Math.max(gap, 60_000);
        if (isBase) {
            const f = s.firstRuns.get(r.repository);
            if (f)
                rate += f.n / Math.max(nowMs - f.since, HOUR);
        }
        const wait = Math.max(1 / rate, nowMs - d.t, 60_000);
        const bytes = r.sizes?.target || DEFAULT_BYTES;
        out.set(name, Math.sqrt(save / 60_000) / (bytes / GiB) / (wait / HOUR));
    }
    return out;
}
const derived = new WeakMap();
/** The strings a record is looked up by, made once per record object. */
function derive(r) {
    let d = derived.get(r);
    if (!d) {
        const domain = domainOf(r.repository, r.key);
        const job = jobOf(r);
        d = { domain, job, entry: `${domain}|${job}`, t: record_lastUsedMs(r) };
        derived.set(r, d);
    }
    return d;
}
/** Values within 25% of each other share a rank: near ties are decided by age, not by noise. */
const valueRank = (v) => (v === undefined ? Infinity : v <= 0 ? -Infinity : Math.floor(Math.log(v) / Math.log(1.25)));
/**
 * Pure: what each idle archive is worth, by path, in the unit of a build's worth (slotValues), so
 * that the guard weighs both in one order:
 *
 *   value = √saving / size / time to its next restore
 *
 * - saving: what a restore saves against the start its job would make without one: the job's
 *   cold leases as the host saw them (a start at a path its compile cache knows, or truly cold)
 *   less its warm ones. A restored start is a warm start plus the restore itself (bench 11a: 2 to
 *   4 s for 170 MB, every dependency unit fresh), so it saves what a warm build saves.
 * - size: the archive's bytes, about a fifth of the target dir it came from (bench 11a): per byte
 *   an archive holds about five times a build's warm starts.
 * - time to its next restore: an archive serves every start of its job in the trust domains that
 *   read it, its own and, for a base branch's, every PR and first run based on it (trust flows from
 *   a base to its PRs, as for warm copies): the sum of their rates, each the inverse of the longer
 *   of its mean gap between runs and its idle time (an idle key ages out, as for builds), plus the
 *   repository's rate of first runs for a base branch. A start that holds its own warm build does
 *   not restore; the rate counts it anyway, since the host cannot tell which starts will lack
 *   theirs: it says how much an archive is asked for relative to another, and the host tier's cap
 *   (policy.ts `trimArchives`) bounds what the archives of a busy repository may take.
 * - worth nothing: an archive of a closed PR; one whose domain and job have a newer archive (a
 *   start restores its exact key, else the newest of its fallback key; a newer fallback key is a
 *   job that moved on: another toolchain or settings); and a PR's archive of an exact key its base
 *   branch has too (saved before the base's was: every start that reads it reads the base's).
 */
function archiveValues(archives, s, nowMs) {
    const out = new Map();
    const ty = typical(s);
    const sameJob = (a) => `${domainOf(a.repository, a.domain)}|${jobOf(a)}`;
    const newest = new Map();
    for (const a of archives) {
        const cur = newest.get(sameJob(a));
        if (!cur || a.savedMs > cur.savedMs || (a.savedMs === cur.savedMs && a.path < cur.path))
            newest.set(sameJob(a), a);
    }
    // Every key's rate of runs now, and the sum of those based on each base branch.
    const rateOf = (id, k, repository, sinceMs) => {
        // A closed PR runs no more (a run after its close reopened it: addEntry forgot the close).
        if (s.closed.has(id))
            return 0;
        const gap = k && k.runs >= 2 ? (k.last - k.first) / (k.runs - 1) : ty.gap(repository);
        return 1 / Math.max(gap, nowMs - (k?.last ?? sinceMs), 60_000);
    };
    const based = new Map();
    for (const [id, k] of s.keys) {
        if (k.base === undefined)
            continue;
        const repository = id.slice(0, id.lastIndexOf('#'));
        const base = domainOf(repository, k.base);
        based.set(base, (based.get(base) ?? 0) + rateOf(id, k, repository, k.last));
    }
    // Exact keys by domain: a PR's archive of its base's exact key adds nothing to the base's.
    const exactIn = new Set(archives.map((a) => `${domainOf(a.repository, a.domain)}|${a.exact}`));
    for (const a of archives) {
        if (a.live)
            continue;
        const id = domainOf(a.repository, a.domain);
        const closedAt = s.closed.get(id);
        const base = s.keys.get(id)?.base;
        const copyOfBase = base !== undefined && exactIn.has(`${domainOf(a.repository, base)}|${a.exact}`);
        if ((closedAt !== undefined && closedAt >= a.savedMs) || newest.get(sameJob(a)) !== a || copyOfBase) {
            out.set(a.path, 0);
            continue;
        }
        const j = s.jobs.get(jobOf(a));
        const save = j?.cold !== undefined ? saving(j) : ty.saving(a.repository);
        let rate = rateOf(id, s.keys.get(id), a.repository, a.savedMs);
        if (s.bases.has(id)) {
            rate += based.get(id) ?? 0;
            const f = s.firstRuns.get(a.repository);
            if (f)
                rate += f.n / Math.max(nowMs - f.since, HOUR);
        }
        const wait = rate > 0 ? Math.max(1 / rate, 60_000) : Infinity;
        out.set(a.path, wait === Infinity ? 0 : Math.sqrt(save / 60_000) / (Math.max(a.bytes, 1) / GiB) / (wait / HOUR));
    }
    return out;
}

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
const messages_unreliableFlockRoot = (root, fs, fsType) => `The root ${root}: it is on ${fs} (statfs type 0x${(fsType >>> 0).toString(16)}), where flock may not exclude processes on other hosts or VMs: two jobs could lease one slot. Keep the root on a local filesystem.`;
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
const messages_sourcesRepaired = (home, crate, paths) => `CARGO_HOME ${home}: the sources of ${crate} were changed since they were verified (${paths}); repaired from what was verified. A build script writing next to its own sources? See writable-sources.`;
/** The start could not check the shared CARGO_HOME: the job builds with a private one in its slot (job/shared-home.ts). */
const messages_privateHomeAfterAll = (reason, home) => `CARGO_HOME: ${reason}; this job builds with ${home} (registry crates compile again here, and compile-cache keys differ).`;
/** What a `same-job` slot is, in the log's and the summary's slot line (choose.ts TIER_TEXT). */
const SAME_JOB_TIER = 'this job under another PR or branch (emptied; a path sccache knows)';
/** The slot holding this job's warm build is leased by an earlier run worth waiting for (lease.ts). */
const messages_waitingForOwnBuild = (slot, why, seconds) => `Slot ${slot} holds this job's warm build and is still leased by an earlier run (${why}); waiting up to ${seconds} s for it.`;
/** The same, when waiting cannot pay (lease.ts). */
const messages_notWaitingForOwnBuild = (slot, why) => `Slot ${slot} holds this job's warm build but is leased by an earlier run: ${why}, so waiting cannot pay; taking the next-best slot now.`;
/** A slot without a lease where cargo still holds its locks: passed over (lease.ts). */
const messages_cargoStillInSlot = (slot) => `Slot ${slot} has no lease but cargo still holds its locks (a build left running by a cancelled job?); not using it.`;
/** A slot holding a container job's files the completed hook could not give back: passed over (lease.ts). */
const messages_containerFilesInSlot = (o) => `Slot ${o.slot} holds files of uid ${o.uid} from a container job's build (seen at ${o.seenAt}) that were never handed back to uid ${o.me} (the completed hook could use neither docker nor sudo?); passing it over, so this job does not start from that build. A root job or 'cargo-isolate gc' run as root hands them back; see docs/runner-hooks.md.`;
/** A slot holding another uid's files below its directories, from a `docker run` step: passed over (lease.ts). */
const messages_stepFilesInSlot = (o) => `Slot ${o.slot} holds files of ${o.files} where cargo of uid ${o.me} must write (a \`docker run\` step as root, without --user?); passing it over. A root job or 'cargo-isolate gc' run as root hands them back; see docs/docker-run.md.`;
/** A slot holding a root container job's files, its post step never run: passed over (lease.ts). */
const messages_rootJobFilesInSlot = (o) => `Slot ${o.slot} holds files of uid ${o.uid} that were never handed back to uid ${o.me} (a root container job whose post step did not run); passing it over. A root job or 'cargo-isolate gc' run as root cleans it.`;
/** Idle data the guard could not remove because another uid's files are in it (guard.ts). */
const messages_idleNeedsRoot = (count, bytes, me) => `${count} idle entries (${bytes}) hold files of another uid that uid ${me} cannot remove: root container jobs whose post step did not hand them back, or \`docker run\` steps as root (docs/docker-run.md). Run 'cargo-isolate gc' as root (the systemd timer in the README) to remove them.`;
/** The guard removed all it may and the disk is still over its threshold (guard.ts). */
const messages_stillOverThreshold = (o) => `The disk of ${o.root} is still over the threshold ${o.threshold} after pruning (${o.disk}). Live jobs hold ${o.live}; idle data of other runners and the host's dependency archives holds ${o.others}` +
    (o.scoped ? ", left to the host's gc timer (prune-scope: runner)." : '.');
/** Less free than `fail-below` after pruning: the job fails now (guard.ts). */
const messages_belowFailBelow = (o) => `Only ${o.free} free on ${o.root} after pruning, below 'fail-below' (${o.floor}): failing now rather than inside rustc later. Live jobs hold ${o.live}; other runners' idle data holds ${o.others}.`;
/** The shared directory of `archive-store` is not there: never created, so an unmounted mount point does not fill the host's disk (fleet-dir.ts). */
const fleetStoreNotMounted = (store, why) => `${store} cannot be read (${why}): is the shared filesystem mounted? A missing store is never created, so that an unmounted mount point does not fill this host's disk`;
/** The share maps this job's uid to another (NFS's root squashing): what it wrote there, its jobs would refuse (fleet-dir.ts). */
const fleetStoreMapsUid = (dir, owner, uid) => `${dir} belongs to uid ${owner}, not this job's uid ${uid} (a share that maps this uid to another, such as NFS's root squashing): what this job wrote there, its jobs would refuse`;
/** `archive-store: actions-cache` where no action step runs: the runner hooks, `cargo-isolate run` (fleet-store.ts). */
const actionsCacheNeedsToken = (who) => `the Actions cache service needs the runtime token that only a workflow's action steps get, which ${who}: the host tier only here (a shared directory works everywhere)`;

;// CONCATENATED MODULE: ./src/pool/choose.ts



/** What each rule means, for the log and the job summary. */
const TIER_TEXT = {
    'own-job': 'this PR or branch and this job used it last',
    'own-key': 'this PR or branch, another job: the build worth least on the host',
    base: 'a first run from the base branch: a push there, this job',
    // The troubleshooting page quotes it (low sccache hit rates): it lives in the catalog.
    'same-job': SAME_JOB_TIER,
    lru: 'a free slot of another job, the least valuable first',
    new: 'a new slot',
};
const time = record_lastUsedMs;
/** The job as rust-cache keys its caches: workflow, job id and the user's `key` (matrix legs). */
const sameJob = (r, me) => r.workflow === me.workflow && r.job === me.job && (r.jobKey ?? '') === me.jobKey;
/** Content of a push to the job's base branch in the same repository: trusted, may seed a first run. */
const fromBase = (r, me) => me.baseKey !== undefined && r.repository === me.repository && r.key === me.baseKey;
/**
 * Pure: which free slot a job should take, best first. The pool is a cache whose budget is the
 * disk: a warm build is an entry, the guard is the eviction mechanism, and the chooser never
 * destroys an entry it does not have to, nor one worth more than another it could take.
 *
 * 1. The job's own warm build (own-job), then, for a first run, its base branch's (base).
 * 2. A free slot that holds nothing worth keeping (value.ts `worthNothing`: a pruned or empty
 *    target, a spent merge-queue entry, a closed PR's build, an older copy of a build whose newer
 *    copy is idle too), in the order of worth (value.ts `byWorth`: a spent merge-queue entry first,
 *    its bytes come back), then the same job's path (sccache hits there), then a sibling job's of
 *    its own key (no wipe), then any other.
 * 3. With room (the disk under `disk-target`): nothing else. Every warm build is left alone, a
 *    sibling's included, and the caller makes a new slot.
 *    Under pressure: every other free slot, the least valuable first (`byWorth`), then among equals this job's path, a sibling's of its own key, the
 *    least recently used; whatever job or runner used it.
 * Within a tier the slot this runner used last only breaks ties: GitHub assigns jobs to runners
 * at random. A slot whose build was made under another path view than this job's (`warmFor`: a
 * container's paths for a host job, or the reverse) is none of the job's own content in 1.: a
 * PR's container job and its host job each keep a build of their own.
 *
 * A sibling's warm build (own-key) used to come second, before everything but the job's own.
 * In the fleet simulation that rule lost warm starts wherever the disk was scarce: a job whose
 * own build the guard had removed took a sibling's, the sibling then started cold and took the
 * next one, and the cascade spread (docs/simulation.md). Its content is another job's build,
 * no warmer for this job than a stranger's; it now goes by value like any other.
 *
 * The base branch keeps its most recent slot of each job whenever it has two or more: a first
 * run takes over only the older ones (and only one, since it then has a slot of its own). With a
 * single base slot, the first run takes it: its build is warm, and the base branch's next
 * push starts elsewhere (docs/simulation.md weighs this trade-off on a simulated day).
 * A live slot of this trust domain and job held by an earlier run (or attempt) is a
 * predecessor: `waitFor` names it, and `waitBudget` says how long waiting can pay. A matrix
 * sibling (same run), a later run or another workflow is not waited for.
 */
function rankSlots(slots, me, disk = {}) {
    const mine = record_trustDomain(me);
    const room = disk.room === true;
    const baseOfJob = slots.filter((s) => s.record && fromBase(s.record, me) && sameJob(s.record, me));
    const newestBase = baseOfJob.length >= 2 ? baseOfJob.reduce((a, b) => (time(b.record) > time(a.record) ? b : a)) : undefined;
    const ranked = [];
    for (const s of slots) {
        if (s.live)
            continue;
        const r = s.record;
        const t = time(r);
        const runner = Number(r?.runnerId === me.runnerId);
        const own = r !== undefined && record_trustDomain(r) === mine;
        // A build made under another path view is not warm for this job: it ranks as others' content.
        const fits = choose_warmFor(r?.view, s.view);
        if (fits && own && sameJob(r, me)) {
            ranked.push({ s, tier: 'own-job', rank: 0, t, pref: 0, runner });
            continue;
        }
        if (fits && r && !own && fromBase(r, me) && sameJob(r, me) && s !== newestBase) {
            ranked.push({ s, tier: 'base', rank: 1, t, pref: 0, runner });
            continue;
        }
        const tier = own ? 'own-key' : r && r.repository === me.repository && sameJob(r, me) ? 'same-job' : 'lru';
        // Among equals: this job's path (sccache), then a sibling's (nothing to wipe), then any.
        const pref = tier === 'same-job' ? 0 : tier === 'own-key' ? 1 : 2;
        if (worthNothing(s))
            ranked.push({ s, tier, rank: 2, t, pref, runner, w: worthKey({ key: r?.key, value: s.value }) });
        else if (!room)
            ranked.push({ s, tier, rank: 3, t, pref, runner, w: worthKey({ key: r?.key, value: s.value }) });
    }
    const order = (x, y) => {
        if (x.rank !== y.rank)
            return x.rank - y.rank;
        if (x.rank <= 1)
            return y.runner - x.runner || y.t - x.t;
        // Nothing worth keeping: a spent queue entry first (taking it also gives its bytes back).
        if (x.rank === 2)
            return byWorth(x.w, y.w) || x.pref - y.pref || y.runner - x.runner || x.t - y.t;
        // Evicting: the least valuable content goes first, whoever used it.
        return byWorth(x.w, y.w) || x.pref - y.pref || x.t - y.t || y.runner - x.runner;
    };
    const candidates = ranked.sort((x, y) => order(x, y) || x.s.name.localeCompare(y.s.name)).map(({ s, tier }) => ({ name: s.name, tier }));
    let waitFor;
    if (!candidates.some((c) => c.tier === 'own-job')) {
        const predecessor = slots.find((s) => s.live && s.record && record_trustDomain(s.record) === mine && sameJob(s.record, me) && earlierRun(s.record, me) && choose_warmFor(s.record.view, s.view));
        waitFor = predecessor?.name;
    }
    return { candidates, waitFor };
}
/**
 * Pure: can a build made under `built` be warm for a job that sees `seen` in the same slot? Only
 * when both are the same strings: cargo's fingerprints hash the absolute path of every registry
 * source under CARGO_HOME, so a container's `/__w/_tool/...` build recompiles everything on the
 * host and the reverse. A build whose view nobody could tell (a record of an older version, a
 * `docker run` step mounting the slot elsewhere) counts as warm, as it always did. A job whose own
 * view is not known (the runner's hook, before the job's first build on this host) cannot tell
 * either: it takes no build made under a known view but its own.
 */
function choose_warmFor(built, seen) {
    if (!built)
        return true;
    if (!seen)
        return false;
    return built.cargoHome === seen.cargoHome && built.target === seen.target;
}
/**
 * Pure: where this job's build will see the root, when the job cannot see it from where it runs
 * (the runner's hook runs on the host, its job perhaps in a container): the view its own last
 * build on this host was made under, in its own trust domain first, then any (a first run's
 * base). A job keeps its `container:` from push to push; when it changes, the first build
 * recompiles once and records the new view.
 */
function choose_jobViewpoint(slots, me) {
    const mine = trustDomain(me);
    const history = slots
        .map((s) => s.record)
        .filter((r) => r?.view !== undefined && r.repository === me.repository && sameJob(r, me));
    const latest = (rs) => rs.reduce((a, b) => (!a || time(b) > time(a) ? b : a), undefined);
    const r = latest(history.filter((h) => trustDomain(h) === mine)) ?? latest(history);
    return r && { root: r.view.root, uid: r.view.uid };
}
/**
 * How long a cancelled earlier run takes to let go of its slot, measured (docs/simulation.md,
 * "Waiting for a cancelled run"): the runner sends SIGINT to the step's process, SIGTERM 7.5 s
 * later and SIGKILL 2.5 s after that (actions/runner), then runs every post step (ours
 * releases the lease), then kills what is left of the job (a cargo its shell left running holds
 * cargo's locks until then). With a margin for a loaded host.
 */
const CANCEL_RELEASE_MS = 20_000;
/**
 * Pure: how long to wait for the predecessor `rankSlots` named, at most `lease-wait`. Waiting
 * pays only where the earlier run is ending: a PR's earlier run, which a new push cancels
 * (the README's workflow cancels PR runs in progress), or an earlier attempt of the same run (a
 * re-run starts once that attempt ended: only its post steps are left). A push to a branch, a
 * tag or a schedule does not cancel the run before it: that run builds for minutes more, so the
 * job starts at once in its next-best slot instead (a wait there once cost 65 s, then a cold
 * start anyway).
 */
function waitBudget(me, predecessor, leaseWaitMs) {
    const cap = Math.min(leaseWaitMs, CANCEL_RELEASE_MS);
    if (predecessor && predecessor.runId === me.runId)
        return { ms: cap, why: `attempt ${predecessor.runAttempt} of this run is ending` };
    if (/^pull_request/.test(me.eventName) && me.key.startsWith('pr-'))
        return { ms: cap, why: 'an earlier run of this PR, cancelled by the new push' };
    return { ms: 0, why: `an earlier run of ${me.key} is still building (${me.eventName} runs are not cancelled by a new one)` };
}
const numeric = (v) => (/^\d{1,30}$/.test(v) ? BigInt(v) : undefined);
/** Run ids grow with time on GitHub and Forgejo: a later run is never a predecessor. */
function earlierRun(r, me) {
    const [a, b] = [numeric(r.runId), numeric(me.runId)];
    if (a === undefined || b === undefined)
        return false;
    if (a !== b)
        return a < b;
    const [x, y] = [numeric(r.runAttempt), numeric(me.runAttempt)];
    return x !== undefined && y !== undefined && x < y;
}

;// CONCATENATED MODULE: ./src/os/disk.ts

function diskFromStatfs(s) {
    const used = (s.blocks - s.bfree) * s.bsize;
    const avail = s.bavail * s.bsize;
    const inodesUsed = s.files - s.ffree;
    return {
        totalBytes: s.blocks * s.bsize,
        usedBytes: used,
        freeBytes: avail,
        usedPercent: used + avail > 0 ? (used * 100) / (used + avail) : 0,
        inodes: s.files,
        inodesFree: s.ffree,
        // Filesystems without an inode limit (btrfs, some overlays) report 0 files.
        inodePercent: s.files > 0 ? (inodesUsed * 100) / s.files : 0,
    };
}
async function disk_measure(path) {
    return diskFromStatfs(await external_node_fs_.promises.statfs(path));
}
/** Inodes have no free-space form: a free-space level watches them at 90%. */
const inodeLimit = (l) => (l.kind === 'percent' ? l.percent : 90);
/** Pure: is the disk beyond this level (bytes or inodes)? */
function disk_beyond(d, l) {
    const bytes = l.kind === 'percent' ? d.usedPercent > l.percent : d.freeBytes < l.bytes;
    return bytes || d.inodePercent > inodeLimit(l);
}

;// CONCATENATED MODULE: ./src/pool/reset.ts


const ago = (iso, now) => {
    const ms = now - Date.parse(iso);
    return Number.isFinite(ms) ? ` ${Math.max(0, Math.round(ms / 60_000))} min ago` : '';
};
/**
 * Pure: must the leased directory start empty? Content written under one trust domain (a PR,
 * possibly a fork) is never handed to another: target/, install/ (its bin/ is put on PATH), tmp/
 * and a private CARGO_HOME (a fork's: its registry/cache holds .crate files cargo uses
 * unchecked). The CARGO_HOME shared by a uid's trusted jobs is not the slot's (cargo-home.ts).
 *
 * The reason says "warm" only when a build is really there to reuse: a slot of the same trust domain
 * whose target dir the disk guard removed (`prunedAt`) or that is empty keeps the rest of its
 * content, but cargo compiles everything again, and the summary must say so.
 */
function decideReset(reuse, previous, hasContent, me, now = Date.now()) {
    const content = typeof hasContent === 'boolean' ? { target: hasContent, cargoHome: hasContent } : hasContent;
    if (!content.target && !content.cargoHome)
        return { reset: false, reason: 'empty' };
    // `warm` is what the reason says when the build is there; `why` names the rule when it is not.
    const kept = (warm, why = warm) => {
        if (content.target && !previous?.prunedAt)
            return { reset: false, reason: warm, warm: true };
        const gone = previous?.prunedAt ? `the disk guard removed its target dir${ago(previous.prunedAt, now)}` : 'its target dir is empty';
        return { reset: false, reason: `kept (${why}), but ${gone}: cargo builds everything again; CARGO_HOME's crates are kept`, warm: false };
    };
    if (reuse === 'never')
        return { reset: true, reason: 'reuse: never' };
    if (reuse === 'always')
        return kept('reuse: always');
    if (!previous)
        return { reset: true, reason: 'no record of who used it last' };
    // Trusted content may seed a PR, never the reverse: the record then names the PR, so the
    // base branch's next push wipes it (it is another trust domain's slot from then on).
    if (fromBase(previous, me))
        return kept(`seeded by the base branch: last used by a push to ${previous.key.slice(4)}`);
    if (record_trustDomain(previous) !== record_trustDomain(me))
        return { reset: true, reason: `last used by ${record_trustDomain(previous)}` };
    return kept(`warm: last used by the same trust domain (${previous.key})`, `last used by the same trust domain (${previous.key})`);
}

;// CONCATENATED MODULE: ./src/pool/policy.ts






/**
 * How long after its last job a runner still counts as one that exists, for the runner scope: one
 * period of the host's gc timer (docs/operations.md, every 15 minutes). Ephemeral runners (a new
 * name for every job: Kubernetes, autoscaled VMs) end one job and are gone: their data is no
 * runner's once this has passed, and any job's guard frees it by its worth. A persistent runner
 * idle for longer loses only the scope's hold on its idle builds (leases keep live data safe in
 * every scope). Measured on the fleet simulation (ephemeral trace, knee/2, 2 seeds): an hour kept
 * gone runners' builds out of every job's reach and left 38% of jobs warm against host scope's
 * 60%; 15 minutes, 52%; 5 minutes, 56%, where the scope no longer holds back a runner between two
 * of its jobs.
 */
const RUNNER_GONE_MS = (/* unused pure expression or super */ null && (15 * 60_000));
/**
 * Pure: the runners that still exist, as the host tells: seen ending a job within RUNNER_GONE_MS
 * (its history, value.ts HostStats.runners; and the slots' records, which name who used each last
 * and when), or holding a lease now.
 */
function policy_presentRunners(history, slots, nowMs) {
    const out = new Set();
    for (const [runner, t] of history?.runners ?? [])
        if (nowMs - t <= RUNNER_GONE_MS)
            out.add(runner);
    for (const s of slots) {
        const r = s.record;
        if (r && (s.live || nowMs - lastUsedMs(r) <= RUNNER_GONE_MS))
            out.add(r.runnerId);
    }
    return out;
}
/**
 * Another runner's idle data, in runner scope: a runner that still exists (`present`; all of them
 * when the caller cannot tell) left it, and it is not nobody's (trash) or everybody's (the stores);
 * and the dependency archives still worth something (heldArchive; `freeArchives`: the earlier rule,
 * where runner scope freed them as it frees the stores). What the scope leaves to the host's gc timer.
 */
const othersIdle = (c, scope, runnerId, present, o = {}) => scope === 'runner' &&
    ((!o.freeArchives && heldArchive(c)) || (!c.shared && c.owner !== undefined && c.owner !== runnerId && (present === undefined || present.has(c.owner))));
/**
 * An archive still worth something, in runner scope: left to the gc timer and the hard level like
 * another runner's build. It serves every PR of its job and the tier has its own cap
 * (`host-archives`), so a job's guard that may free little else would otherwise free the archives
 * first: on the fleet simulation that cost more compile hours than the tier saved (incidents, the
 * floor: 53 h a day against 19 in host scope). Worth nothing (a closed PR's, what a killed save
 * or restore left): freed like trash.
 */
const heldArchive = (c) => c.kind === 'archive' && c.value !== 0;
/**
 * Pure: the level over which a guard in runner scope gives way (scopeOf): the one the operator set
 * (`disk-hard-threshold`), else room for the largest build this host has seen, as a free-space
 * floor: the largest target dir a job's end recorded in the host's history (value.ts
 * `HostStats.largest`), or a slot's record holds. Runner scope leaves other runners' idle data to
 * the host's gc timer, so the disk may stay over the threshold until the timer runs; what a job
 * must still find is room for its build. A fixed share above the threshold could not promise it
 * on every disk (halfway to full, 92.5%, leaves 7.5%: less than one build on a small host). On the
 * fleet simulation this floor failed no job for disk on any trace, on one host or several
 * (docs/simulation.md, "What each scope costs"). Nothing seen yet: the threshold itself.
 */
function policy_hardLevel(set, history, slots, threshold) {
    if (set)
        return set;
    let largest = history?.largest ?? 0;
    for (const s of slots)
        largest = Math.max(largest, s.record?.sizes?.target ?? 0);
    return largest > 0 ? { kind: 'free', bytes: largest } : threshold;
}
/**
 * Pure: the scope a guard run works in. `prune-scope: runner` frees only what this runner left and
 * what no runner owns; over the hard level (hardLevel) that may not leave room for the build about
 * to start, so the run frees any runner's idle data, as host scope does: the scope is never why a
 * job fails for disk.
 */
const policy_scopeOf = (scope, disk, hard) => (scope === 'runner' && hard !== undefined && beyond(disk, hard) ? 'host' : scope);
/**
 * Pure: what may be removed, in which order. Trash counts in any scope: it is nobody's data.
 * Then job dirs of dead jobs, then targets and archives, the least valuable first (value.ts
 * `byWorth`: a closed PR's and a spent merge-queue entry's before anything; values within 25% of
 * each other by age), then `registry/src` trees and the stores, which the next job refills cheaply.
 *
 * `keep` names the slots whose build the job running this guard is about to take (its own
 * warm build, or its base's for a first run: `keepFor`): they go last, after everything else
 * idle, so the guard and the chooser never disagree about the one build this job will use.
 * Removed anyway only when nothing else is left to free.
 *
 * Runner scope (the default) is the scope the incident fleet asked for first ("only prune
 * actions-runner-N's own target dir, never a sibling's"): this runner's idle data and data no
 * runner owns (trash, the stores, archives worth nothing, and what runners that no longer exist
 * left: `present`, presentRunners), least worth first; other runners' idle data and the archives
 * still worth something are set apart (`others`) for the host's gc timer, which runs in host scope. Over the hard level the guard runs in host
 * scope (scopeOf). Host scope orders everything idle by worth, whoever used it. Live data is never
 * a candidate in any scope.
 */
function planPrune(cands, scope, runnerId, o = {}) {
    let liveBytes = 0;
    let othersBytes = 0;
    const ordered = [];
    const live = [];
    const kept = [];
    const others = [];
    for (const c of cands) {
        if (c.live) {
            liveBytes += c.bytes ?? 0;
            live.push(c);
        }
        else if (c.slot !== undefined && o.keep?.includes(c.slot))
            kept.push(c);
        else if (othersIdle(c, scope, runnerId, o.present, o)) {
            othersBytes += c.bytes ?? 0;
            others.push(c);
        }
        else
            ordered.push(c);
    }
    const worth = new Map(cands.map((c) => [c, worthKey(c)]));
    const order = (a, b) => a.order - b.order || byWorth(worth.get(a), worth.get(b)) || a.lastUsedMs - b.lastUsedMs || a.path.localeCompare(b.path);
    ordered.sort(order);
    others.sort(order);
    kept.sort(order);
    // Not held back where another runner's data is worth less (host scope's order would take that
    // first): measured on the fleet simulation, holding this runner's data back for the gc timer
    // left the disk over its threshold longer and cost warm starts (incidents, knee/2: 29% warm
    // against 45%).
    return { ordered, liveBytes, live, others, othersBytes, kept };
}
/**
 * Pure: whether the guard runs at all: over its threshold, or `gc --max-age` (which removes
 * what is idle for too long whatever the disk says).
 */
const guardRuns = (disk, threshold, maxAgeMs) => disk_beyond(disk, threshold) || maxAgeMs !== undefined;
/**
 * Pure: what the guard does with the i-th entry of its plan (`ordered`, then `kept`; `kept`
 * starts at `keptFrom`): remove it while the disk, over its threshold when the guard started, is
 * not yet under its target; with `gc --max-age`, also trash and anything idle for longer (never a
 * kept build). `stop`: nothing after it will be removed either.
 */
function guardStep(c, i, keptFrom, p) {
    const used = p.disk.usedBytes - p.pendingBytes;
    const free = p.disk.freeBytes + p.pendingBytes;
    const after = { ...p.disk, usedBytes: used, freeBytes: free, usedPercent: used + free > 0 ? (used * 100) / (used + free) : 0 };
    if (p.overAtStart && disk_beyond(after, p.target))
        return 'remove';
    if (p.maxAgeMs === undefined)
        return 'stop';
    return i < keptFrom && (c.kind === 'trash' || p.nowMs - c.lastUsedMs > p.maxAgeMs) ? 'remove' : 'skip';
}
/** Pure: room for a new slot: the disk under `disk-target`, so a new slot costs nothing anyone needs (choose.ts DiskView). */
const roomFor = (disk, target) => !disk_beyond(disk, target);
/**
 * Pure: the slot whose build this job is about to take, for the guard to keep (planPrune's
 * `keep`): rankSlots' first choice, as under pressure, when it is the job's own warm build or its
 * base's. The slots carry the job's paths (`view`), as the lease will see them.
 */
function keepFor(slots, me) {
    const c = rankSlots(slots, me, { room: false }).candidates[0];
    return c && (c.tier === 'own-job' || c.tier === 'base') ? [c.name] : [];
}
const COPY_RULE_TEXT = {
    'own-key': 'this PR or branch, the same job, in another slot',
    base: 'a push to the base branch, the same job',
    any: 'the same job of another PR or branch (reuse: always)',
};
const COPY_RULES = ['own-key', 'base', 'any'];
const policy_time = (r) => Date.parse(r.lastUsed) || 0;
/**
 * Pure: the idle slot whose warm build this job should start from, or none (warm-copy.ts says why
 * a copy works). `cargoHome` is the CARGO_HOME this job's exports give it (exportsFor); `self` is
 * the slot it leased. The same repository and job (workflow, job, `key`), built with the same
 * CARGO_HOME string, not worthless, idle, and one this job may read under the reuse rules:
 *   own-key  its own trust domain's build in another slot (its earlier run took another slot);
 *   base     a push to its base branch (a first run: trusted content may seed it);
 *   any      `reuse: always` only: any trust domain's.
 * Content of another trust domain never flows into a trusted one: a PR's build never seeds its
 * base branch or another PR. `reuse: never` copies nothing.
 */
function chooseCopySource(slots, me, o) {
    if (o.reuse === 'never')
        return undefined;
    const found = [];
    for (const s of slots) {
        const r = s.record;
        if (s.name === o.self || s.live || !r || r.layout !== 'slot' || value_worthless(r))
            continue;
        // Another uid's files never handed back (reclaim.ts): not a build this job can trust to read.
        if (r.foreign)
            continue;
        if (r.repository !== me.repository || !sameJob(r, me))
            continue;
        // Built under another CARGO_HOME (another uid, path view or a private home): not warm here.
        if (r.view === undefined || r.view.cargoHome !== o.cargoHome)
            continue;
        const rule = record_trustDomain(r) === record_trustDomain(me) ? 'own-key' : fromBase(r, me) ? 'base' : o.reuse === 'always' ? 'any' : undefined;
        if (rule)
            found.push({ name: s.name, rule, record: r });
    }
    found.sort((a, b) => COPY_RULES.indexOf(a.rule) - COPY_RULES.indexOf(b.rule) || policy_time(b.record) - policy_time(a.record) || a.name.localeCompare(b.name));
    return found[0];
}
/** Pure: does adding `bytes` keep the disk under `level`? Reflinks cost no bytes up front. */
function copyFits(d, bytes, level) {
    const used = d.usedBytes + bytes;
    const free = d.freeBytes - bytes;
    const after = { ...d, usedBytes: used, freeBytes: free, usedPercent: used + free > 0 ? (used * 100) / (used + free) : 100 };
    return free > 0 && !disk_beyond(after, level);
}
/*
 * Dependency archives (store/archive.ts): the host tier, and the same decisions for the fleet tier.
 *
 *   the guard:      an archive is a candidate like an idle build, weighed by the same order of
 *                   worth (archiveValues; guard.ts gives the archive row the targets' place in the
 *                   order of kinds): after trash and dead jobs' dirs, before registry sources and
 *                   the stores. It is nobody's runner's data (`shared`): it serves every PR of its
 *                   job. In host scope (the gc timer, `prune-scope: host`, a job over the hard
 *                   level) it is weighed with the builds; in runner scope one still worth something
 *                   is left to the gc timer (othersIdle). Never while a restore reads it (`live`).
 *   a job's start:  with no warm build of its own and nothing to copy, the archive restoreSource
 *                   names, from the trust domains archiveDomains allows.
 *   a job's end:    saveArchive says whether it saves one, and trimArchives which archives go so
 *                   that the tier stays under its cap (model/settings.ts archiveCapBytes).
 */
/**
 * Pure: the trust domains whose archives a start may restore, as for warm copies
 * (chooseCopySource): its own and its base branch's (a first run's, or any later start of a PR
 * whose own archive is not there); any domain with `reuse: always`; none with `reuse: never`.
 * A PR's archive never reaches its base or another PR, since no job has a PR as its base.
 */
function archiveDomains(me, reuse) {
    if (reuse === 'never')
        return [];
    if (reuse === 'always')
        return 'any';
    return me.baseKey !== undefined && me.baseKey !== me.key ? [me.key, me.baseKey] : [me.key];
}
/**
 * Pure: which archive a start restores, among those of its repository in the domains it may read
 * (archiveDomains): its exact key, else the newest of its fallback key (model/archive-key.ts
 * `chooseArchive`: cargo rebuilds only what the lock changed). Undefined: none, and the start
 * builds as it would have.
 */
function restoreSource(archives, want, me, reuse) {
    const domains = archiveDomains(me, reuse);
    const readable = archives.filter((a) => a.repository === me.repository && (domains === 'any' || domains.includes(a.domain)) && (a.exact === want.exact || a.fallback === want.fallback));
    const r = archive_key_chooseArchive(readable, want);
    return r && { pick: r.pick, how: r.how };
}
/**
 * Pure: which tier a start restores from, given what each would give (restoreSource on the host's
 * archives and on the fleet store's): the host's exact key; else the fleet's exact key (a
 * transfer costs seconds, a near archive a rebuild of what the lock changed: minutes); else the
 * host's near archive, else the fleet's. The fleet is asked only where the host has no exact key;
 * a restore from it then fills the host tier (where it fits, as a save).
 */
function restoreTier(host, fleet) {
    if (host?.how === 'exact')
        return { ...host, tier: 'host' };
    const f = fleet?.();
    if (f?.how === 'exact' || (f && !host))
        return { ...f, tier: 'fleet' };
    return host && { ...host, tier: 'host' };
}
/**
 * Pure: whether an archive a start fetched from the fleet store stays in the host tier, measured
 * once it is restored: only while the disk is under the hard level (hardLevel), whose room is for
 * the build about to write. It landed after the job's guard made that room; kept anyway, it fails
 * builds for disk on small hosts (on the fleet simulation, up to 57 jobs a day on hosts at the
 * smallest disk their runners' builds fit on; none with this check, for the same compile hours).
 * Not kept, the next start on this host fetches it again.
 */
const policy_keepFetched = (disk, hard) => !disk_beyond(disk, hard);
/**
 * Pure: why a job never saves an archive, whatever its build holds (the setting, its layout, its
 * trust, where it built); undefined when it may. The first steps of saveArchive, which a job's end
 * asks before it reads its build or asks the toolchain for the key.
 */
function saveRefusal(i) {
    if (!i.enabled)
        return 'host-archives is off';
    if (i.layout === 'job')
        return 'layout: job gives each job a CARGO_HOME of its own, so no later job could use an archive of its build';
    if (i.fork)
        return 'a fork PR never writes an archive another PR or branch could restore';
    if (i.builtElsewhere)
        return "the build ran in the job's container, whose OS and libc (parts of the key) the job-completed hook on the host cannot tell";
    return undefined;
}
/** Why a job that compiled no dependency saves nothing (saveArchive; a job's end says it before it asks for the key). */
const NOTHING_COMPILED = 'it compiled no dependency: an archive would add nothing';
/**
 * Pure: whether a job's end saves an archive of its dependencies, and why (or why not), in words
 * for its log. The one rule: the product's job end (job/tiers.ts saveTier) and the simulator both
 * call it. A job saves when it compiled dependency units and no archive of its exact key is in a
 * domain it reads; a job that restored its exact key, or kept every dependency fresh, has nothing
 * to add. An archive of the exact key that holds fewer packages than this build (a cancelled
 * build's) is replaced in the job's own domain; a base's is never replaced by a PR, which then
 * saves its own. Fork PRs never write one; nor does `layout: job`, whose CARGO_HOME is its own (a
 * registry unit's fingerprint hashes its path: no other job could restore it).
 */
function saveArchive(i) {
    const refused = saveRefusal(i);
    if (refused)
        return { save: false, why: refused };
    if (i.builtDependencies <= 0)
        return { save: false, why: NOTHING_COMPILED };
    if (i.exact === undefined)
        return { save: false, why: 'no Cargo.lock: an archive is saved only under the exact lock' };
    if (i.packages <= 0)
        return { save: false, why: 'the build dir holds no dependency artifacts' };
    if (i.own && i.own.packages >= i.packages)
        return { save: false, why: 'an archive of its exact key is there already' };
    const why = `${i.packages} dependency packages, ${i.builtDependencies} compiled by this job`;
    if (i.own)
        return { save: true, replace: true, why: `${why}, replacing one that held fewer` };
    if (i.base && i.base.packages >= i.packages)
        return { save: false, why: "its base branch's archive of the exact key is there already" };
    return { save: true, replace: false, why };
}
/**
 * Pure: the archives to remove so that the tier holds at most `capBytes`, least worth first (the
 * guard's order of worth, then the oldest), never one a restore reads nor `keep` (the archive
 * just saved: its job was just seen without one). Values as archiveValues gives them.
 */
function trimArchives(archives, capBytes, keep) {
    let held = archives.reduce((n, a) => n + a.bytes, 0);
    if (held <= capBytes)
        return [];
    const w = new Map(archives.map((a) => [a, worthKey({ key: a.domain, value: a.value })]));
    const order = [...archives]
        .filter((a) => !a.live && a.path !== keep)
        .sort((a, b) => byWorth(w.get(a), w.get(b)) || a.savedMs - b.savedMs || a.path.localeCompare(b.path));
    const out = [];
    for (const a of order) {
        if (held <= capBytes)
            break;
        out.push(a);
        held -= a.bytes;
    }
    return out;
}
/** Pure: the policy with these rules; every default is what ships. */
function makePolicy(o = {}) {
    const rank = (slots, me, disk) => {
        const plan = rankSlots(slots, me, disk);
        let candidates = plan.candidates;
        if (o.firstRunTakesBase === false)
            candidates = candidates.filter((c) => c.tier !== 'base');
        if (o.siblingFirst) {
            // Its own PR's or branch's slots of another job, warm or not, right after its own and its base's.
            const mine = record_trustDomain(me);
            const own = slots
                .filter((v) => !v.live && v.record && record_trustDomain(v.record) === mine && !sameJob(v.record, me))
                .map((v) => ({ name: v.name, tier: 'own-key' }));
            const head = candidates.filter((c) => c.tier === 'own-job' || c.tier === 'base');
            candidates = [...head, ...own, ...candidates.filter((c) => c.tier !== 'own-job' && c.tier !== 'base' && c.tier !== 'own-key')];
        }
        return candidates === plan.candidates ? plan : { ...plan, candidates };
    };
    return {
        history: (jobs, closed) => statsOf(jobs, o.closedPrs === false ? [] : closed),
        addJob: addEntry,
        addClosed: (s, repository, key, tMs) => {
            if (o.closedPrs !== false)
                addClosed(s, repository, key, tMs);
        },
        values: (slots, history, nowMs) => (o.values === false || !history ? undefined : slotValues(slots, history, nowMs)),
        keep: (slots, me) => (o.keepOwnBuild === false ? [] : keepFor(slots, me)),
        prune: (cands, scope, runnerId, keep, present) => {
            if (scope === 'host' || (o.runnerScope ?? 'own') === 'own')
                return planPrune(cands, scope, runnerId, { keep, present, freeArchives: o.runnerScopeFreesArchives });
            // The earlier runner scopes: host scope's order, this runner's data moved up.
            const plan = planPrune(cands, 'host', runnerId, { keep });
            const mine = (c) => Number(c.owner === runnerId || (o.runnerScope === 'first' && c.shared));
            const worth = new Map(plan.ordered.map((c) => [c, worthKey(c)]));
            plan.ordered.sort((a, b) => o.runnerScope === 'first'
                ? mine(b) - mine(a) || a.order - b.order
                : a.order - b.order || byWorth(worth.get(a), worth.get(b)) || mine(b) - mine(a) || a.lastUsedMs - b.lastUsedMs || a.path.localeCompare(b.path));
            for (const c of plan.ordered)
                if (othersIdle(c, scope, runnerId, present, { freeArchives: o.runnerScopeFreesArchives }))
                    plan.othersBytes += c.bytes ?? 0;
            return plan;
        },
        guardRuns,
        guardStep,
        room: roomFor,
        rank,
        wait: (me, predecessor, leaseWaitMs) => (o.waitForAnyEarlierRun ? { ms: leaseWaitMs, why: 'the previous rule' } : waitBudget(me, predecessor, leaseWaitMs)),
        reset: decideReset,
        copySource: (slots, me, c) => (o.copies === false ? undefined : chooseCopySource(slots, me, c)),
        copyFits,
        archiveValues: (archives, history, nowMs) => (o.values === false || !history ? undefined : archiveValues(archives, history, nowMs)),
        restoreSource: (archives, want, me, reuse) => (o.archives === false ? undefined : restoreSource(archives, want, me, reuse)),
        keepFetched: policy_keepFetched,
        saveArchive: (i) => saveArchive(o.archives === false ? { ...i, enabled: false } : i),
        trimArchives,
        compileCacheKey: (slot, job) => (o.crossSlotHits === false ? `${slot}|${job}` : job),
    };
}
/** The policy that ships: what the action, the hooks and the CLI run. */
const policy_SHIPPED = makePolicy();

;// CONCATENATED MODULE: ./src/os/liveness.ts



/** Parses /proc/locks into `major:minor:inode` ids (hex major/minor, as the kernel prints). */
function parseProcLocks(text) {
    const held = new Set();
    for (const line of text.split('\n')) {
        // "1: FLOCK  ADVISORY  WRITE 1234 00:2f:5678 0 EOF"; waiters are printed as "1: -> FLOCK ..."
        const f = line.trim().split(/\s+/);
        if (f.length < 6 || f[1] === '->')
            continue;
        const id = f[5];
        if (/^[0-9a-f]+:[0-9a-f]+:\d+$/i.test(id)) {
            const [maj, min, ino] = id.split(':');
            held.add(`${parseInt(maj, 16)}:${parseInt(min, 16)}:${ino}`);
        }
    }
    return held;
}
function liveness_heldLocks() {
    try {
        return parseProcLocks(readFileSync('/proc/locks', 'utf8'));
    }
    catch {
        return new Set();
    }
}
/** glibc's major()/minor() of a userspace dev_t, so stat(2) results match /proc/locks. */
function devId(dev, ino) {
    const d = BigInt(dev);
    const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
    const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
    return `${major}:${minor}:${BigInt(ino)}`;
}
async function liveness_isHeldHint(path, held) {
    const st = await absent_ifPresent(path, () => external_node_fs_.promises.stat(path, { bigint: true }), { notADirectory: 'absent' });
    return st ? held.has(devId(st.dev, st.ino)) : false;
}
/*
 * cargo's own locks: what a running cargo always holds (rust-lang/cargo, by version).
 *
 *   $CARGO_HOME/.package-cache, .package-cache-mutate   util/cache_lock.rs: shared while a build
 *                                                        reads the caches, exclusive to change them
 *   <target>/[<triple>/]<profile>/ (compiler/layout.rs, `Layout::new`, held until the build ends):
 *     .cargo-lock           <= 1.95: the only one, exclusive (shared for `cargo check` with
 *                           -Zfine-grain-locking); 1.96+: always shared, so that an older cargo
 *                           (or a tool using cargo as a library) waits for a newer one
 *     .cargo-build-lock     1.96+: exclusive; shared with -Zfine-grain-locking (nightly), exclusive
 *                           again for `cargo clean`
 *     .cargo-artifact-lock  1.96+: exclusive while final artifacts are uplifted (build, test, doc;
 *                           not check)
 *
 * The build-dir layout (v1 `.fingerprint/`, or v2 `build/<pkg>/<hash>/` in 1.100+) does not move
 * them: they stay at the profile dir (the action sets the build-dir to the target dir, job/exports.ts).
 * -Zfine-grain-locking (nightly since 1.94) adds a `.lock` in every unit dir,
 * `<profile>/build/<pkg>/<hash>/.lock` (compiler/locking.rs), held shared from the start of the
 * build and exclusive while the unit compiles; it never replaces the profile locks above, which
 * are taken first and held to the end. So one exclusive, non-blocking flock on each profile lock
 * file (flock.allFree) finds any running cargo, whatever its version, layout or locking mode, in
 * a few calls: the thousands of per-unit locks need no probe. Measured with cargo 1.95 and
 * nightly 1.97 (whose layout.rs and locking.rs are 1.100's), see docs/how-it-works.md.
 */
const PROFILE_LOCKS = ['.cargo-lock', '.cargo-build-lock', '.cargo-artifact-lock'];
/** Profile dir entries that hold no profile (v1's deps/, .fingerprint/; both layouts' build/, incremental/). */
const liveness_NOT_PROFILES = new Set(['deps', 'build', 'incremental', '.fingerprint', 'examples']);
/** Lock files of cargo's own that exist now in a target dir and a CARGO_HOME. */
async function liveness_cargoLockFiles(target, cargoHome) {
    const found = [];
    const addIfFile = async (p) => {
        const st = await absent_lstatIfPresent(p);
        if (st?.isFile())
            found.push(p);
    };
    if (cargoHome) {
        for (const n of ['.package-cache', '.package-cache-mutate'])
            await addIfFile((0,external_node_path_.join)(cargoHome, n));
    }
    if (target) {
        // <target>/<profile>/ and <target>/<triple>/<profile>/
        const level1 = await absent_listDirents(target);
        for (const n of PROFILE_LOCKS)
            await addIfFile((0,external_node_path_.join)(target, n));
        for (const d of level1) {
            if (!d.isDirectory())
                continue;
            for (const n of PROFILE_LOCKS)
                await addIfFile((0,external_node_path_.join)(target, d.name, n));
            const level2 = await absent_listDirents((0,external_node_path_.join)(target, d.name));
            for (const d2 of level2) {
                if (!d2.isDirectory() || liveness_NOT_PROFILES.has(d2.name))
                    continue;
                for (const n of PROFILE_LOCKS)
                    await addIfFile((0,external_node_path_.join)(target, d.name, d2.name, n));
            }
        }
    }
    return found;
}

;// CONCATENATED MODULE: ./src/os/record-file.ts


// A slot's record (model/record.ts) on disk: read when it can be, written whole.
/** A slot's or job directory's record (model/record.ts) on disk; unknown when absent or unreadable. */
async function record_file_readRecord(path) {
    const text = await absent_readTextIfPresent(path, { notADirectory: 'absent' });
    if (text === undefined)
        return undefined;
    try {
        const r = JSON.parse(text);
        return r && r.format === 1 ? r : undefined;
    }
    catch {
        return undefined; // torn by a crash of an older writer: treated as unknown
    }
}
/** Written whole or not at all: a reader (the guard, status, the next lease) never sees half a record. */
const writeRecord = (path, record) => writeAtomic(path, JSON.stringify(record, null, 2) + '\n');

;// CONCATENATED MODULE: ./src/owners/reclaim.ts









const onPath = async (name, path) => (await findOnPath(name, path)) !== undefined;
/**
 * Slots whose record names another uid than `uid` (marked here, or a root job's never handed
 * back): what only root can return. Records only: `gc` says it even when it prunes nothing.
 */
async function slotsOfAnotherUid(root, uid) {
    if (uid === 0)
        return [];
    const out = [];
    for (const name of (await listDir(rootPaths(root).slots)).filter((n) => SLOT_NAME.test(n)).sort()) {
        const rec = await readRecord(slotDirs(root, name).record);
        if (rec?.uid !== undefined && rec.uid !== uid)
            out.push({ name, uid: rec.uid, paths: rec.foreign?.paths ?? [] });
    }
    return out;
}
/** Pure: which hand-backs to try, in order. sudo first: no daemon, no image, no mount. */
function handBackMethods(uid, found, onPath) {
    if (uid === 0 || found === 0)
        return [];
    // A tool that is not on PATH is not worth a spawn: without a docker client, this job could
    // not have run the step that made the files either (another job sharing the slot's key did).
    return ['sudo', 'docker'].filter((m) => onPath[m]);
}
/**
 * Pure: images to try from `docker image ls --format '{{.ID}} {{.Repository}}:{{.Tag}}'`, by
 * ID (nothing to resolve, nothing to pull), most recent first as Docker lists them: the image
 * a `docker run` step just used is likely among them and has `chown`. At most `max`.
 */
function chooseImages(listing, max = 3) {
    const ids = [];
    for (const line of listing.split('\n')) {
        const id = line.trim().split(/\s+/)[0];
        if (id && /^[0-9a-f]{12,64}$/i.test(id.replace(/^sha256:/, '')) && !ids.includes(id))
            ids.push(id);
    }
    return ids.slice(0, max);
}
/** Pure: the docker arguments that chown the slot mounted at a fixed path, as root, offline. */
function dockerChownArgs(image, base, to) {
    const at = '/cargo-isolate-slot';
    return [
        'run',
        '--rm',
        '--pull',
        'never',
        '--network',
        'none',
        '--user',
        '0:0',
        '--entrypoint',
        'chown',
        '--mount',
        `type=bind,source=${base},target=${at}`,
        image,
        '-R',
        '-h',
        `${to.uid}:${to.gid}`,
        at,
    ];
}
async function reclaim_run(cmd, args, timeoutMs) {
    const r = await run_runCommand(cmd, args, timeoutMs);
    if (r.error)
        return { ok: false, stdout: r.stdout, detail: r.error.code === 'ENOENT' ? `${cmd} not found` : r.error.message };
    return {
        ok: r.code === 0,
        stdout: r.stdout,
        detail: r.stderr.trim().split('\n').slice(-1)[0] || (r.signal ? `killed by ${r.signal}` : `exited with ${r.code}`),
    };
}
async function bySudo(base, to, timeoutMs) {
    return reclaim_run('sudo', ['-n', 'chown', '-R', '-h', `${to.uid}:${to.gid}`, '--', base], timeoutMs);
}
async function byDocker(root, base, to, timeoutMs) {
    // --mount splits on commas; such a root is refused rather than mounted wrongly.
    if (base.includes(','))
        return { ok: false, stdout: '', detail: `the path ${base} has a comma, which docker --mount cannot take` };
    // Docker resolves a bind mount's source: a slot directory a build replaced by a symlink
    // would lead root's chown outside the root. Only the real directory is mounted.
    // The root was made by an administrator; what lies below it is the job user's to replace.
    // Not reads that may find nothing: whatever cannot be resolved ('?' and '' match no real
    // path) refuses the mount, and the refusal is the detail the caller reports.
    const st = await external_node_fs_.promises.lstat(base).catch(() => undefined);
    const expected = (0,external_node_path_.join)(await external_node_fs_.promises.realpath(root).catch(() => '?'), (0,external_node_path_.relative)(root, base));
    if (!st?.isDirectory() || (await external_node_fs_.promises.realpath(base).catch(() => '')) !== expected)
        return { ok: false, stdout: '', detail: `${base} is not a plain directory (a symlink?); not mounting it` };
    const ls = await reclaim_run('docker', ['image', 'ls', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}'], Math.min(timeoutMs, 15_000));
    if (!ls.ok)
        return ls;
    const images = chooseImages(ls.stdout);
    if (images.length === 0)
        return { ok: false, stdout: '', detail: 'no image on this host (never pulled)' };
    let last = { ok: false, stdout: '', detail: '' };
    for (const image of images) {
        last = await reclaim_run('docker', dockerChownArgs(image, expected, to), timeoutMs);
        if (last.ok)
            return last;
        const timedOut = last.detail.startsWith('killed by');
        last = { ...last, detail: `image ${image}: ${last.detail}` };
        if (timedOut)
            break; // a daemon that hangs once hangs again: the post step must end
    }
    return last;
}
/**
 * Marks the slot's record as holding `found`'s uid, under the caller's lease: jobs of other uids
 * pass it over (owner.ts canManage), the guard and gc report it. False when there is no record.
 */
async function reclaim_markForeign(dirs, found) {
    const rec = await record_file_readRecord(dirs.record);
    if (!rec || found.length === 0)
        return false;
    await writeRecord(dirs.record, {
        ...rec,
        uid: found[0].uid,
        foreign: {
            uid: found[0].uid,
            paths: telling(found)
                .slice(0, 5)
                .map((f) => f.rel),
            at: new Date().toISOString(),
        },
    });
    return true;
}
/** Pure: the one warning a post step gives about another uid's files. */
function foreignMessage(o) {
    const where = o.layout === 'slot' ? `slot ${o.name}` : `the job directory ${o.name}`;
    const what = stepLeftFiles(foreign_describeForeign(o.first), where, o.uid);
    if (o.handedBack)
        return `${what} Handed them back to uid ${o.uid} with ${o.handedBack}. ${FIX_AT_THE_SOURCE}`;
    const passedOver = o.marked ? `the slot is marked as uid ${o.left[0].uid}'s, and jobs of uid ${o.uid} pass it over` : 'jobs of this uid pass the slot over';
    const then = o.layout === 'job'
        ? "removing the directory leaves them in trash for 'cargo-isolate gc' run as root."
        : `${passedOver} until a root job or 'cargo-isolate gc' run as root hands it back.`;
    return `${what} Could not hand them back (${o.failed.join('; ')}); ${then} ${FIX_AT_THE_SOURCE}`;
}
/**
 * Another uid's files under `base` (as `find` sees them), handed back to this uid by the first
 * method that works; undefined when there are none. What was found first, what is left, how it
 * went back or why each method failed.
 */
async function handBackTree(root, base, find, timeoutMs, env) {
    const uid = proc_myUid();
    let found = await find();
    if (found.length === 0)
        return undefined;
    const first = found;
    const to = { uid, gid: process.getegid?.() ?? uid };
    const failed = [];
    const path = env.PATH ?? '';
    for (const m of handBackMethods(uid, found.length, { sudo: await onPath('sudo', path), docker: await onPath('docker', path) })) {
        const r = await (m === 'sudo' ? bySudo(base, to, timeoutMs) : byDocker(root, base, to, timeoutMs));
        found = await find();
        if (found.length === 0)
            return { first, found, handedBack: m, failed };
        failed.push(`${m}: ${r.ok ? "ran, but the files are still another uid's" : r.detail}`);
    }
    if (failed.length === 0)
        failed.push('neither sudo nor a docker client is on PATH');
    return { first, found, failed };
}
/**
 * Post step of a job that is not root, under its lease: finds another uid's files where cargo
 * writes, hands them back, or (layout slot) marks the slot. Undefined when there are none.
 * `root` bounds the docker mount: the directory mounted must be the real one under the root.
 */
async function settleForeign(root, dirs, layout, name, timeoutMs, env = process.env) {
    const uid = proc_myUid();
    const h = await handBackTree(root, dirs.base, () => foreign_findForeign(dirs, uid), timeoutMs, env);
    if (!h)
        return undefined;
    const { first, found, handedBack, failed } = h;
    const marked = !handedBack && layout === 'slot' && (await reclaim_markForeign(dirs, found));
    return { found: first, handedBack, marked, failed, message: foreignMessage({ uid, layout, name, first, left: found, handedBack, failed, marked }) };
}
/**
 * The same for the CARGO_HOME a uid's trusted jobs share (cargo-home.ts), which a `docker run`
 * step as root can reach when it mounts the `cargo-home` output: hand another uid's files back,
 * or say that this uid's jobs use a private home in their slots until root's gc hands them back
 * (the next job finds them and does so by itself: cargo-home.ts, sharedHomeProblem).
 */
async function settleForeignHome(root, home, timeoutMs, env = process.env) {
    const uid = proc_myUid();
    const h = await handBackTree(root, home, () => foreign_findForeignInHome(home, uid), timeoutMs, env);
    if (!h)
        return undefined;
    const { first, handedBack, failed } = h;
    const what = `A step left files of ${foreign_describeForeign(first)} in ${home}, the CARGO_HOME the trusted jobs of uid ${uid} share, ` +
        'where their cargo must write: a `docker run` step as root?';
    const then = handedBack
        ? `Handed them back to uid ${uid} with ${handedBack}.`
        : `Could not hand them back (${failed.join('; ')}); ` +
            `jobs of uid ${uid} use a private CARGO_HOME in their slots until 'cargo-isolate gc' run as root hands them back.`;
    const message = `${what} ${then} ${FIX_AT_THE_SOURCE}`;
    return { found: first, handedBack, marked: false, failed, message };
}

;// CONCATENATED MODULE: ./src/pool/lease.ts


















/*
 * A lease is an exclusive flock on the directory's lock file, held by a detached keeper:
 *
 *   flock -x -n <lock> sh -c KEEPER <watch-pid> <watch-start> <max-seconds> <poll>
 *
 * The lease ends when the keeper dies, which happens when
 * - the post step kills it (normal end: success, failure, cancel);
 * - the runner kills it: after the last post step the runner kills every process that carries
 *   its RUNNER_TRACKING_ID, which the keeper inherits;
 * - the process it watches (the main step's parent: the runner's worker) is gone, checked
 *   every POLL seconds by pid *and* start time (a reused pid is not the worker): covers a
 *   runner killed with SIGKILL and runners without orphan cleanup (Forgejo, act);
 * - max-lease passes: a hung worker cannot pin a slot forever;
 * - the host reboots (the kernel forgets every flock).
 * Anyone on the host, in any container sharing the root on this kernel, sees the lease with
 * flock. Lock files live in <root>/locks and are never deleted, so a waiter can never lock an
 * unlinked inode while the next job locks a new one.
 */
const KEEPER_POLL_SECONDS = 2;
const PROBE_RETRIES = 4;
const KEEPER = (/* unused pure expression or super */ null && (`echo locked
exec >/dev/null 2>&1 </dev/null
watch=$1 start=$2 left=$3 poll=$4
while [ "$left" -gt 0 ]; do
  if [ "$watch" -gt 0 ]; then
    read -r s < "/proc/$watch/stat" || exit 0
    s=\${s##*) }
    set -- $s
    [ "\${20}" = "$start" ] || exit 0
  fi
  sleep "$poll"
  left=$((left - poll))
done`));
async function startKeeper(lock, watchPid, maxLeaseMs) {
    const start = (watchPid > 0 && procStat(watchPid)?.start) || '0';
    const opts = {
        detached: true,
        body: KEEPER,
        args: [String(start === '0' ? 0 : watchPid), start, String(Math.ceil(maxLeaseMs / 1000)), String(KEEPER_POLL_SECONDS)],
    };
    // A probe (status, a post step checking its release, a guard renaming an idle target)
    // holds a lock for a few milliseconds; a lease holds it for the whole job. A few quick
    // retries tell the two apart, so a passing probe never sends a job to a colder slot.
    for (let attempt = 0; attempt < PROBE_RETRIES; attempt++) {
        if (attempt > 0)
            await sleep(10 * attempt);
        const h = await hold([lock], opts);
        if (h) {
            detach(h);
            return h;
        }
    }
    return undefined;
}
/**
 * Every slot with its record and a liveness hint (one read of /proc/locks for all of them, or
 * `held`), and with `history` (the host's warmth log, value.ts) the value of each idle slot's
 * build (the policy's scan -> value).
 */
async function lease_scanSlots(root, history, o = {}) {
    const held = o.held ?? heldLocks();
    const names = (await listDir(rootPaths(root).slots)).filter((n) => SLOT_NAME.test(n)).sort();
    const views = await Promise.all(names.map(async (name) => {
        const d = slotDirs(root, name);
        return { name, record: await readRecord(d.record), live: await isHeldHint(d.lock, held) };
    }));
    // A history still being read (acquireSlot's first scan) is read alongside the records.
    const values = SHIPPED.values(views, await history, o.nowMs ?? Date.now());
    if (values)
        for (const v of views)
            v.value = values.get(v.name);
    return views;
}
/** The host's history as the value rule reads it; an unreadable log is an empty history. */
async function lease_hostHistory(root) {
    const h = await readHistory(root);
    return policy_SHIPPED.history(h.jobs, h.closed);
}
/**
 * The slot whose build this job is about to take, for the guard to keep (policy.ts keepFor),
 * seen with the job's paths (`view`, as the lease will see them).
 */
async function slotToKeep(req) {
    return SHIPPED.keep(withViews(await lease_scanSlots(req.root, await lease_hostHistory(req.root), { nowMs: req.nowMs }), req), req.me);
}
/**
 * Takes the lease, then makes sure this uid may manage the slot (owner.ts) and that no cargo
 * (say, a zombie container of a cancelled job) still runs there.
 */
async function tryLease(dirs, req) {
    const h = await startKeeper(dirs.lock, req.watchPid, req.maxLeaseMs);
    if (!h)
        return { busy: 'lease' };
    const base = await lstatIfPresent(dirs.base);
    if (base && !base.isDirectory()) {
        // The slot directory itself was replaced (by a symlink, say): move it aside under the lease.
        await fs.rename(dirs.base, `${rootPaths(req.root).trash}/${Date.now()}-${process.pid}-slot-${dirs.base.split('/').pop()}`);
    }
    await fs.mkdir(dirs.base, { recursive: true });
    // Is cargo still running there? Asked by a process of its own while this one checks who owns
    // the slot; the answer counts only once those checks passed.
    const cargoFree = cargoLockFiles(dirs.target, dirs.cargoHome).then((locks) => probeFree(locks));
    cargoFree.catch(() => undefined); // said where it is awaited, not as an unhandled rejection
    // Read under the lease: a scan's copy may predate the last holder's release.
    const previous = await readRecord(dirs.record);
    const uid = myUid();
    const owners = await slotOwners(dirs);
    if (!canManage(uid, previous, owners)) {
        killHolder(h.pid, dirs.lock);
        const marked = previous?.foreign && describeForeign(previous.foreign.paths.map((rel) => ({ rel, uid: previous.foreign.uid })));
        return {
            busy: 'foreign',
            uid: [previous?.uid, ...owners].find((o) => o !== undefined && o !== uid) ?? -1,
            below: marked || undefined,
            view: previous?.view,
        };
    }
    // Below the top entries (foreign.ts): a `docker run` step as root leaves target/debug/ and
    // its .cargo-lock root's while target/ stays ours. Such a slot would fail the build.
    const below = await findForeign(dirs, uid);
    if (below.length > 0) {
        // Said in the record too (still under the lease), so that gc and status report it; a record
        // that cannot be written changes nothing here: the slot is passed over all the same.
        await markForeign(dirs, below).catch(() => false);
        killHolder(h.pid, dirs.lock);
        return { busy: 'foreign', uid: below[0].uid, below: describeForeign(below), view: previous?.view };
    }
    if (!(await cargoFree)) {
        killHolder(h.pid, dirs.lock);
        return { busy: 'cargo' };
    }
    audit({ event: 'lease', lock: dirs.lock, dir: dirs.base, keeperPid: h.pid, jobUid: req.me.jobUid });
    return { lease: h, previous };
}
/** Free slots of this trust domain whose build was made under paths this job does not see: said once. */
function otherViews(slots, me) {
    return slots
        .filter((v) => !v.live && v.record?.view && trustDomain(v.record) === trustDomain(me) && !warmFor(v.record.view, v.view))
        .map((v) => {
        const sees = v.view
            ? `this job sees ${v.view.target}`
            : "this job's paths are not known before its first build on this host (the runner's hook cannot tell a container job)";
        return `Slot ${v.name} holds ${v.record.key}'s build of job ${v.record.job}, made at ${v.record.view.target}; ${sees}: not warm for it.`;
    });
}
/** Each slot with the paths this job would see there, when the job's viewpoint is known. */
function withViews(slots, req) {
    const vp = req.view && (req.view.own ?? jobViewpoint(slots, req.me));
    return vp ? slots.map((s) => ({ ...s, view: req.view.at(vp, s.name) })) : slots;
}
async function newSlot(root, taken) {
    let i = taken.reduce((m, s) => Math.max(m, Number(s.name.slice(1)) + 1), 0);
    for (;;) {
        const name = slotName(i);
        try {
            await fs.mkdir(slotDirs(root, name).base);
            return name;
        }
        catch (e) {
            if (e.code !== 'EEXIST')
                throw e;
            i++;
        }
    }
}
async function acquireSlot(req) {
    const started = Date.now();
    const zombies = [];
    const foreign = [];
    // Read while the first scan reads the slots' records: neither waits for the other.
    const history = lease_hostHistory(req.root);
    // Set once a predecessor is named: how long waiting for it can pay (waitBudget).
    let deadline;
    let awaited;
    for (let scan = 0;; scan++) {
        const views = withViews(await lease_scanSlots(req.root, history, { nowMs: req.nowMs }), req);
        if (scan === 0)
            for (const line of otherViews(views, req.me))
                req.log.info(line);
        // Measured after the guard and again on every scan: a new slot is made only while it fits.
        const room = req.diskTarget !== undefined && SHIPPED.room(await measure(req.root), req.diskTarget);
        const plan = SHIPPED.rank(views, req.me, { room });
        if (plan.waitFor !== undefined && deadline === undefined) {
            const b = SHIPPED.wait(req.me, views.find((v) => v.name === plan.waitFor)?.record, req.leaseWaitMs);
            deadline = started + b.ms;
            awaited = plan.waitFor;
            if (b.ms > 0)
                req.log.info(waitingForOwnBuild(plan.waitFor, b.why, Math.round(b.ms / 1000)));
            else
                req.log.info(notWaitingForOwnBuild(plan.waitFor, b.why));
        }
        const inWindow = deadline !== undefined && Date.now() < deadline;
        const waiting = plan.waitFor !== undefined && inWindow;
        const order = waiting ? [{ name: plan.waitFor, tier: 'own-job' }] : plan.candidates;
        let lingering = false;
        for (const c of order) {
            const dirs = slotDirs(req.root, c.name);
            const r = await tryLease(dirs, req);
            if ('lease' in r) {
                return {
                    layout: 'slot',
                    name: c.name,
                    dirs,
                    keeperPid: r.lease.pid,
                    tier: c.tier,
                    waitedMs: Date.now() - started,
                    previous: r.previous,
                    zombies,
                    foreign,
                };
            }
            // A cancelled run's post step has released the lease, but the cargo its shell left running
            // holds cargo's locks until the runner's cleanup after the post steps: part of the wait.
            if (r.busy === 'cargo' && c.name === awaited && inWindow) {
                lingering = true;
                break;
            }
            if (r.busy === 'cargo' && !zombies.includes(c.name)) {
                zombies.push(c.name);
                req.log.warning(cargoStillInSlot(c.name));
            }
            if (r.busy === 'foreign' && !foreign.includes(c.name)) {
                foreign.push(c.name);
                const me = myUid();
                // Built by a job container as that uid (its view is not this root's path): not a `docker run` step.
                if (r.view && r.view.uid === r.uid && r.view.root !== req.root)
                    req.log.info(containerFilesInSlot({ slot: c.name, uid: r.uid, seenAt: r.view.root, me }));
                else if (r.below)
                    req.log.info(stepFilesInSlot({ slot: c.name, files: r.below, me }));
                else
                    req.log.info(rootJobFilesInSlot({ slot: c.name, uid: r.uid, me }));
            }
        }
        if (waiting || lingering) {
            await sleep(500);
            continue;
        }
        if (room && views.some((v) => !v.live))
            req.log.info("The disk is under disk-target: a new slot, keeping the free slots' warm builds for the PRs and jobs that made them.");
        const name = await newSlot(req.root, views);
        const dirs = slotDirs(req.root, name);
        const r = await tryLease(dirs, req);
        if ('lease' in r) {
            return { layout: 'slot', name, dirs, keeperPid: r.lease.pid, tier: 'new', waitedMs: Date.now() - started, zombies, foreign };
        }
        // Someone took the slot we just made: scan again.
    }
}
async function acquireJobDir(req) {
    const dirs = jobDirs(req.root, req.me);
    await fs.mkdir(dirs.base, { recursive: true });
    const h = await startKeeper(dirs.lock, req.watchPid, req.maxLeaseMs);
    if (h)
        audit({ event: 'lease', lock: dirs.lock, dir: dirs.base, keeperPid: h.pid, jobUid: req.me.jobUid });
    if (!h)
        throw new Error(`The new job directory ${dirs.base} is already leased: job uids are meant to be unique (nonce ${req.me.nonce}).`);
    return { layout: 'job', name: dirs.base.split('/').slice(-1)[0], dirs, keeperPid: h.pid, tier: 'new', waitedMs: 0, zombies: [], foreign: [] };
}
/** Ends a lease taken by startKeeper; true when the keeper was still there to stop. */
async function releaseLease(keeperPid, lock, dir = '') {
    const killed = flock_killHolder(keeperPid, lock);
    // The kernel drops the lock once every process of the keeper's group is gone: one waiting
    // flock, woken as it drops, rather than a probe every few milliseconds (up to 2 s, as before).
    if (killed)
        await waitFree(lock, 2);
    if (killed)
        audit_audit({ event: 'release', lock, dir, keeperPid });
    return killed;
}

;// CONCATENATED MODULE: ./src/pool/root.ts









/*
 * The root every slot, store and lock lives under: which paths are refused as roots (system
 * directories, $HOME, the workspace, a directory cargo-isolate did not make), which filesystems'
 * flock cannot be trusted, and making a root ready with its marker and skeleton.
 */
/** Directories that must never be a root themselves (the whole tree would be ours to delete). */
const EXACT = ['/', '/home', '/root', '/tmp', '/var', '/var/tmp', '/var/lib', '/opt', '/mnt', '/media', '/srv', '/run', '/usr/local'];
/** Trees that must never contain a root. */
const UNDER = ['/proc', '/sys', '/dev', '/etc', '/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/boot'];
/** A root refused (kind 'input': the path cannot be meant) or that cannot be used here (kind 'environment': not writable). */
class RootError extends Failure {
    constructor(message, kind = 'input') {
        super(message, kind);
        this.name = 'RootError';
    }
}
/** The root does not exist yet: nothing to show or prune, which is no error for `status` or `gc`. */
class RootMissingError extends RootError {
    root;
    constructor(message, root) {
        super(message);
        this.root = root;
        this.name = 'RootMissingError';
    }
}
/** Whether a root cargo-isolate made is at this path: its marker file is there. */
const isMadeRoot = async (root) => (await lstatIfPresent(rootPaths(root).marker))?.isFile() ?? false;
const within = (path, dir) => path === dir || path.startsWith(dir.endsWith(external_node_path_.sep) ? dir : dir + external_node_path_.sep);
/** Pure: why this (already resolved) path may not be a root, or undefined when it may. */
function refuseRoot(path, env) {
    if (!(0,external_node_path_.isAbsolute)(path))
        return 'it is not an absolute path';
    if (EXACT.includes(path) || UNDER.some((d) => within(path, d)))
        return 'it is a system directory';
    const home = env.HOME;
    if (home && path === (0,external_node_path_.resolve)(home))
        return 'it is the home directory';
    for (const [name, dir] of [
        ['RUNNER_TEMP', env.RUNNER_TEMP],
        ['GITHUB_WORKSPACE', env.GITHUB_WORKSPACE],
    ]) {
        if (dir && within(path, (0,external_node_path_.resolve)(dir))) {
            return `it is inside ${name} (${dir}), which the runner or actions/checkout empties`;
        }
    }
    return undefined;
}
/** statfs(2) f_type of filesystems where flock(2) does not exclude across hosts or VMs. */
const UNRELIABLE_FLOCK = {
    0x6969: 'NFS',
    0xff534d42: 'CIFS/SMB',
    0xfe534d42: 'SMB2',
    0x65735546: 'FUSE (e.g. Docker Desktop file sharing)',
    0x47504653: 'GPFS',
    0x0bd00bd0: 'Lustre',
};
/** Pure: the warning for a root on a filesystem of this type, whose leases cannot be trusted; undefined for any other. */
function unreliableFlock(root, fsType) {
    const name = UNRELIABLE_FLOCK[fsType >>> 0];
    return name && unreliableFlockRoot(root, name, fsType);
}
/** Resolves symlinks in the part of the path that exists, so `/data -> /` is seen as `/`. */
async function realpathLoose(path) {
    let head = path;
    const tail = [];
    for (;;) {
        try {
            return (0,external_node_path_.join)(await external_node_fs_.promises.realpath(head), ...tail.reverse());
        }
        catch {
            const parent = (0,external_node_path_.dirname)(head);
            if (parent === head)
                return path;
            tail.push(head.slice(parent.length).replace(/^\//, ''));
            head = parent;
        }
    }
}
/** The real reason a path cannot be made: recursive mkdir reports ENOENT even on a read-only fs. */
async function blame(path) {
    for (let p = path;; p = (0,external_node_path_.dirname)(p)) {
        if (await external_node_fs_.promises.stat(p).then(() => true, () => false)) {
            return external_node_fs_.promises.access(p, external_node_fs_.constants.W_OK).then(() => undefined, (e) => e);
        }
        if ((0,external_node_path_.dirname)(p) === p)
            return undefined;
    }
}
/**
 * Validates the root and creates its skeleton. Returns the resolved root path.
 * Refuses a directory that holds other files and was not made by cargo-isolate: gc would
 * otherwise manage (and could delete) data that was never ours.
 */
async function prepareRoot(raw, env, create = true, origin = { kind: 'input', name: 'root' }) {
    const input = `${subjectOf(origin)} is '${raw}'`;
    if (!(0,external_node_path_.isAbsolute)(raw))
        throw new RootError(`${input}. Expected an absolute path (e.g. /mnt/ci-cache/cargo-isolate).`);
    const root = await realpathLoose((0,external_node_path_.resolve)(raw));
    const why = refuseRoot(root, env);
    if (why)
        throw new RootError(`${input}${root !== raw ? ` (resolves to ${root})` : ''}: refused because ${why}. Choose a dedicated directory such as /mnt/ci-cache/cargo-isolate.`);
    const st = await absent_ifPresent(root, () => external_node_fs_.promises.stat(root), { notADirectory: 'absent' });
    if (st && !st.isDirectory())
        throw new RootError(`${input}: it exists and is not a directory. Remove it or choose another path.`);
    const p = layout_rootPaths(root);
    if (st) {
        // One readdir is one snapshot: a job making this root writes the marker before anything
        // else, so a snapshot with any other entry but no marker is not ours.
        const entries = (await external_node_fs_.promises.readdir(root)).filter((e) => e !== 'lost+found');
        if (!entries.includes(MARKER)) {
            if (entries.length > 0) {
                throw new RootError(`${input}: the directory is not empty and was not created by cargo-isolate ` +
                    `(no ${MARKER}; found ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''}). Use an empty or new directory.`);
            }
        }
    }
    else if (!create) {
        throw new RootMissingError(`${input}: it does not exist (nothing to manage yet).`, root);
    }
    if (!create)
        return root;
    try {
        await external_node_fs_.promises.mkdir(root, { recursive: true });
        await external_node_fs_.promises.access(root, external_node_fs_.constants.W_OK);
        // The marker comes before anything else: a second job making the same new root at the same
        // moment then sees either an empty directory or a marked one, never an unmarked skeleton.
        await external_node_fs_.promises.writeFile(p.marker, JSON.stringify({ format: 1 }) + '\n', { flag: 'wx' }).catch((e) => {
            if (e.code !== 'EEXIST')
                throw e;
        });
        const skeleton = [p.locks, p.slots, p.jobs, p.trash, p.crates];
        for (const d of skeleton)
            await external_node_fs_.promises.mkdir(d, { recursive: true });
        // Shared by every job on the host: a root job gives it back at once, not in its post step,
        // or a runner-user job starting meanwhile could not create its lock file or slot.
        const to = owner_handBackTo(proc_myUid(), await owner_ownerOf(root));
        if (to && (await ownersOf([p.marker, ...skeleton])).some((u) => u !== to.uid))
            await owner_chownTree([p.marker, ...skeleton], to, false);
    }
    catch (e) {
        const err = (await blame(root)) ?? e;
        // The host's doing, not the value's: the path may be right, and this user or mount wrong.
        const fix = err.code === 'EACCES' || err.code === 'EPERM' ? 'Give the runner user write access, or choose another path' : undefined;
        if (!err.code)
            throw e;
        throw new RootError(`${input}: cannot create or write it: ${errnoText({ code: err.code, syscall: err.syscall, path: err.path ?? root }, fix)}`, 'environment');
    }
    return root;
}

;// CONCATENATED MODULE: ./src/os/sizes.ts

// How many bytes a tree takes on disk, as pruning it would free them.
/**
 * Bytes a tree takes on disk (allocated blocks, what pruning would free), via `du`, which is
 * an order of magnitude faster than a walk in JavaScript. Never follows symlinks, stays on one
 * filesystem. 0 for a missing tree.
 *
 * `countedFirst`: trees whose files count there and not in `path`. du counts a file with several
 * hard links once, where it meets it first, so a file the crate or git store links into a job's
 * directory counts in the store: removing the directory frees nothing of it, and the guard's
 * totals count it once (pool/guard.ts).
 */
function sizes_diskUsage(path, timeoutMs = 30_000, countedFirst = []) {
    return new Promise((res) => {
        const child = (0,external_node_child_process_namespaceObject.spawn)('du', ['-s', '-x', '-B1', '--', ...countedFirst, path], { stdio: ['ignore', 'pipe', 'ignore'], timeout: timeoutMs });
        let out = '';
        child.stdout.on('data', (d) => (out += d.toString()));
        child.on('error', () => res(0));
        child.on('close', () => {
            // One line per argument that exists, `BYTES<TAB>PATH`, in the order given.
            const line = out.split('\n').find((l) => l.slice(l.indexOf('\t') + 1) === path);
            res(parseInt(line ?? '', 10) || 0);
        });
    });
}

;// CONCATENATED MODULE: ./src/owners/handback.ts











/*
 * The effects of owner.ts's rule, "everything under a root belongs to the root's owner", for
 * a process running as root on a root owned by another user: a job's post step gives back what
 * that job made; `cargo-isolate gc` run as root gives back what no post step did (a container
 * removed before post). A slot's record stops saying uid 0 only after its chown succeeded, so
 * an interrupted hand-back leaves a slot other uids pass over, never one they trip on.
 */
/** Root's own directories under homes/: its CARGO_HOME, its record of verified sources, its fork PRs' compile cache. */
const ROOT_OWN = /^u0(-untrusted-sccache|-verified)?$/;
async function giveSlot(dirs, to, timeoutMs) {
    const r = await owner_chownTree([dirs.base], to, true, timeoutMs);
    if (!r.ok)
        throw new Failure(`chown -R ${dirs.base} to uid ${to.uid} failed (${r.detail}); the slot stays marked as uid 0's, ` +
            "and other users' jobs pass it over until a root job or 'cargo-isolate gc' run as root cleans it", 'environment');
    const rec = await record_file_readRecord(dirs.record);
    if (rec && (rec.uid !== to.uid || rec.foreign)) {
        await writeRecord(dirs.record, { ...rec, uid: to.uid, foreign: undefined });
        await owner_chownTree([dirs.record], to, false);
    }
}
/**
 * Main step, layout job: jobs/<repo>/<key>/ are shared with other jobs of that key, so they are
 * given back at once (the job's own directory goes with its post step).
 */
async function handBackJobParents(root, jobDir) {
    const to = handBackTo(myUid(), await ownerOf(root));
    const key = dirname(jobDir);
    if (to)
        await chownTree([dirname(key), key], to, false);
}
/** Post step: the job's slot, the lock files and, when it published, the crate store. */
async function handBackJob(j, published, gitPublished = 0, archived = false) {
    const to = owner_handBackTo(proc_myUid(), await owner_ownerOf(j.root));
    if (!to)
        return undefined;
    const shared = [layout_rootPaths(j.root).locks];
    if (published && (published.published > 0 || published.indexEntries > 0))
        shared.push(layout_storePaths(j.root).base);
    if (gitPublished > 0)
        shared.push(layout_gitStorePaths(j.root).base);
    // A dependency archive it saved (job/tiers.ts): the root owner's guard must be able to remove it.
    if (archived)
        shared.push(layout_rootPaths(j.root).archives);
    const r = await owner_chownTree(shared, to, true, j.cleanupTimeoutMs);
    if (!r.ok)
        throw new Failure(`chown -R ${shared.join(' ')} to uid ${to.uid} failed: ${r.detail}`, 'environment');
    // homes/ itself (mode 1777) and root's own CARGO_HOME and caches below it (cargo-home.ts) go back
    // like the rest: the runner user's guard and gc can then free them; root's jobs keep using them.
    // Only what root made there since: the rest keeps its change time (home-sources.ts reads it).
    const homes = layout_rootPaths(j.root).homes;
    if ((await absent_lstatIfPresent(homes))?.uid === 0)
        await owner_chownTree([homes], to, false);
    const rootOwn = (await absent_listDir(homes)).filter((n) => ROOT_OWN.test(n)).map((n) => `${homes}/${n}`);
    if (rootOwn.length) {
        const r = await owner_chownTree(rootOwn, to, true, j.cleanupTimeoutMs, { from: 0 });
        if (!r.ok)
            throw new Failure(`chown -R ${rootOwn.join(' ')} to uid ${to.uid} failed: ${r.detail}`, 'environment');
    }
    if (j.layout === 'slot')
        await giveSlot(j.dirs, to, j.cleanupTimeoutMs);
    const names = [...shared, ...(j.layout === 'slot' ? [j.dirs.base] : [])].map((p) => p.slice(j.root.length + 1));
    return `to uid ${to.uid}: ${names.join(', ')}`;
}
/**
 * gc as root: every idle slot that holds files of another uid than the root's owner, under its
 * lease and cargo's locks (a live root job keeps its own until its post step), then the shared
 * directories. Returns the slots given back.
 */
async function handBackIdle(root, timeoutMs) {
    const to = handBackTo(myUid(), await ownerOf(root));
    if (!to)
        return [];
    const given = [];
    const p = rootPaths(root);
    for (const name of (await listDir(p.slots)).filter((n) => SLOT_NAME.test(n))) {
        const dirs = slotDirs(root, name);
        const rec = await readRecord(dirs.record);
        if (canManage(to.uid, rec, await slotOwners(dirs)) && (await findForeign(dirs, to.uid)).length === 0)
            continue;
        const h = await hold([dirs.lock, ...(await cargoLockFiles(dirs.target, dirs.cargoHome))]);
        if (!h)
            continue; // live
        try {
            await giveSlot(dirs, to, timeoutMs);
            given.push(name);
        }
        finally {
            await release(h);
        }
    }
    // The CARGO_HOME each uid's jobs share: another uid's files there (a `docker run` step as root
    // that mounted it) go back to the uid the home belongs to. chown changes no content a running
    // cargo reads, so no lock is needed.
    for (const name of await listDir(p.homes)) {
        const home = `${p.homes}/${name}`;
        const uid = /^u(\d+)$/.test(name) ? Number(name.slice(1)) : undefined;
        const st = await lstatIfPresent(home);
        if (uid === 0 && st?.isDirectory()) {
            // Root's own home goes to the root's owner, as a root job's post step does (handBackJob).
            if ((await chownTree([home, `${home}-untrusted-sccache`, `${home}-verified`].filter((h) => h === home || existsSync(h)), to, true, timeoutMs, { from: 0 })).ok)
                given.push(`homes/${name}`);
            continue;
        }
        if (uid === undefined || !st?.isDirectory() || st.uid !== uid)
            continue;
        if ((await findForeignInHome(home, uid)).length === 0)
            continue;
        const r = await chownTree([home], { uid, gid: st.gid }, true, timeoutMs);
        if (r.ok)
            given.push(`homes/${name}`);
    }
    const git = gitStorePaths(root).base;
    const r = await chownTree([p.marker, p.locks, p.slots, p.jobs, p.trash, p.crates, git], to, false, timeoutMs);
    if (r.ok)
        await chownTree([p.locks, p.jobs, p.crates, git], to, true, timeoutMs);
    return given;
}

;// CONCATENATED MODULE: ./src/os/sockets.ts


/** Pure: the TCP listeners on 127.0.0.1 (or any address) in /proc/net/tcp's format. */
function parseListeners(procNetTcp) {
    const out = [];
    for (const line of procNetTcp.split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f.length < 10 || f[3] !== '0A')
            continue; // 0A: LISTEN
        const [addr, port] = f[1].split(':');
        if (addr !== '0100007F' && addr !== '00000000')
            continue;
        out.push({ port: parseInt(port, 16), uid: Number(f[7]), inode: Number(f[9]) });
    }
    return out;
}
/** Other processes' entries in /proc: gone (ENOENT, ESRCH) or another uid's (EACCES) is the normal case there. */
const PROCESSES = { alsoAbsent: ['ESRCH', 'EACCES'] };
/** The TCP listeners on 127.0.0.1 or any address, v4 and v6, in this network namespace. */
async function tcpListeners() {
    const [v4, v6] = await Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map(async (f) => (await absent_readTextIfPresent(f)) ?? ''));
    // tcp6 addresses are longer; only ::ffff:127.0.0.1 and :: could matter, and sccache 0.4 binds v4.
    return [...parseListeners(v4), ...parseListeners(v6.replace(/ 0{24}0100007F:/g, ' 0100007F:').replace(/ 0{32}:/g, ' 00000000:'))];
}
/**
 * The process holding a socket inode: `hint` (a pid seen before) first, then only processes
 * whose command is `comm`, which keeps the scan of /proc cheap.
 */
async function socketOwner(inode, comm, hint) {
    const want = `socket:[${inode}]`;
    const holds = async (p) => {
        for (const fd of await absent_listDir(`/proc/${p}/fd`, PROCESSES)) {
            if ((await absent_ifPresent(`/proc/${p}/fd/${fd}`, () => external_node_fs_.promises.readlink(`/proc/${p}/fd/${fd}`), PROCESSES)) === want)
                return true;
        }
        return false;
    };
    if (hint && (await holds(String(hint))))
        return hint;
    for (const p of await absent_listDir('/proc')) {
        if (!/^\d+$/.test(p))
            continue;
        const name = await absent_readTextIfPresent(`/proc/${p}/comm`, PROCESSES);
        if (name?.trim() === comm && (await holds(p)))
            return Number(p);
    }
    return undefined;
}
/** A process's environment (/proc/<pid>/environ); undefined when it is gone or not ours to read. */
async function environOf(pid) {
    const raw = await absent_readTextIfPresent(`/proc/${pid}/environ`, PROCESSES);
    if (raw === undefined)
        return undefined;
    const out = {};
    for (const kv of raw.split('\0'))
        if (kv.includes('='))
            out[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
    return out;
}
/** Whether `pid` sees the same files as this process (the same mount namespace). */
async function sameMountNamespace(pid) {
    const ns = (p) => absent_ifPresent(`/proc/${p}/ns/mnt`, () => external_node_fs_.promises.readlink(`/proc/${p}/ns/mnt`), PROCESSES);
    const [theirs, ours] = await Promise.all([ns(String(pid)), ns('self')]);
    return theirs !== undefined && theirs === ours;
}

;// CONCATENATED MODULE: ./src/host/sccache.ts










/*
 * One sccache server per host (per uid, mount namespace and sccache configuration) that
 * belongs to no job: issue 17.
 *
 * sccache's client starts a server when none answers on SCCACHE_SERVER_PORT, and the server
 * inherits that job's environment: its RUNNER_TRACKING_ID (the runner kills every process
 * carrying it when the job ends) and its TMPDIR (the job's slot tmp/, which the post step
 * empties while the server still writes other jobs' dep-info there). So when a job compiles
 * through sccache, the main step makes sure a server answers on a port of our choosing first,
 * one it started itself: detached in its own session (sccache daemonizes anyway), with a
 * minimal environment (no RUNNER_TRACKING_ID, no job secrets), a temp dir of its own under the
 * root, and no idle timeout (a server that exits when idle would be restarted by the next
 * client, from inside a job, with that job's environment). The job gets SCCACHE_SERVER_PORT.
 *
 * Why not a server per job: sccache 0.4's disk cache keeps its index in memory, read once at
 * start, and enforces SCCACHE_CACHE_SIZE against that index alone. Several servers on one
 * SCCACHE_DIR each miss what the others wrote since they started and together exceed the size
 * limit (measured: docs/sccache.md).
 *
 * Why the port depends on uid and mount namespace: a server writes compile outputs as its own
 * uid (a root container job's server compiling for a host job would leave root-owned files in
 * its target dir) and resolves paths in its own mount namespace (a container's /__w/... is not
 * the host's). A container with its own network namespace has its own 127.0.0.1 anyway; one
 * with the host's network must still never reach the host's server. What answers on a port is
 * checked, not trusted: a listener of another uid, or one carrying a RUNNER_TRACKING_ID (a
 * job's server, started by a client), is passed over for the next candidate port.
 */
/** How many ports a configuration may fall back to when its first ones are taken. */
const CANDIDATES = 8;
/** Below Linux's ephemeral range (32768+): outgoing connections never occupy these. */
const PORT_BASE = 10000;
const PORT_SPAN = 20000;
/** The wrapper cargo-isolate puts in front of the job's own (rustc-wrapper.ts's script). */
const OUR_WRAPPER = 'cargo-isolate-rustc';
/** Where our wrapper finds the job's own wrapper. */
const WRAPPED = 'CARGO_ISOLATE_RUSTC_WRAPPER';
/** Pure: whether cargo, run with `env`, compiles through sccache. */
function sccacheWrapper(env) {
    // cargo reads RUSTC_WRAPPER first; an empty one disables the wrapper.
    for (const variable of ['RUSTC_WRAPPER', 'CARGO_BUILD_RUSTC_WRAPPER']) {
        let v = env[variable];
        if (v === undefined)
            continue;
        // Ours runs the job's own wrapper, named in WRAPPED (a second main step in the job, a post step).
        if ((0,external_node_path_.basename)(v.trim()) === OUR_WRAPPER)
            v = env[WRAPPED] ?? '';
        const name = (0,external_node_path_.basename)(v.trim()).replace(/\.exe$/i, '');
        return name === 'sccache' ? { variable, command: v.trim() } : undefined;
    }
    return undefined;
}
/** The server's settings: every SCCACHE_* variable but the ones this module sets itself. */
const OURS = new Set([
    'SCCACHE_SERVER_PORT',
    'SCCACHE_IDLE_TIMEOUT',
    'SCCACHE_START_SERVER',
    'SCCACHE_STARTUP_NOTIFY',
    'SCCACHE_NO_DAEMON',
    'SCCACHE_ERROR_LOG',
]);
function sccacheSettings(env) {
    const out = {};
    for (const k of Object.keys(env).sort())
        if (k.startsWith('SCCACHE_') && !OURS.has(k) && env[k] !== undefined)
            out[k] = env[k];
    return out;
}
/**
 * Pure: the ports a server for this uid, mount namespace and configuration may use, in order.
 * Jobs with the same three share a server; anything else gets another one.
 */
function candidatePorts(uid, mountNs, settings) {
    const h = (0,external_node_crypto_.createHash)('sha256').update(JSON.stringify({ uid, mountNs, settings })).digest().readUInt32BE(0);
    return Array.from({ length: CANDIDATES }, (_, i) => PORT_BASE + ((h + i * 2503) % PORT_SPAN));
}
/** Pure: use this port (start a server or reuse the one there), or try the next. */
function decide(o) {
    if (o.kind === 'free')
        return 'start';
    if (o.kind === 'host-server')
        return 'reuse';
    return 'next';
}
/** Pure: the environment the host server starts with. Nothing of the job's but what sccache needs. */
function serverEnv(env, port, tmp) {
    const keep = ['PATH', 'HOME', 'RUSTUP_HOME', 'LANG', 'LC_ALL', 'USER', 'LOGNAME'];
    const out = {};
    for (const k of keep)
        if (env[k] !== undefined)
            out[k] = env[k];
    return {
        ...out,
        ...sccacheSettings(env),
        SCCACHE_SERVER_PORT: String(port),
        // 0 = never exit when idle: a server that exits would be restarted by a job's client.
        SCCACHE_IDLE_TIMEOUT: '0',
        TMPDIR: tmp,
        TMP: tmp,
        TEMP: tmp,
    };
}
/** Pure: the summary's line for it. */
function describeServer(r) {
    const who = r.how === 'started' ? 'started by this job' : 'already running';
    const tmp = r.tmp ? `; its temp dir ${r.tmp}` : '';
    const passedOver = r.passedOver.length ? `; passed over ${r.passedOver.join(', ')}` : '';
    return `host server on 127.0.0.1:${r.port}${r.pid ? ` (pid ${r.pid})` : ''}, ${who}, belonging to no job${tmp}${passedOver}`;
}
// ---- effects ----
/** What answers on `port` (in this network namespace), read from /proc. */
async function occupant(port, uid, hint) {
    const l = (await tcpListeners()).find((x) => x.port === port);
    if (!l)
        return { kind: 'free' };
    if (l.uid !== uid)
        return { kind: 'other-uid', uid: l.uid };
    const pid = await socketOwner(l.inode, 'sccache', hint);
    if (!pid)
        return { kind: 'unknown' };
    const env = await environOf(pid);
    if (!env)
        return { kind: 'unknown' };
    if (env.RUNNER_TRACKING_ID)
        return { kind: 'job-server', pid, trackingId: env.RUNNER_TRACKING_ID };
    // Another mount namespace resolves the job's paths to other files (or none).
    if (!(await sameMountNamespace(pid)))
        return { kind: 'unknown' };
    return { kind: 'host-server', pid };
}
/** Pure: the port the job's own settings name (or sccache's default), if the fleet runs a server there itself. */
function fleetPort(env) {
    const p = Number(env.SCCACHE_SERVER_PORT);
    return Number.isInteger(p) && p > 0 && p < 65536 ? p : 4226;
}
const STARTUP_GRACE_MS = 30_000;
/** What answers on `port` once anything does (or `graceMs` ran out). */
async function settled(port, uid, graceMs) {
    const end = Date.now() + graceMs;
    for (;;) {
        const o = await occupant(port, uid);
        if (o.kind !== 'free' || Date.now() >= end)
            return o;
        await new Promise((r) => setTimeout(r, 100));
    }
}
/** `<root>/sccache/u<uid>-p<port>`: a directory of this uid's own (owner.ts, ownDirIn). */
function serverDir(root, uid, port) {
    return owner_ownDirIn(layout_rootPaths(root).sccache, `u${uid}-p${port}`, uid, 0o700);
}
/**
 * Starts the server the way sccache's own client does (SCCACHE_START_SERVER=1: the process
 * daemonizes and serves), but without `--start-server`'s wait on a Unix socket under TMPDIR:
 * that wait gives up after 10 s (a config-file setting only in 0.4), and a socket path under a
 * long root exceeds the 108 bytes a socket path may have. The caller watches the port instead.
 * Resolves when the spawned process exits (at once, when it daemonizes).
 */
async function spawnServer(binary, env, dir) {
    const logPath = (0,external_node_path_.join)(dir, 'start.log');
    const out = await external_node_fs_.promises.open(logPath, 'w');
    try {
        const code = await new Promise((res, rej) => {
            // Own session, and a log file instead of pipes: the daemon must hold nothing of ours.
            const child = (0,external_node_child_process_namespaceObject.spawn)(binary, [], {
                env: { ...env, SCCACHE_START_SERVER: '1', SCCACHE_ERROR_LOG: (0,external_node_path_.join)(dir, 'error.log') },
                cwd: dir,
                detached: true,
                stdio: ['ignore', out.fd, out.fd],
            });
            child.on('error', rej);
            child.on('exit', (c) => res(c));
        });
        return { code, output: ((await absent_readTextIfPresent(logPath)) ?? '').trim() };
    }
    finally {
        await out.close();
    }
}
const tail = async (path) => ((await absent_readTextIfPresent(path)) ?? '').trim().split('\n').slice(-3).join(' / ');
/** Pure: why an occupant of a port makes this job try the next one. */
function whyNext(o) {
    if (o.kind === 'other-uid')
        return `a listener of uid ${o.uid}`;
    if (o.kind === 'job-server')
        return `a job's server, pid ${o.pid}`;
    return 'a listener of another mount namespace, or one this uid cannot see';
}
/**
 * One candidate port: a host server already there is used without a lock (every job but the
 * first finds one); else, under the port's start lock, one is started (startOnPort).
 */
async function tryPort(binary, env, port, uid, root, log) {
    const { dir, theirs } = await serverDir(root, uid, port);
    if (theirs)
        return { kind: 'next', why: theirs };
    const tmp = (0,external_node_path_.join)(dir, 'tmp');
    const hint = Number(await absent_readTextIfPresent((0,external_node_path_.join)(dir, 'server.pid'))) || undefined;
    const seen = await occupant(port, uid, hint);
    if (seen.kind === 'host-server') {
        log.info(`sccache: using the host server on 127.0.0.1:${port} (pid ${seen.pid}), which belongs to no job.`);
        return { kind: 'server', pid: seen.pid, how: 'reused', tmp };
    }
    // One starter at a time per port: two jobs starting together find one server, not a race.
    const lock = await flock_hold([(0,external_node_path_.join)(dir, 'start.lock')], { waitSeconds: 60 });
    if (!lock)
        throw new Error(`Waited 60 s for ${(0,external_node_path_.join)(dir, 'start.lock')}: another job is starting the sccache server on port ${port}.`);
    try {
        return await startOnPort(binary, env, port, uid, dir, log);
    }
    finally {
        await flock_release(lock);
    }
}
/** Under the port's start lock: reuse a server another job started meanwhile, start one on a free port, or move on. */
async function startOnPort(binary, env, port, uid, dir, log) {
    const tmp = (0,external_node_path_.join)(dir, 'tmp');
    const errorLog = (0,external_node_path_.join)(dir, 'error.log');
    for (let attempt = 0; attempt < 3; attempt++) {
        const o = await occupant(port, uid);
        const what = decide(o);
        if (what === 'reuse' && o.kind === 'host-server') {
            log.info(`sccache: using the host server on 127.0.0.1:${port} (pid ${o.pid}), which belongs to no job.`);
            return { kind: 'server', pid: o.pid, how: 'reused', tmp };
        }
        if (what === 'next')
            return { kind: 'next', why: whyNext(o) };
        // Free: nothing uses the old temp dir any more (its server is gone), so start clean.
        await external_node_fs_.promises.rm(tmp, { recursive: true, force: true });
        await external_node_fs_.promises.mkdir(tmp, { recursive: true, mode: 0o700 });
        const r = await spawnServer(binary, serverEnv(env, port, tmp), dir);
        if (r.code !== 0)
            throw new Error(`'${binary}' (SCCACHE_START_SERVER=1) on port ${port} exited with ${r.code}: ${r.output || (await tail(errorLog)) || 'no output'}.`);
        const now = await settled(port, uid, STARTUP_GRACE_MS);
        if (now.kind === 'host-server') {
            await external_node_fs_.promises.writeFile((0,external_node_path_.join)(dir, 'server.pid'), `${now.pid}\n`).catch(() => undefined);
            log.info(`sccache: started a host server on 127.0.0.1:${port} (pid ${now.pid}): own session, no RUNNER_TRACKING_ID, temp dir ${tmp}, no idle timeout.`);
            return { kind: 'server', pid: now.pid, how: 'started', tmp };
        }
        if (now.kind === 'free')
            throw new Error(`the sccache server started on port ${port} did not listen within ${STARTUP_GRACE_MS / 1000} s (${errorLog}: ${(await tail(errorLog)) || 'empty'}).`);
        // Another process bound the port first (a job's client): look again.
    }
    return { kind: 'next' };
}
/**
 * Makes sure a host server that belongs to no job answers for a job that compiles through
 * sccache, and says which (undefined for a job that does not use sccache: nothing touched).
 * The one entry for the main step and for the runner's job-started hook.
 */
async function ensureSccacheServer(env, paths, log) {
    const wrapper = sccacheWrapper(env);
    if (!wrapper)
        return undefined;
    const t0 = performance.now();
    const binary = await findOnPath(wrapper.command, env.PATH);
    if (!binary)
        throw new Error(`${wrapper.variable} is '${wrapper.command}', but no executable '${wrapper.command}' is on PATH. Install sccache or unset ${wrapper.variable}.`);
    const uid = proc_myUid();
    const mountNs = await external_node_fs_.promises.readlink('/proc/self/ns/mnt').catch(() => 'unknown');
    const passedOver = [];
    const report = (port, s) => ({
        variable: wrapper.variable,
        port,
        pid: s.pid,
        how: s.how,
        tmp: s.tmp,
        passedOver,
        ms: Math.round(performance.now() - t0),
    });
    // A server the host runs itself (systemd, a login shell) on the configured port belongs to
    // no job either: use it rather than start a second server on the same SCCACHE_DIR. Never
    // start one there: that port is where jobs' own clients start theirs.
    const configured = fleetPort(env);
    const there = await occupant(configured, uid);
    if (there.kind === 'host-server') {
        log.info(`sccache: using the host's own server on 127.0.0.1:${configured} (pid ${there.pid}), which belongs to no job.`);
        return report(configured, { kind: 'server', pid: there.pid, how: 'reused', tmp: '' });
    }
    for (const port of candidatePorts(uid, mountNs, sccacheSettings(env))) {
        const got = await tryPort(binary, env, port, uid, paths.root, log);
        if (got.kind === 'server')
            return report(port, got);
        if (got.why)
            passedOver.push(`${port} (${got.why})`);
    }
    throw new Error(`No port for an sccache server of uid ${uid}: every candidate was taken (${passedOver.join('; ')}).`);
}
/** What the job must export to compile through that server. */
function sccacheExports(r) {
    return r ? { SCCACHE_SERVER_PORT: String(r.port) } : {};
}
/**
 * How long a server told to stop may take to exit: sccache 0.4 answers `--stop-server` before it
 * closes its port, then waits up to 10 s for the compiles in flight (server.rs, SHUTDOWN_TIMEOUT);
 * a busy machine adds to both.
 */
const STOP_GRACE_MS = 30_000;
/**
 * The post step, before it empties the job's tmp/: a server on the job's port that carries
 * this job's RUNNER_TRACKING_ID was started by the job's own client (the host server had died)
 * and writes into the job's TMPDIR; the runner kills it in a moment anyway. Stop it now, and wait
 * until it has exited: `--stop-server` returns while the server may still hold the port and run
 * compiles in that TMPDIR. One that has not exited after STOP_GRACE_MS gets SIGKILL, as the
 * runner would give it. Then start a host server in its place for the jobs still on that port.
 * Returns what it did, for a warning; undefined when there was nothing to do.
 */
async function sccacheAtEnd(r, env, paths, log) {
    if (!r)
        return undefined;
    const uid = proc_myUid();
    const o = await occupant(r.port, uid, r.pid);
    if (o.kind !== 'job-server' || o.trackingId !== env.RUNNER_TRACKING_ID)
        return undefined;
    const wrapper = sccacheWrapper(env);
    const binary = wrapper && (await findOnPath(wrapper.command, env.PATH));
    const start = proc_procStat(o.pid)?.start;
    if (!binary || !start)
        return undefined;
    await new Promise((res) => {
        const c = (0,external_node_child_process_namespaceObject.spawn)(binary, ['--stop-server'], {
            env: { ...env, SCCACHE_SERVER_PORT: String(r.port) },
            stdio: 'ignore',
            timeout: STOP_GRACE_MS,
            killSignal: 'SIGKILL',
        });
        c.on('error', () => res());
        c.on('exit', () => res());
    });
    let how = 'stopped it before emptying TMPDIR';
    if (!(await waitExited(o.pid, start, STOP_GRACE_MS))) {
        try {
            process.kill(o.pid, 'SIGKILL');
        }
        catch {
            // exited just now
        }
        // SIGKILL cannot be caught: a moment is enough for the kernel to end it.
        how = (await waitExited(o.pid, start, 5_000))
            ? `killed it before emptying TMPDIR (it had not exited ${STOP_GRACE_MS / 1000} s after --stop-server)`
            : `could not end it before emptying TMPDIR (it still ran after SIGKILL)`;
    }
    const again = await ensureSccacheServer(env, paths, log).catch((e) => e);
    const then = again instanceof Error
        ? `; starting a host server again failed: ${again.message}`
        : again
            ? `, and ${again.how} the host server on port ${again.port}`
            : '';
    const started = `sccache: this job's own client had started a server on port ${r.port} (pid ${o.pid}, the host server was gone)`;
    return `${started}; ${how}${then}.`;
}

;// CONCATENATED MODULE: ./src/pool/events.ts


/** Pure: a guard run's result from its report (`acting`, `othersBytes`: what the scope left, guard.ts GuardReport). */
function guardResult(r) {
    if (r.over)
        return r.acting === 'runner' && (r.othersBytes ?? 0) > 0 ? 'scoped' : 'over';
    return r.removals.some((x) => x.outcome === 'removed') ? 'freed' : 'under';
}
const eventsLog = (root) => layout_rootPaths(root).events;
/** Appends one event; returns the error instead of throwing (a job never fails over its metrics). */
async function events_recordEvent(root, e) {
    try {
        await appendLine(root, eventsLog(root), { t: new Date().toISOString(), ...e });
        return undefined;
    }
    catch (err) {
        return err;
    }
}
/** Every event the log may hold: one entry per member of FleetEvent, or this does not compile. */
const KNOWN = { guard: true, lease: true, unisolated: true, archive: true };
/** Pure: the events of a log's text; torn and unknown lines are skipped. */
function parseEvents(text) {
    return parseLines(text, (o) => typeof o.event === 'string' && Object.hasOwn(KNOWN, o.event));
}

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
function planArchive(profiles, local) {
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
const NOT_PROFILE = new Set(['doc', 'package', 'tmp', 'incremental', 'deps', 'build', '.fingerprint', 'examples']);

;// CONCATENATED MODULE: ./src/os/copy.ts




/** Copies the content of `src` into the existing, empty directory `dst`. */
async function copy_copyTree(src, dst, timeoutMs) {
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

// EXTERNAL MODULE: external "node:stream"
var external_node_stream_ = __nccwpck_require__(7075);
;// CONCATENATED MODULE: external "node:stream/promises"
const external_node_stream_promises_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:stream/promises");
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
    const child = (0,external_node_child_process_namespaceObject.spawn)(cmd, args, { stdio: [stdin, 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL', cwd });
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
const nodeHasZstd = () => typeof external_node_zlib_.createZstdCompress === 'function';
/** Pure: which engine compresses, given what the host has; undefined: neither (no archive then). */
function chooseCompressor(has, wanted) {
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
    await (0,external_node_stream_promises_namespaceObject.pipeline)(from, hash.t, new external_node_stream_.Writable({ write: (_c, _e, cb) => cb() }));
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
const nodeCompressor = () => external_node_zlib_.createZstdCompress({ params: { [external_node_zlib_.constants.ZSTD_c_compressionLevel]: 3 } });
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
async function packTar(dir, files, out, compressor, timeoutMs) {
    // --directory before --files-from: GNU tar applies it to the names that follow it only.
    const tarArgs = ['--create', '--file=-', '--format=posix', '--pax-option=delete=atime,delete=ctime', '--numeric-owner', `--directory=${dir}`];
    const tar = pipe_spawnPiped('tar', [...tarArgs, '--no-recursion', '--null', '--files-from=-'], timeoutMs);
    tar.stdin.end(files.map((f) => `${f}\0`).join(''));
    // zstd reads tar's output in the kernel: only the compressed bytes (a fifth) pass through here, to be hashed.
    const z = compressor === 'zstd' ? pipe_spawnFed('zstd', ['-3', '-T0', '-q', '-c'], tar.stdout, timeoutMs) : undefined;
    const hash = hashing();
    const write = (0,external_node_fs_.createWriteStream)(out, { mode: 0o644 });
    try {
        if (z)
            await (0,external_node_stream_promises_namespaceObject.pipeline)(z.stdout, hash.t, write);
        else
            await (0,external_node_stream_promises_namespaceObject.pipeline)(tar.stdout, nodeCompressor(), hash.t, write);
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
        return (0,external_node_fs_.readdirSync)(d);
    }
    catch {
        return [];
    }
};
const isProfile = (d) => ['.fingerprint', 'build', 'deps'].some((x) => (0,external_node_fs_.existsSync)((0,external_node_path_.join)(d, x)));
/** The profile dirs of a build dir (`<profile>`, `<triple>/<profile>`), as model/archive-content reads them. */
function listBuildDir(buildDir) {
    const out = [];
    const add = (rel) => {
        const p = (0,external_node_path_.join)(buildDir, rel);
        out.push({ path: rel, fingerprints: archive_dirsIn((0,external_node_path_.join)(p, '.fingerprint')), build: archive_dirsIn((0,external_node_path_.join)(p, 'build')), deps: namesIn((0,external_node_path_.join)(p, 'deps')) });
    };
    for (const a of archive_dirsIn(buildDir).filter((n) => !NOT_PROFILE.has(n) && !n.startsWith('.'))) {
        if (isProfile((0,external_node_path_.join)(buildDir, a)))
            add(a);
        else
            for (const b of archive_dirsIn((0,external_node_path_.join)(buildDir, a)).filter((n) => !NOT_PROFILE.has(n)))
                if (isProfile((0,external_node_path_.join)(buildDir, a, b)))
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
        for (let d = (0,external_node_path_.dirname)(rel); d !== '.' && !seenDirs.has(d); d = (0,external_node_path_.dirname)(d))
            up.unshift(d);
        for (const d of up) {
            seenDirs.add(d);
            files.push(d);
        }
    };
    const walk = (rel) => {
        const st = (0,external_node_fs_.lstatSync)((0,external_node_path_.join)(buildDir, rel), { throwIfNoEntry: false });
        if (!st)
            return;
        if (st.isDirectory()) {
            seenDirs.add(rel);
            files.push(rel);
            for (const n of namesIn((0,external_node_path_.join)(buildDir, rel)).sort())
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
        const meta = readArchiveMeta(join(fallbackDir, n));
        return meta ? [{ exact: meta.exact, savedAt: meta.savedAt, dir: join(fallbackDir, n), meta }] : [];
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
function archive_findArchive(root, repository, domains, key) {
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
    const domainDir = dirname(archiveDir(root, repository, domain, 'any'));
    return archive_dirsIn(domainDir)
        .filter((f) => f !== except)
        .flatMap((f) => listArchives(join(domainDir, f)).map((c) => ({ ...c, domain })));
};
/**
 * The archive a start restores when it knows only who it is (chooseByIdentity: the runner's
 * hook), among `domains` (its own, then its base's); else why none.
 */
function archive_findArchiveByIdentity(root, repository, domains, want) {
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
            const info = JSON.parse((0,external_node_fs_.readFileSync)((0,external_node_path_.join)(buildDir, '.rustc_info.json'), 'utf8'));
            const vv = Object.values(info.outputs ?? {}).find((o) => /^rustc \S+/.test(o.stdout ?? '') && /\nbinary: rustc\n/.test(o.stdout ?? ''));
            if (vv?.stdout)
                return vv.stdout;
        }
        catch {
            // no record (an empty target) or not cargo's: ask rustc
        }
    }
    const r = (0,external_node_child_process_namespaceObject.spawnSync)('rustc', ['-vV'], { cwd, env, encoding: 'utf8', timeout: 30_000 });
    return r.status === 0 && r.stdout.startsWith('rustc ') ? r.stdout : undefined;
}
const compressorHere = (wanted) => chooseCompressor({ zstdOnPath: (process.env.PATH ?? '').split(':').some((d) => d && (0,external_node_fs_.existsSync)((0,external_node_path_.join)(d, 'zstd'))), nodeZstd: nodeHasZstd() }, wanted);
/** Saves the dependency artifacts of `buildDir` as the archive `dir`, unless one is there. Never throws. */
async function archive_saveArchive(o) {
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
    const tmp = (0,external_node_path_.join)((0,external_node_path_.dirname)(o.dir), `.${(0,external_node_path_.basename)(o.dir)}.${(0,external_node_crypto_.randomBytes)(4).toString('hex')}.tmp`);
    let writing;
    try {
        const plan = o.plan ?? planArchive(listBuildDir(o.buildDir), new Set(o.local));
        const { files, bytes } = filesOf(o.buildDir, plan.include);
        if (plan.include.length === 0)
            return not('nothing', `no dependency artifacts in ${o.buildDir}`);
        await external_node_fs_.promises.mkdir((0,external_node_path_.dirname)(o.dir), { recursive: true });
        await external_node_fs_.promises.mkdir(tmp);
        // Until the rename: a guard meeting this temp directory sees a save in progress, not a leftover.
        writing = await flock_hold([(0,external_node_path_.join)(tmp, DATA)]);
        const written = await packTar(o.buildDir, files, (0,external_node_path_.join)(tmp, DATA), compressor, o.timeoutMs);
        const meta = {
            format: archive_key_ARCHIVE_FORMAT,
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
        await writeAtomic((0,external_node_path_.join)(tmp, META), JSON.stringify(meta, null, 1) + '\n');
        try {
            await external_node_fs_.promises.rename(tmp, o.dir);
        }
        catch (e) {
            const code = e.code;
            if (code === 'ENOTEMPTY' || code === 'EEXIST') {
                await external_node_fs_.promises.rm(tmp, { recursive: true, force: true });
                return not('raced', `another job saved ${o.dir} first`);
            }
            throw e;
        }
        return { saved: true, meta, ms: ms() };
    }
    catch (e) {
        await external_node_fs_.promises.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
        return not('failed', `saving the dependency archive of ${o.buildDir} into ${o.dir}: ${e.message}`);
    }
    finally {
        if (writing)
            await flock_release(writing);
    }
}
/** Restores the archive `dir` into `buildDir`, all or nothing. Never throws. */
async function archive_restoreArchive(o) {
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
function archive_hostFacts() {
    return (facts ??= readHostFacts());
}
/** Read once per process: Node's report (for glibc's version) is slow to build on some hosts. */
let facts;
function readHostFacts() {
    let os = 'unknown';
    try {
        const rel = (0,external_node_fs_.readFileSync)('/etc/os-release', 'utf8');
        const v = (k) => new RegExp(`^${k}="?([^"\\n]*)"?$`, 'm').exec(rel)?.[1] ?? '';
        os = `${v('ID')} ${v('VERSION_ID')}`.trim() || 'unknown';
    }
    catch {
        // no os-release: keep 'unknown'
    }
    const glibc = process.report?.getReport()?.header?.glibcVersionRuntime;
    return { arch: (0,external_node_os_.arch)(), os, libc: glibc ? `glibc ${glibc}` : 'musl or other' };
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

;// CONCATENATED MODULE: ./src/store/archive-host.ts








/** Pure: a save's temp directory name (`.<exact>.<random>.tmp`, archive.ts saveArchive). */
const isSaveTemp = (name) => /^\..+\.[0-9a-f]{8}\.tmp$/.test(name);
const sizeOf = async (p) => (await absent_lstatIfPresent(p))?.size ?? 0;
const archive_host_dirsIn = (d) => absent_listDir(d, { notADirectory: 'absent' });
/** The archives of one trust domain's directory (`<root>/archives/<repo>/<domain>`). */
async function listDomain(domainDir, repoDir, domain) {
    const out = [];
    for (const fallback of await archive_host_dirsIn(domainDir)) {
        const fdir = (0,external_node_path_.join)(domainDir, fallback);
        for (const name of await archive_host_dirsIn(fdir)) {
            const dir = (0,external_node_path_.join)(fdir, name);
            const st = await absent_lstatIfPresent(dir);
            if (!st?.isDirectory())
                continue;
            const temp = isSaveTemp(name);
            const meta = temp ? undefined : readArchiveMeta(dir);
            const bytes = (await sizeOf((0,external_node_path_.join)(dir, DATA))) + (await sizeOf((0,external_node_path_.join)(dir, META)));
            const saved = meta ? Date.parse(meta.savedAt) || 0 : 0;
            out.push({ dir, repoDir, domain: archiveDomain(domain, meta?.domain), bytes, lastUsedMs: Math.max(saved, st.mtimeMs), meta, ...(temp ? { temp } : {}) });
        }
    }
    return out;
}
/** Every archive and save temp directory under the root, in no particular order. Never throws. */
async function listHostArchives(root) {
    const top = layout_rootPaths(root).archives;
    const out = [];
    for (const repoDir of (await archive_host_dirsIn(top)).filter((n) => !isFleetStaging(n))) {
        for (const domain of await archive_host_dirsIn((0,external_node_path_.join)(top, repoDir)))
            out.push(...(await listDomain((0,external_node_path_.join)(top, repoDir, domain), repoDir, domain)));
    }
    return out;
}
/** Pure: a fleet transfer's staging directory (model/layout.ts fleetStaging). */
const isFleetStaging = (name) => /^\.fleet-[0-9a-f]+\.tmp$/.test(name);
/**
 * A staging directory older than this is what a killed job left: every transfer that uses one is
 * bounded by minutes (store/fleet-store.ts FLEET_BOUNDS: a look-up and a fetch or a put), and it
 * takes no lock (the same code serves a shared directory, where flock is not to be trusted).
 */
const STAGING_DEAD_AFTER_MS = 3_600_000;
/** The staging directories under the root that a killed job left (STAGING_DEAD_AFTER_MS), with their bytes. */
async function deadStaging(root, nowMs) {
    const top = layout_rootPaths(root).archives;
    const out = [];
    for (const name of (await archive_host_dirsIn(top)).filter(isFleetStaging)) {
        const dir = (0,external_node_path_.join)(top, name);
        const st = await absent_lstatIfPresent(dir);
        if (st?.isDirectory() && nowMs - st.mtimeMs > STAGING_DEAD_AFTER_MS)
            out.push({ dir, bytes: await sizes_diskUsage(dir), lastUsedMs: st.mtimeMs });
    }
    return out;
}
/**
 * Pure: what the host tier holds that no job could ever restore: a save's temp directory whose
 * save has died (its lock is free: `locked` false; and older than a minute, so a save between its
 * mkdir and its lock is never taken for one), and an archive whose archive.json does not read.
 */
function isDeadArchive(a, locked, nowMs) {
    if (a.temp)
        return !locked && nowMs - a.lastUsedMs > 60_000;
    return a.meta === undefined;
}
/** Whether a save is still writing `a` (its temp directory's data file is locked). */
const saveInProgress = (a) => !allFree([(0,external_node_path_.join)(a.dir, DATA)]);
/**
 * Removes one archive (or a save's leftover) into the trash, under its lock taken exclusively and
 * without waiting: `live` when a restore reads it or a save writes it. Its emptied parents go too.
 */
async function archive_host_removeHostArchive(root, dir, why, timeoutMs) {
    const r = await remove_removeTree(root, dir, { why, locks: [(0,external_node_path_.join)(dir, DATA)], timeoutMs });
    if (r.outcome === 'removed' || r.outcome === 'left-in-trash') {
        // rmdir refuses a directory that is not empty: a save making one meanwhile keeps its parents.
        const top = layout_rootPaths(root).archives;
        for (let d = (0,external_node_path_.dirname)(dir); d.startsWith(top + '/'); d = (0,external_node_path_.dirname)(d))
            if (!(await external_node_fs_.promises.rmdir(d).then(() => true, () => false)))
                break;
    }
    return r;
}
/** A trust domain's archives and save temp directories (`forget`: a closed PR's). */
async function domainArchives(root, repository, domain) {
    const domainDir = dirname(archiveDir(root, repository, domain, 'any'));
    return listDomain(domainDir, basename(dirname(domainDir)), basename(domainDir));
}

;// CONCATENATED MODULE: ./src/pool/guard.ts























const why = (c) => `disk guard: idle ${c.kind}`;
/** A store's entries that no slot links, as candidates: never live (a job holds what it uses by its links). */
const unlinked = (kind, entries) => entries.filter((e) => !e.linked).map((e) => ({ kind, path: e.path, bytes: e.bytes, lastUsedMs: e.lastUsedMs, live: false }));
const KINDS = {
    trash: {
        order: 0,
        shared: true,
        anyOwner: false,
        async collect({ root }) {
            const trash = layout_rootPaths(root).trash;
            const out = [];
            for (const e of await absent_listDir(trash)) {
                const st = await absent_lstatIfPresent((0,external_node_path_.join)(trash, e));
                out.push({ kind: 'trash', path: (0,external_node_path_.join)(trash, e), lastUsedMs: st ? st.ctimeMs : 0, live: false });
            }
            return out;
        },
        remove: async (_root, c, timeoutMs) => ((await deleteTrashEntry(c.path, timeoutMs)).ok ? 'removed' : 'left-in-trash'),
    },
    'job-dir': {
        order: 1,
        shared: false,
        anyOwner: false,
        async collect({ root, held }) {
            const jobs = layout_rootPaths(root).jobs;
            const out = [];
            // A file among the directories (not one cargo-isolate makes) holds no job: nothing to list.
            const dirsIn = (d) => absent_listDir(d, { notADirectory: 'absent' });
            for (const repo of await absent_listDir(jobs)) {
                for (const key of await dirsIn((0,external_node_path_.join)(jobs, repo))) {
                    for (const run of await dirsIn((0,external_node_path_.join)(jobs, repo, key))) {
                        const dir = (0,external_node_path_.join)(jobs, repo, key, run);
                        const rec = await record_file_readRecord((0,external_node_path_.join)(dir, 'job.json'));
                        const st = await absent_lstatIfPresent(dir);
                        out.push({
                            kind: 'job-dir',
                            path: dir,
                            lastUsedMs: rec ? Date.parse(rec.lastUsed) : (st?.mtimeMs ?? 0),
                            owner: rec?.runnerId,
                            live: await liveness_isHeldHint((0,external_node_path_.join)(dir, '.lease'), held),
                        });
                    }
                }
            }
            return out;
        },
        async remove(root, c, timeoutMs) {
            if (!(await absent_isDirAt(c.path)))
                return 'absent';
            const locks = [(0,external_node_path_.join)(c.path, '.lease'), ...(await liveness_cargoLockFiles((0,external_node_path_.join)(c.path, 'target'), (0,external_node_path_.join)(c.path, 'cargo-home')))];
            return (await remove_removeTree(root, c.path, { why: why(c), locks, timeoutMs })).outcome;
        },
    },
    target: {
        order: 2,
        shared: false,
        anyOwner: false,
        collect: async ({ root, slots }) => slotCandidates(root, slots),
        remove: removeFromSlot,
    },
    archive: {
        // Beside the targets, in one order of worth: an archive is a build's dependencies, smaller
        // and serving every PR of its job.
        order: 2,
        // Nobody's runner's data: it serves every PR of its job, whichever runner saved it.
        shared: true,
        anyOwner: false,
        async collect({ root, held, slots, history }) {
            const now = Date.now();
            const out = [];
            const found = [];
            for (const a of await listHostArchives(root)) {
                const live = await liveness_isHeldHint((0,external_node_path_.join)(a.dir, DATA), held);
                const dead = isDeadArchive(a, a.temp ? live || saveInProgress(a) : live, now);
                if (a.temp && !dead)
                    continue; // a save in progress
                found.push({ a, live, dead });
            }
            // Per byte like builds, in one order with them: an archive serves every start of its job in
            // the domains that read it (value.ts archiveValues).
            const worth = archiveValues(found.flatMap(({ a, live, dead }) => (dead || !a.meta ? [] : [archiveView({ ...a, meta: a.meta }, live)])), history, now);
            for (const { a, live, dead } of found)
                out.push({ kind: 'archive', path: a.dir, bytes: a.bytes, lastUsedMs: a.lastUsedMs, live: live && !dead, value: dead ? 0 : worth.get(a.dir) });
            // What a job killed during a transfer to or from the Actions cache service left.
            for (const d of await deadStaging(root, now))
                out.push({ kind: 'archive', path: d.dir, bytes: d.bytes, lastUsedMs: d.lastUsedMs, live: false, value: 0 });
            // What a killed restore left in an idle slot's target (its record says a restore began there).
            for (const { name, record: rec, live } of slots) {
                if (live || !rec?.restoring)
                    continue;
                const target = layout_slotDirs(root, name).target;
                for (const e of (await absent_listDir(target)).filter(isRestoreLeftover))
                    out.push({ kind: 'archive', path: (0,external_node_path_.join)(target, e), lastUsedMs: Date.parse(rec.restoring) || 0, live: false, slot: name, value: 0 });
            }
            return out;
        },
        async remove(root, c, timeoutMs) {
            if (c.slot !== undefined)
                return removeFromSlot(root, c, timeoutMs);
            return (await archive_host_removeHostArchive(root, c.path, why(c), timeoutMs)).outcome;
        },
    },
    'registry-src': {
        order: 3,
        shared: false,
        anyOwner: false,
        async collect({ root, slots }) {
            // Only a slot with a CARGO_HOME of its own has sources in it (a fork PR's: cargo-home.ts);
            // a trusted job's are in its uid's shared home (sharedSources). A path that is not there is
            // not a candidate: the guard never lists, or warns about, what does not exist.
            const perSlot = [];
            for (const { name, record: rec, live } of slots) {
                const path = (0,external_node_path_.join)(layout_slotDirs(root, name).cargoHome, 'registry', 'src');
                if (await absent_isDirAt(path))
                    perSlot.push({ kind: 'registry-src', path, lastUsedMs: record_lastUsedMs(rec), owner: rec?.runnerId, live, slot: name });
            }
            return [...perSlot, ...(await sharedSources(root, slots))];
        },
        async remove(root, c, timeoutMs) {
            if (c.slot !== undefined)
                return removeFromSlot(root, c, timeoutMs);
            if (!(await absent_isDirAt(c.path)))
                return 'absent';
            return (await remove_removeTree(root, c.path, { why: why(c), locks: mutateLocks((0,external_node_path_.join)(c.path, '..', '..')), timeoutMs })).outcome;
        },
    },
    crate: {
        order: 4,
        shared: true,
        anyOwner: true,
        // Store files linked into no slot (a link elsewhere keeps the bytes allocated anyway),
        // least recently linked first.
        collect: async ({ root }) => unlinked('crate', await crateBlobs(root)),
        // A seeder that links it right now still gets the bytes (the link holds them) or, losing the
        // race, finds it missing and lets cargo download: neither is wrong.
        remove: (_root, c) => external_node_fs_.promises.unlink(c.path).then(() => 'removed', (e) => (fsutil_isPermissionError(e) ? 'needs root' : 'absent')),
    },
    git: {
        order: 5,
        shared: true,
        anyOwner: false,
        // Git store entries whose packs no slot links (gitstore.ts), least recently seeded first.
        collect: async ({ root }) => unlinked('git', await gitEntries(root)),
        async remove(root, c, timeoutMs) {
            if (!(await absent_isDirAt(c.path)))
                return 'absent';
            return (await remove_removeTree(root, c.path, { why: why(c), timeoutMs })).outcome;
        },
    },
};
/** A kind's place in the removal order (KINDS): the simulator weighs archives in the targets' place, as the archive row does. */
const kindOrder = (kind) => KINDS[kind].order;
/** Pure: an archive as the policy weighs it, from what its archive.json says. */
function archiveView(a, live) {
    const k = a.meta.key;
    return {
        path: a.dir,
        repository: k.repository ?? '',
        workflow: k.workflow ?? '',
        job: k.job ?? '',
        jobKey: k.key || undefined,
        domain: a.domain,
        fallback: a.meta.fallback,
        exact: a.meta.exact,
        bytes: a.bytes,
        savedMs: Date.parse(a.meta.savedAt) || a.lastUsedMs,
        live,
    };
}
/** Pure: a candidate with its kind's place in the order and its owner test (KINDS). */
const ranked = (c) => ({ ...c, order: KINDS[c.kind].order, shared: KINDS[c.kind].shared });
/**
 * Pure: the target dirs of the scanned slots as candidates: every slot whose last job recorded a
 * build, or whose size nobody recorded, or that is live. The simulator makes its guard's
 * candidates with this too, a few times a simulated minute: made as ranked candidates at once.
 */
function slotCandidates(root, slots) {
    const { order, shared } = KINDS.target;
    const out = [];
    for (const { name, record: rec, live, value } of slots) {
        if (rec?.sizes && rec.sizes.target <= 0 && !live)
            continue;
        const path = targetPath(root, name);
        out.push({
            kind: 'target',
            order,
            shared,
            path,
            bytes: rec?.sizes?.target,
            // ISO times of one clock compare as strings: no parse for each slot of each simulated scan.
            bytesStale: rec?.sizes ? rec.sizes.measuredAt < rec.leasedAt : undefined,
            lastUsedMs: record_lastUsedMs(rec),
            owner: rec?.runnerId,
            live,
            slot: name,
            key: rec?.key,
            value,
        });
    }
    return out;
}
/** A slot's target dir (layout.ts), remembered: a scan asks for every slot's, and a simulated day for the same few again and again. */
const targets = new Map();
function targetPath(root, name) {
    const k = `${root}\0${name}`;
    let p = targets.get(k);
    if (p === undefined) {
        if (targets.size > 4096)
            targets.clear();
        p = layout_slotDirs(root, name).target;
        targets.set(k, p);
    }
    return p;
}
/**
 * Pure: what may be removed, in which order (policy.ts pruneOrder), each candidate ordered and
 * owned as its kind's row says. `keep`: the slots whose build the job running this guard is about
 * to take (lease.ts slotToKeep), removed last. `present`: the runners that still exist, in runner
 * scope (policy.ts presentRunners; absent: every owner does).
 */
function guard_planPrune(cands, scope, runnerId, o = {}) {
    return (o.policy ?? SHIPPED).prune(cands.map(ranked), scope, runnerId, o.keep ?? [], o.present);
}
/** Gathers candidates of every kind from records and one read of /proc/locks (the hint; removal re-checks). */
async function scanRoot(root, held = heldLocks(), nowMs = Date.now()) {
    const history = await hostHistory(root);
    const scan = { root, held, slots: await scanSlots(root, history, { held, nowMs }), history };
    const cands = [];
    for (const row of Object.values(KINDS))
        cands.push(...(await row.collect(scan)).map(ranked));
    return { cands, slots: scan.slots, history };
}
/** The candidates alone (scanRoot). */
async function collectCandidates(root, held = heldLocks(), nowMs = Date.now()) {
    return (await scanRoot(root, held, nowMs)).cands;
}
/**
 * Pure: a guard run's plan on the root as scanned, in the scope it acts in: runner scope gives way
 * to host scope over the hard level (policy.ts scopeOf, hardLevel), and counts the data of runners
 * that no longer exist as no runner's (presentRunners).
 */
function planGuard(s, disk, o) {
    const hard = hardLevel(o.hard, s.history, s.slots, o.threshold);
    const scope = scopeOf(o.scope, disk, hard);
    const present = scope === 'runner' ? presentRunners(s.history, s.slots, o.nowMs) : undefined;
    return { plan: SHIPPED.prune(s.cands, scope, o.runnerId, o.keep ?? [], present), scope, hard };
}
/**
 * registry/src of the CARGO_HOMEs shared by a uid's jobs (cargo-home.ts), for the uids this
 * process may remove files of. Live while any slot of that uid is leased: a job's cargo reads its
 * sources from the start of its build to the end, and between resolving and compiling it holds
 * none of cargo's locks. Removal also takes cargo's own exclusive locks of that home (as its gc
 * does), so no cargo started elsewhere is reading it; cargo extracts again what it needs.
 */
async function sharedSources(root, slots) {
    const me = proc_myUid();
    const out = [];
    const liveUids = new Set(slots.filter((s) => s.live).map((s) => s.record?.uid));
    for (const name of await absent_listDir(layout_rootPaths(root).homes)) {
        const uid = /^u(\d+)$/.exec(name) ? Number(name.slice(1)) : undefined;
        // Root's home is handed back to the root's owner (handback.ts): that user may free it too.
        const owner = (await absent_lstatIfPresent((0,external_node_path_.join)(layout_rootPaths(root).homes, name)))?.uid;
        if (uid === undefined || (me !== 0 && uid !== me && owner !== me))
            continue;
        const src = (0,external_node_path_.join)(layout_rootPaths(root).homes, name, 'registry', 'src');
        const st = await absent_lstatIfPresent(src);
        if (!st?.isDirectory())
            continue;
        out.push({ kind: 'registry-src', path: src, lastUsedMs: st.mtimeMs, live: liveUids.has(uid) || liveUids.has(undefined) });
    }
    return out;
}
/** cargo's MutateExclusive on a CARGO_HOME (cache_lock.rs): both of its lock files, exclusively. */
const mutateLocks = (home) => [(0,external_node_path_.join)(home, '.package-cache-mutate'), (0,external_node_path_.join)(home, '.package-cache')];
/** A slot's target dir or registry/src, under the slot's lease and cargo's locks there. */
async function removeFromSlot(root, c, timeoutMs) {
    if (!(await absent_isDirAt(c.path)))
        return 'absent';
    const d = layout_slotDirs(root, c.slot);
    const locks = [d.lock, ...(await liveness_cargoLockFiles(d.target, d.cargoHome))];
    const r = await remove_removeTree(root, c.path, {
        why: why(c),
        locks,
        timeoutMs,
        // Still under the lease: a job leasing the slot next must find a truthful record.
        whileLocked: async () => {
            const rec = await record_file_readRecord(d.record);
            if (rec && c.kind === 'target')
                await writeRecord(d.record, { ...rec, prunedAt: new Date().toISOString(), sizes: rec.sizes && { ...rec.sizes, target: 0 } });
        },
    });
    // An empty target dir where the build was: not a read, and one already made again (by a job that
    // leased the slot meanwhile) serves as well, so any failure is left to that job's own mkdir.
    if (c.kind === 'target' && r.outcome !== 'live')
        await external_node_fs_.promises.mkdir(d.target).catch(() => undefined);
    return r.outcome;
}
/** The guard's options as the settings give them: one reading for a job's start and `cargo-isolate gc`. */
function guardOptions(s, root, runnerId, log, extra = {}) {
    return {
        root,
        threshold: s.diskThreshold,
        target: s.diskTarget,
        scope: s.pruneScope,
        hard: s.diskHardThreshold,
        runnerId,
        dryRun: s.dryRun,
        failBelowBytes: s.failBelowBytes,
        timeoutMs: s.cleanupTimeoutMs,
        log,
        ...extra,
    };
}
/** The disk is below `fail-below` after pruning: the one failure the operator asks the guard for. */
class DiskFullError extends Failure {
    constructor(message) {
        super(message, 'floor');
        this.name = 'DiskFullError';
    }
}
/**
 * The one byte model of the guard, for its log, its totals, its dry run and where a dry run stops:
 * what removing a candidate frees. A slot's build as its job's end measured it (slot.json), unless
 * a lease came after that measure (a job that ended without its post step); anything else as `du`
 * counts it now, each file once, where a file hard-linked from the crate or git store (a job
 * directory's seeded crates) counts in the store: removing the directory frees nothing of it.
 */
async function bytesFreed(root, c) {
    if (c.bytes !== undefined && !c.bytesStale)
        return c.bytes;
    const stores = c.kind === 'job-dir' || c.kind === 'trash' ? [storePaths(root).blobs, gitStorePaths(root).base] : [];
    return diskUsage(c.path, 30_000, stores);
}
/**
 * What another uid holds (a root container job's files never handed back) is not attempted by
 * anyone but root: renaming a directory needs write access to it, and a futile `rm -rf` over a
 * large tree only costs time. The same test for a dry run and a real one.
 */
async function needsRoot(root, c) {
    const uid = myUid();
    if (uid === 0 || KINDS[c.kind].anyOwner)
        return false;
    const st = await lstatIfPresent(c.path);
    if (!st)
        return false; // nothing there to remove: its remover says so (absent)
    if (st.uid !== uid)
        return true;
    // Another uid's files below a directory of ours (reclaim.ts marked the slot).
    const rec = c.slot ? await readRecord(slotDirs(root, c.slot).record) : undefined;
    return rec?.uid !== undefined && rec.uid !== uid;
}
/** A dry run's outcome for a candidate: what removeCandidate would find before it removes anything. */
async function wouldRemove(root, c) {
    if (!(await lstatIfPresent(c.path)))
        return 'absent';
    return (await needsRoot(root, c)) ? 'needs root' : 'would remove';
}
/** Removes one candidate; its outcome. */
async function removeCandidate(root, c, timeoutMs) {
    if (await needsRoot(root, c))
        return 'needs root';
    try {
        return await KINDS[c.kind].remove(root, c, timeoutMs);
    }
    catch (e) {
        if (isPermissionError(e))
            return 'needs root';
        // A link a build planted on the way: not this candidate's directory, and no reason to fail the job.
        if (e instanceof OutsideRootError)
            return 'refused';
        throw failed(`The disk guard, removing ${c.kind} ${c.path}`, e);
    }
}
/** How the guard's log line opens for each outcome of a removal (`absent` is not logged). */
const OUTCOME_TEXT = {
    removed: 'Removed',
    live: 'Skipped (became live)',
    refused: 'Refused (a symlink on its path)',
    'needs root': "Left (another uid's files: needs root)",
    'left-in-trash': 'Partly removed',
    absent: 'Gone already',
    'would remove': 'Would remove',
};
/**
 * Brings the root's filesystem back under its threshold by removing idle data, oldest first,
 * re-measuring after each removal. One guard at a time per host (locks/guard.lock): a second
 * guard waits, then re-measures, and usually finds the first one's work done.
 */
async function runGuard(o) {
    const log = o.log;
    const before = await measure(o.root);
    const report = {
        threshold: formatLevel(o.threshold),
        target: formatLevel(o.target),
        before,
        after: before,
        over: false,
        removals: [],
        freedBytes: 0,
        liveBytes: 0,
        othersBytes: 0,
        dryRun: o.dryRun,
        scope: o.scope,
        acting: o.scope,
        lockWaitMs: 0,
        decisionMs: 0,
        needsRoot: { count: 0, bytes: 0 },
    };
    const describe = (d) => `${d.usedPercent.toFixed(1)}% used, ${formatBytes(d.freeBytes)} free, ${d.inodePercent.toFixed(1)}% inodes`;
    log.info(`Disk of ${o.root}: ${describe(before)}; threshold ${report.threshold}, target ${report.target}.`);
    if (!SHIPPED.guardRuns(before, o.threshold, o.maxAgeMs)) {
        log.info('Under the threshold: nothing to prune.');
        return checkFloor(o, report);
    }
    let livePlan = [];
    const waitStart = Date.now();
    const guardLock = await (async () => {
        await fs.mkdir(rootPaths(o.root).locks, { recursive: true }); // a root made by an interrupted first job
        return hold([rootPaths(o.root).guardLock], { waitSeconds: o.lockWaitSeconds ?? 300 });
    })().catch((e) => {
        // A read-only root, or one this user may not write: nothing could be removed there anyway.
        throw failed(`The disk guard of ${o.root} cannot take its lock`, e);
    });
    report.lockWaitMs = Date.now() - waitStart;
    if (!guardLock) {
        log.warning(`Another disk guard on this host held ${rootPaths(o.root).guardLock} for ${Math.round(report.lockWaitMs / 1000)} s; not pruning this time.`);
        report.after = await measure(o.root);
        return checkFloor(o, report);
    }
    try {
        let now = await measure(o.root);
        if (report.lockWaitMs > 100)
            log.info(`Waited ${(report.lockWaitMs / 1000).toFixed(1)} s for another guard; disk now ${describe(now)}.`);
        if (!SHIPPED.guardRuns(now, o.threshold, o.maxAgeMs))
            log.info('No longer over the threshold (another guard freed space): nothing to prune.');
        const t0 = performance.now();
        const nowMs = o.nowMs ?? Date.now();
        const { plan, scope, hard } = planGuard(await scanRoot(o.root, heldLocks(), nowMs), now, { ...o, nowMs, keep: await o.keep?.() });
        report.acting = scope;
        if (scope !== o.scope)
            log.info(`Over the hard level ${formatLevel(hard)}: freeing idle data of any runner, as prune-scope: host does.`);
        report.decisionMs = performance.now() - t0;
        report.liveBytes = plan.liveBytes;
        report.othersBytes = plan.othersBytes;
        livePlan = plan.live;
        // A dry run walks the same plan with the same steps and the same byte model (bytesFreed), and
        // only its removal is pretended: what it lists is what the real run removes, in that order, as
        // long as nothing else changes the disk meanwhile (the real run re-measures the disk after
        // each removal; the dry run adds what it would have freed).
        let pretendedFree = 0;
        const overAtStart = beyond(now, o.threshold);
        const keptFrom = plan.ordered.length;
        for (const [i, c] of [...plan.ordered, ...plan.kept].entries()) {
            const step = SHIPPED.guardStep(c, i, keptFrom, {
                overAtStart,
                disk: now,
                pendingBytes: pretendedFree,
                target: o.target,
                maxAgeMs: o.maxAgeMs,
                nowMs: Date.now(),
            });
            if (step === 'stop')
                break;
            if (step === 'skip')
                continue;
            const ageMs = Date.now() - c.lastUsedMs;
            const bytes = await bytesFreed(o.root, c);
            const outcome = o.dryRun ? await wouldRemove(o.root, c) : await removeCandidate(o.root, c, o.timeoutMs);
            if (!o.dryRun)
                now = await measure(o.root);
            if (outcome === 'absent')
                continue; // gone since the scan: nothing to say
            if (i >= keptFrom && c.kind === 'target')
                log.warning(`Nothing else idle is left to reach ${report.target}: ${o.dryRun ? 'would remove' : 'removing'} ${c.path}, ` +
                    'the build this job was about to start from; it starts cold.');
            const freed = outcome === 'removed' || outcome === 'would remove' ? bytes : 0;
            if (o.dryRun)
                pretendedFree += freed;
            if (outcome === 'needs root') {
                report.needsRoot.count++;
                report.needsRoot.bytes += bytes;
            }
            // One number per removal, logged and summed alike, in a dry run and a real one.
            report.removals.push({ kind: c.kind, path: c.path, bytes: freed, ageMs, owner: c.owner, outcome });
            log.info(`${OUTCOME_TEXT[outcome]} ${c.kind} ${c.path} (${formatBytes(freed || bytes)}, idle ${formatDuration(ageMs)}, last owner ${c.owner ?? 'unknown'}).`);
        }
        report.after = now;
        report.freedBytes = report.removals.reduce((n, r) => n + r.bytes, 0);
        if (report.needsRoot.count > 0) {
            log.warning(idleNeedsRoot(report.needsRoot.count, formatBytes(report.needsRoot.bytes), myUid()));
        }
    }
    finally {
        await release(guardLock);
    }
    report.over = beyond(report.after, o.threshold);
    if (report.over && !o.dryRun)
        await sayStillOver(o, report, livePlan, describe);
    return checkFloor(o, report);
}
/** Still over the threshold after pruning: what holds the disk, measuring live trees whose size was never recorded. */
async function sayStillOver(o, report, livePlan, describe) {
    // Only on this failure path is it worth measuring them.
    const unknown = livePlan.filter((c) => c.bytes === undefined && c.kind === 'target');
    for (const c of unknown)
        report.liveBytes += await diskUsage(c.path, 10_000);
    report.message = stillOverThreshold({
        root: o.root,
        threshold: report.threshold,
        disk: describe(report.after),
        live: formatBytes(report.liveBytes),
        others: formatBytes(report.othersBytes),
        // Runner scope: what it left is the host's gc timer's to free, unless the disk reaches the hard level.
        scoped: report.acting === 'runner' && report.othersBytes > 0,
    });
    o.log.warning(report.message);
}
function checkFloor(o, r) {
    if (o.failBelowBytes !== undefined && r.after.freeBytes < o.failBelowBytes && !o.dryRun) {
        throw new DiskFullError(belowFailBelow({
            root: o.root,
            free: formatBytes(r.after.freeBytes),
            floor: formatBytes(o.failBelowBytes),
            live: formatBytes(r.liveBytes),
            others: formatBytes(r.othersBytes),
        }));
    }
    return r;
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
            await (0,external_node_stream_promises_namespaceObject.pipeline)((0,external_node_fs_.createReadStream)((0,external_node_path_.join)(from, DATA)), hash.t, (0,external_node_fs_.createWriteStream)((0,external_node_path_.join)(tmp, DATA), { mode: o.fileMode ?? 0o644 }));
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

// EXTERNAL MODULE: external "node:url"
var external_node_url_ = __nccwpck_require__(3136);
;// CONCATENATED MODULE: ./src/store/fleet-worker.ts



/** The line the worker writes its answer on: the last line of its stdout. */
const REPLY_MARK = 'cargo-isolate-fleet-worker-reply ';
/**
 * The command that runs the worker: the bundle beside this one (dist/<entry>/index.js ->
 * dist/fleet-worker/index.js), or, where this module runs as TypeScript (the tests, the bench),
 * src/fleet-worker.ts under the project's loader.
 */
function workerCommand(here = (0,external_node_url_.fileURLToPath)(import.meta.url)) {
    if (here.endsWith('.ts')) {
        const top = (0,external_node_path_.dirname)((0,external_node_path_.dirname)((0,external_node_path_.dirname)(here)));
        return ['--import', (0,external_node_url_.pathToFileURL)((0,external_node_path_.join)(top, 'scripts', 'lib', 'typescript.mjs')).href, (0,external_node_path_.join)(top, 'src', 'fleet-worker.ts')];
    }
    return [(0,external_node_path_.join)((0,external_node_path_.dirname)(here), '..', 'fleet-worker', 'index.js')];
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

;// CONCATENATED MODULE: ./src/store/fleet-store.ts










/*
 * The fleet tier: dependency archives in a store every host of a fleet reaches, behind the host
 * tier (store/archive.ts). A start reads the fleet tier only where its host has nothing
 * (job/tiers.ts restoreTier), and what it fetches lands in the host tier first, so the next start on this
 * host finds it there; an end that saved an archive on the host sends it on (put). Two stores,
 * one interface, every call in a worker process bounded in time (store/fleet-worker.ts):
 *
 *   the Actions cache service   @actions/cache (GitHub.com, GHES, Forgejo's and Gitea's runners'
 *                               cache servers): the archive's directory as one cache entry, named
 *                               by its trust domain and keys (model/archive-store.ts). Only where
 *                               an action step runs: it needs the runtime token the runner gives
 *                               action steps alone, never the runner hooks or the CLI.
 *   a shared directory          NFS, CephFS, any mount every host sees (store/fleet-dir.ts).
 *
 * Nothing a store does fails a job: a store that is down, slow, full, over its quota, rate
 * limited or refusing the token gives a warning and the start goes on cold (`isFleetFault` says
 * which outcomes are faults; the rest are lines of the log).
 */
/** The time bounds of a store's calls: what a start waits for at most, and an end. */
const FLEET_BOUNDS = {
    /** Finding out whether the store holds an archive for this start (the Actions cache service's lookup). */
    lookupMs: 30_000,
    /** Bringing one into the host tier: the bench's 168 MiB archive at 1 MiB/s, about as long as the bench's cold build. */
    fetchMs: 180_000,
    /** Sending one at a job's end. */
    putMs: 300_000,
};
/**
 * The store a setting names, for a job started by `via`; `unavailable` says why the setting
 * names one this job cannot use (the log says it once, as a line, not a warning).
 */
function openFleetStore(setting, env, via) {
    if (setting.kind === 'none')
        return undefined;
    if (setting.kind === 'directory')
        return directoryStore(setting.path);
    if (via !== 'action')
        return { unavailable: actionsCacheNeedsToken(via === 'hook' ? 'the runner hooks never have' : 'a command on the host never has') };
    if (!env.ACTIONS_RUNTIME_TOKEN || !(env.ACTIONS_RESULTS_URL || env.ACTIONS_CACHE_URL))
        return {
            unavailable: 'the runner gave this job no Actions cache service (no ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL or ACTIONS_CACHE_URL): the host tier only',
        };
    return actionsCacheStore(env);
}
const bound = (b, k) => b?.[k] ?? FLEET_BOUNDS[k];
const since = (t0) => Math.round(performance.now() - t0);
/** The words of a worker that failed or was stopped, as a fault. */
const workerFault = (r) => ({
    reason: r.timedOut ? 'timeout' : 'error',
    detail: r.detail,
});
function directoryStore(path) {
    const name = storeName({ kind: 'directory', path });
    return {
        kind: 'directory',
        name,
        async fetch(q) {
            const t0 = performance.now();
            const r = await callWorker({ op: 'dir-fetch', store: path, uid: proc_myUid(), root: q.root, repository: q.repository, domains: q.domains, key: q.key, identity: q.identity }, { timeoutMs: bound(q.bounds, 'fetchMs') });
            if (!r.ok)
                return { fetched: false, ...workerFault(r), ms: since(t0) };
            return { ...r.result, ms: since(t0) };
        },
        async put(p) {
            const t0 = performance.now();
            const r = await callWorker({ op: 'dir-put', store: path, uid: proc_myUid(), repository: p.repository, domain: p.domain, key: p.key, from: p.dir }, { timeoutMs: bound(p.bounds, 'putMs') });
            if (!r.ok)
                return { put: false, ...workerFault(r), ms: since(t0) };
            return r.result.put ? { put: true, bytes: r.result.bytes, ms: since(t0) } : { ...r.result, ms: since(t0) };
        },
    };
}
/** The one path the Actions cache service's entries hold, relative to the worker's workspace: the service's `version` hashes it. */
const CACHE_ENTRY = 'cargo-isolate-archive';
/**
 * Pure: what the Actions cache service's client said when a save took nothing: another host's
 * entry of the key (a race, or a lookup that missed it: the service answers 409 Conflict), a
 * token that may not write (the run's cache mode), or a fault. @actions/cache says it only in
 * its log: a warning, or the reason its reservation failed in a debug line.
 */
function fleet_store_saveRefusal(notes) {
    const all = [...notes.errors, ...notes.warnings, ...notes.lines];
    const reserve = notes.lines.find((l) => /Failed to reserve cache:|Unable to reserve cache/.test(l));
    if (all.some((l) => /already exists|\(409\)|Conflict/i.test(l)))
        return { reason: 'raced', detail: 'another job saved this key first' };
    if (notes.lines.some((l) => /cache-mode '[^']*' does not permit writes/.test(l)) || all.some((l) => /cache write denied:/.test(l)))
        return { reason: 'read-only', detail: "this job's token may not write to the cache (a read-only cache mode)" };
    const said = notes.errors[0] ?? notes.warnings[0] ?? reserve;
    return { reason: 'error', detail: said ? said.replace(/^debug: /, '') : 'the service did not take the archive, and said nothing' };
}
/** Pure: a restore that matched nothing: a miss, or a fault the client only warned about. */
function restoreRefusal(notes) {
    if (notes.lines.some((l) => /cache-mode '[^']*' does not permit reads/.test(l)))
        return { reason: 'unavailable', detail: "this job's token may not read the cache (its cache mode)" };
    const said = notes.errors[0] ?? notes.warnings[0];
    return said ? { reason: 'error', detail: said } : undefined;
}
function actionsCacheStore(env) {
    /** A staging directory on the host root's filesystem (so the archive is linked into the host tier, not copied), and the worker's environment in it. */
    const stage = async (root) => {
        const dir = fleetStaging(root, (0,external_node_crypto_.randomBytes)(4).toString('hex'));
        await external_node_fs_.promises.mkdir((0,external_node_path_.join)(dir, '.runner-temp'), { recursive: true });
        // RUNNER_TEMP: where @actions/cache writes its own tar; GITHUB_WORKSPACE: what the entry's path is relative to.
        return { dir, env: { ...env, GITHUB_WORKSPACE: dir, RUNNER_TEMP: (0,external_node_path_.join)(dir, '.runner-temp') } };
    };
    const drop = (dir) => external_node_fs_.promises.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    return {
        kind: 'actions-cache',
        name: storeName({ kind: 'actions-cache' }),
        async fetch(q) {
            const t0 = performance.now();
            const not = (reason, detail) => ({ fetched: false, reason, detail, ms: since(t0) });
            if (!q.key)
                return not('unavailable', 'a start that knows only who it is names no cache entry');
            const key = q.key;
            const { primary, restoreKeys } = cacheKeysFor(q.domains, key);
            const s = await stage(q.root).catch((e) => e);
            if (s instanceof Error)
                return not('error', `making a staging directory under ${q.root}: ${s.message}`);
            try {
                const call = { cwd: s.dir, env: s.env };
                const look = await callWorker({ op: 'cache-restore', paths: [CACHE_ENTRY], primary, restoreKeys, lookupOnly: true }, { ...call, timeoutMs: bound(q.bounds, 'lookupMs') });
                if (!look.ok)
                    return not(workerFault(look).reason, workerFault(look).detail);
                if (!look.result.available)
                    return not('unavailable', 'the runner gave this job no Actions cache service');
                const matched = look.result.matchedKey;
                if (!matched) {
                    const fault = restoreRefusal(look.notes);
                    return fault
                        ? not(fault.reason, fault.detail)
                        : not('missing', `no entry for ${q.domains.join(' or ')} under ${primary.replace(/\/[0-9a-f]{32}$/, '/...')}`);
                }
                const entry = parseCacheKey(matched, q.domains, key);
                if (!entry)
                    return not('refused', `the service matched ${matched}, which is not one of the keys asked for: not restored`);
                // Then exactly that entry: what the lookup found, nothing a later save under a restore key put there meanwhile.
                const got = await callWorker({ op: 'cache-restore', paths: [CACHE_ENTRY], primary: matched, restoreKeys: [], lookupOnly: false }, { ...call, timeoutMs: bound(q.bounds, 'fetchMs') });
                if (!got.ok)
                    return not(workerFault(got).reason, workerFault(got).detail);
                if (!got.result.available || got.result.matchedKey !== matched)
                    return not(restoreRefusal(got.notes)?.reason ?? 'error', restoreRefusal(got.notes)?.detail ?? `${matched} could not be downloaded`);
                const from = (0,external_node_path_.join)(s.dir, CACHE_ENTRY);
                const meta = readArchiveMeta(from);
                if (!meta || meta.exact !== entry.exact || meta.fallback !== entry.fallback) {
                    const holds = meta ? `it holds ${meta.exact}` : 'no archive.json of this version';
                    return not('refused', `the entry ${matched} does not describe the archive its name says (${holds}): not restored`);
                }
                const into = layout_archiveDir(q.root, q.repository, entry.domain, entry.fallback, entry.exact);
                const c = await copyArchive(from, into, { how: 'link', locks: { to: true } });
                if (c.copied || c.reason === 'exists' || c.reason === 'raced')
                    return { fetched: true, dir: into, domain: entry.domain, how: entry.how, bytes: meta.bytes, ms: since(t0) };
                return not(c.reason === 'failed' ? 'error' : 'refused', c.detail);
            }
            finally {
                await drop(s.dir);
            }
        },
        async put(p) {
            const t0 = performance.now();
            const not = (reason, detail) => ({ put: false, reason, detail, ms: since(t0) });
            const key = cacheKeyOf(p.domain, p.key.fallback, p.key.exact);
            const s = await stage(p.root).catch((e) => e);
            if (s instanceof Error)
                return not('error', `making a staging directory under ${p.root}: ${s.message}`);
            try {
                const call = { cwd: s.dir, env: s.env };
                const look = await callWorker({ op: 'cache-restore', paths: [CACHE_ENTRY], primary: key, restoreKeys: [], lookupOnly: true }, { ...call, timeoutMs: bound(p.bounds, 'lookupMs') });
                if (!look.ok)
                    return not(workerFault(look).reason, workerFault(look).detail);
                if (!look.result.available)
                    return not('unavailable', 'the runner gave this job no Actions cache service');
                if (look.result.matchedKey === key)
                    return not('exists', `${key} is already there`);
                // Links, verified as they are made: an archive altered on this host is never sent.
                const c = await copyArchive(p.dir, (0,external_node_path_.join)(s.dir, CACHE_ENTRY), {
                    how: 'link',
                    meta: (m) => ({ ...m, key: partsForFleet(m.key) }),
                    locks: { from: true },
                });
                if (!c.copied)
                    return not(c.reason === 'failed' ? 'error' : 'refused', c.detail);
                const saved = await callWorker({ op: 'cache-save', paths: [CACHE_ENTRY], key }, { ...call, timeoutMs: bound(p.bounds, 'putMs') });
                if (!saved.ok)
                    return not(workerFault(saved).reason, workerFault(saved).detail);
                if (!saved.result.available)
                    return not('unavailable', 'the runner gave this job no Actions cache service');
                // v1's client returns the reserved id even when the upload after it failed: its log says so.
                if (saved.result.id === -1 || saved.notes.errors.length > 0 || saved.notes.warnings.length > 0) {
                    const why = fleet_store_saveRefusal(saved.notes);
                    return not(why.reason, why.detail);
                }
                return { put: true, bytes: c.bytes, ms: since(t0) };
            }
            finally {
                await drop(s.dir);
            }
        },
    };
}
/** Pure: a fetch's or a put's outcome as one line of a job's log, and whether it is a warning. */
function fleet_store_fleetLine(store, what, o) {
    const secs = `${(o.ms / 1000).toFixed(1)} s`;
    if ('fetched' in o && o.fetched)
        return {
            warning: false,
            text: `${store}: fetched the ${o.how === 'exact' ? 'exact' : 'nearest'} archive of ${o.domain} (${mib(o.bytes)}) in ${secs} into the host tier.`,
        };
    if ('put' in o && o.put)
        return { warning: false, text: `${store}: sent the dependency archive (${mib(o.bytes)}) in ${secs}.` };
    const r = o;
    const tail = what === 'fetch' ? (isFleetFault(r.reason) ? ' This job starts without it.' : '') : isFleetFault(r.reason) ? ' The host tier keeps it.' : '';
    return { warning: isFleetFault(r.reason), text: `${store}: ${r.detail}.${tail}`.replace(/\.\./g, '.') };
}
const mib = (b) => `${(b / (1 << 20)).toFixed(1)} MiB`;

;// CONCATENATED MODULE: ./src/job/tiers.ts




















const START_TIER_TEXT = {
    slot: "the slot's own warm build",
    copy: 'a copy of the warm build of another idle slot',
    'host-archive': "a dependency archive from the host's tier",
    'fleet-archive': 'a dependency archive from the fleet store',
    'compile-cache': 'the compile cache (sccache) only',
    cold: 'nothing: a cold build',
};
/** The view of the paths a key names: a job's steps on the host, or in a container (another OS and libc). */
const viewPart = (container) => (container ? 'container' : 'host');
/** The key of a build, and the workspace's own packages; why not when the toolchain cannot be asked. */
async function keyOf(c) {
    const lockFile = c.lockFile ?? (await lockfile_findLockFile(c.search.manifestPath, c.search.workingDirectory, c.env).catch(() => undefined));
    const cwd = lockFile ? (0,external_node_path_.dirname)(lockFile) : c.search.workingDirectory;
    const rustc = await rustcOf(c.buildDir, cwd, c.env);
    if (!rustc)
        return { why: `'rustc -vV' gave no answer in ${cwd}: the archive key names the toolchain` };
    const lock = c.lockText ?? (lockFile ? await external_node_fs_.promises.readFile(lockFile, 'utf8').catch(() => undefined) : undefined);
    const deps = lock === undefined ? undefined : lockDependencies(lock);
    const key = archiveKey({
        repository: c.identity.repository,
        workflow: c.identity.workflow,
        job: c.identity.job,
        jobKey: c.identity.jobKey,
        rustc,
        lockedDependencies: deps?.external,
        env: c.env,
        host: archive_hostFacts(),
        cargoHome: c.cargoHome,
        view: c.view,
    });
    return { key, local: deps?.local ?? [], lockFile };
}
/** Pure: the trust domains whose archives a job may restore: its own, then its base's (never another PR's). */
const readableDomains = (me) => [me.key, ...(me.baseKey && me.baseKey !== me.key ? [me.baseKey] : [])];
/** Refusals: the archive is corrupt and never will restore; removed at once, and said as a warning. */
const REFUSED = new Set(['truncated', 'altered', 'unreadable']);
/**
 * The fleet store `archive-store` names, for a job started through `via`; undefined when none is
 * set, or when the job cannot use it (the Actions cache service from the hooks or the CLI), which
 * the log says once, as a line.
 */
function openFleet(setting, env, via, log) {
    if (!setting)
        return undefined;
    const s = openFleetStore(setting, env, via);
    if (s && 'unavailable' in s) {
        log?.info(`archive-store: ${s.unavailable}.`);
        return undefined;
    }
    return s;
}
/** Says a fleet store's outcome in the log: a warning for a fault, a line otherwise. */
function sayFleet(log, line) {
    if (line.warning)
        log?.warning(line.text);
    else
        log?.info(line.text);
}
/**
 * A start's restore from the host tier, into its empty build dir. Never throws; a refused archive is
 * removed and said as a warning, and the build dir is left empty (the restore is all or nothing).
 * The one restore point of the archive tiers: a fleet tier joins here.
 */
async function tiers_restoreTier(o) {
    const t0 = performance.now();
    const ms = () => Math.round(performance.now() - t0);
    const base = { tier: 'host', by: o.by };
    if (o.cap.kind === 'off')
        return { ...base, outcome: 'off', why: 'host-archives is off', ms: 0 };
    const domains = readableDomains(o.me);
    let found;
    let why;
    /** What the fleet store is asked for, where the host tier has nothing. */
    let ask;
    if (o.by === 'identity') {
        const identity = {
            format: String(ARCHIVE_FORMAT),
            repository: o.me.repository,
            workflow: o.me.workflow,
            job: o.me.job,
            key: o.me.jobKey,
            arch: hostFacts().arch,
            cargoHome: o.context.cargoHome,
        };
        const f = findArchiveByIdentity(o.root, o.me.repository, domains, identity);
        if (f.found)
            found = { dir: f.dir, domain: f.domain, how: 'newest' };
        else
            [why, ask] = [f.why, { identity }];
    }
    else {
        const k = await keyOf(o.context);
        if ('why' in k)
            why = k.why;
        else {
            const f = findArchive(o.root, o.me.repository, domains, k.key);
            if (f.found)
                found = { dir: f.dir, domain: f.domain, how: f.how };
            else
                [why, ask] = [f.why, { key: k.key }];
        }
    }
    // The host has nothing: the fleet store, into the host tier, then restored from there as a host archive is.
    if (!found && ask && o.fleet) {
        const got = await o.fleet.fetch({ root: o.root, repository: o.me.repository, domains, ...ask });
        sayFleet(o.log, fleetLine(o.fleet.name, 'fetch', got));
        if (got.fetched) {
            found = { dir: got.dir, domain: got.domain, how: ask.identity ? 'newest' : got.how };
            base.tier = 'fleet';
        }
        else
            why = `${why}; ${o.fleet.name}: ${got.detail}`;
    }
    if (!found) {
        const r = { ...base, outcome: 'missed', why: why ?? 'no archive', ms: ms() };
        await note(o, r);
        return r;
    }
    await o.mark(true);
    const got = await restoreArchive({ dir: found.dir, buildDir: o.buildDir, timeoutMs: o.timeoutMs });
    await o.mark(false);
    const at = { archive: found.dir, how: found.how, domain: found.domain };
    let r;
    if (got.restored) {
        r = { ...base, ...at, outcome: 'restored', bytes: got.meta.bytes, ms: ms() };
        o.log.info(`${tiers_describeRestore(r)}.`);
        if (base.tier === 'fleet' && o.hard && !keepFetched(await measure(o.root), await o.hard())) {
            const gone = await removeHostArchive(o.root, found.dir, 'fetched from the fleet store onto a disk over its hard level', o.timeoutMs).catch(() => undefined);
            if (gone?.outcome === 'removed')
                o.log.info(`Not kept in the host's tier: the disk of ${o.root} is over its hard level, whose room is for this build.`);
        }
    }
    else if (REFUSED.has(got.reason)) {
        const gone = await removeHostArchive(o.root, found.dir, 'a corrupt dependency archive, refused by a restore', o.timeoutMs).catch(() => undefined);
        r = { ...base, ...at, outcome: 'refused', why: got.detail, ms: ms() };
        o.log.warning(`The dependency archive ${found.dir} was refused (${got.reason}): ${got.detail}. ` +
            `${gone?.outcome === 'removed' ? 'It was removed; ' : ''}this job builds without it, and nothing of it is left in ${o.buildDir}.`);
    }
    else if (got.reason === 'missing') {
        r = { ...base, ...at, outcome: 'missed', why: got.detail, ms: ms() };
    }
    else {
        r = { ...base, ...at, outcome: 'failed', why: got.detail, ms: ms() };
        o.log.warning(`Restoring the dependency archive ${found.dir} failed: ${got.detail}. This job builds without it.`);
    }
    await note(o, r);
    return r;
}
async function note(o, r) {
    if (r.outcome === 'off')
        return;
    if (r.outcome === 'missed')
        o.log.info(`No dependency archive restored: ${r.why}.`);
    const err = await recordEvent(o.root, { event: 'archive', tier: r.tier, op: 'restore', result: r.outcome, bytes: r.bytes, ms: r.ms });
    if (err)
        o.log.debug(`Recording the archive restore in ${o.root}'s events log: ${err.message}`);
}
/** Pure: the line a restore gets in the log and the summary. */
function tiers_describeRestore(r) {
    const where = r.tier === 'host' ? "the host's tier" : 'the fleet store';
    if (r.outcome === 'restored') {
        const which = r.how === 'exact' ? 'its exact key' : r.how === 'fallback' ? 'an older Cargo.lock' : "the job's newest";
        return `Restored a dependency archive from ${where} (${which}, saved by ${r.domain}, ${units_formatBytes(r.bytes ?? 0)}) in ${units_formatDuration(r.ms)}`;
    }
    if (r.outcome === 'off')
        return `No restore from ${where}: ${r.why}`;
    return `No dependency archive from ${where}: ${r.why}`;
}
/**
 * Removes the temp directories restores killed midway left in a target dir (the job holds its
 * lease); how many it found: when any, the target's size measured before is stale.
 */
async function clearRestoreLeftovers(root, target, timeoutMs) {
    const left = (await absent_listDir(target, { notADirectory: 'absent' })).filter(isRestoreLeftover);
    for (const e of left)
        await remove_removeTree(root, (0,external_node_path_.join)(target, e), { why: 'a restore killed midway left it', timeoutMs });
    return left.length;
}
/**
 * Pure: the archives to remove, in order, to bring the tier under `capBytes`: dead ones first
 * (isDeadArchive), then the least worth first as the guard weighs them (policy.ts trimArchives,
 * `worth` from value.ts archiveValues), the oldest first among equals; `keep` (the one just saved)
 * last, and only when it alone is over the cap.
 */
function archivesOverCap(archives, worth, capBytes, keep, nowMs) {
    let total = archives.reduce((n, a) => n + a.bytes, 0);
    const others = archives.filter((a) => a.dir !== keep);
    const dead = others.filter((a) => isDeadArchive(a, false, nowMs));
    const alive = others.filter((a) => !a.temp && !isDeadArchive(a, false, nowMs));
    // trimArchives under a cap of 0 gives every archive, in its order.
    const ranked = trimArchives(alive.map((a) => ({ path: a.dir, bytes: a.bytes, live: false, savedMs: a.lastUsedMs, domain: a.domain, value: worth.get(a.dir) })), 0);
    const out = [];
    for (const dir of [...dead.map((a) => a.dir), ...ranked.map((a) => a.path), ...archives.filter((x) => x.dir === keep).map((a) => a.dir)]) {
        if (total <= capBytes)
            break;
        out.push(dir);
        total -= archives.find((a) => a.dir === dir).bytes;
    }
    return out;
}
/** The archive of the exact key in `domain`, when one is saved there: its packages. */
const savedIn = (root, repository, domain, key) => {
    const m = key.exact === undefined ? undefined : readArchiveMeta(layout_archiveDir(root, repository, domain, key.fallback, key.exact));
    return m ? { packages: m.packages } : undefined;
};
/**
 * A job's end: saves an archive of its build's dependencies into its own trust domain's part of the
 * host tier when policy.ts saveArchive says so, then keeps the tier under its cap. Never throws. The one save
 * point of the archive tiers: a fleet tier joins here.
 */
async function saveTier(o) {
    const t0 = performance.now();
    const ms = () => Math.round(performance.now() - t0);
    const skip = (why) => ({ tier: 'host', outcome: 'skipped', why, ms: ms() });
    // The cheap refusals first: no toolchain to ask, no units to read.
    const who = { enabled: o.cap.kind !== 'off', layout: o.layout, fork: o.me.fork, builtElsewhere: o.builtElsewhere };
    const refused = saveRefusal(who);
    if (refused)
        return skip(refused);
    try {
        // A job that compiled nothing (a warm start's usual end) compiled no dependency either: said
        // without the key, which costs a `rustc -vV` and the lock file.
        const units = o.units ?? readUnits(o.buildDir);
        const since = Date.parse(o.startedAt);
        if (countUnits(units, since).built === 0)
            return skip(NOTHING_COMPILED);
        const k = await keyOf({ ...o.context, buildDir: o.buildDir });
        if ('why' in k)
            return skip(k.why);
        const local = new Set(k.local);
        const pkg = (unit) => unit.replace(/-[0-9a-f]{16}$/, '');
        const deps = countUnits(units.filter((u) => !local.has(pkg(u.name))), since).built;
        const plan = planArchive(listBuildDir(o.buildDir), local);
        const packages = plan.packages;
        const decision = saveArchive({
            ...who,
            builtDependencies: deps,
            exact: k.key.exact,
            packages,
            own: savedIn(o.root, o.me.repository, o.me.key, k.key),
            base: o.me.baseKey ? savedIn(o.root, o.me.repository, o.me.baseKey, k.key) : undefined,
        });
        if (!decision.save)
            return skip(decision.why);
        const dir = layout_archiveDir(o.root, o.me.repository, o.me.key, k.key.fallback, k.key.exact);
        if (decision.replace) {
            const gone = await archive_host_removeHostArchive(o.root, dir, 'replaced by a fuller archive of the same key', o.timeoutMs);
            if (gone.outcome === 'live')
                return skip('a restore is reading the archive of its exact key, which holds fewer packages: kept');
        }
        const saved = await archive_saveArchive({ buildDir: o.buildDir, dir, key: k.key, domain: o.me.key, local: [...local], plan, timeoutMs: o.timeoutMs });
        if (!saved.saved) {
            if (saved.reason === 'exists' || saved.reason === 'raced' || saved.reason === 'nothing' || saved.reason === 'no-lock')
                return skip(saved.detail);
            // A host without zstd has no host tier: said in the log and the summary, not warned at every job's end.
            if (saved.reason === 'no-zstd')
                return skip(`${saved.detail}: install zstd on the host for its dependency archives`);
            const r = { tier: 'host', outcome: 'failed', why: saved.detail, ms: ms() };
            await events_recordEvent(o.root, { event: 'archive', tier: 'host', op: 'save', result: 'failed', ms: r.ms });
            return r;
        }
        const trimmed = await trimToCap(o.root, o.cap, dir, o.timeoutMs);
        const r = {
            tier: 'host',
            outcome: 'saved',
            why: decision.why,
            archive: dir,
            bytes: saved.meta.bytes,
            ms: ms(),
            trimmed: trimmed.length,
        };
        if (trimmed.includes(dir))
            return { ...r, outcome: 'skipped', why: `the archive alone (${units_formatBytes(saved.meta.bytes)}) is over host-archives (${formatArchiveCap(o.cap)})` };
        await events_recordEvent(o.root, { event: 'archive', tier: 'host', op: 'save', result: 'saved', bytes: r.bytes, ms: r.ms });
        if (o.fleet) {
            const put = await o.fleet.put({ root: o.root, repository: o.me.repository, domain: o.me.key, key: { ...k.key, exact: k.key.exact }, dir });
            const line = fleet_store_fleetLine(o.fleet.name, 'put', put);
            sayFleet(o.log, line);
            r.fleet = line.text;
            if (put.put)
                await events_recordEvent(o.root, { event: 'archive', tier: 'fleet', op: 'save', result: 'saved', bytes: put.bytes, ms: put.ms });
            else if (line.warning)
                await events_recordEvent(o.root, { event: 'archive', tier: 'fleet', op: 'save', result: 'failed', ms: put.ms });
        }
        return r;
    }
    catch (e) {
        return { tier: 'host', outcome: 'failed', why: `saving a dependency archive of ${o.buildDir}: ${e.message}`, ms: ms() };
    }
}
/** Removes archives until the tier is under its cap (archivesOverCap); the ones removed. */
async function trimToCap(root, cap, keep, timeoutMs) {
    const disk = await disk_measure(root);
    const now = Date.now();
    const archives = await listHostArchives(root);
    // A restore holds its archive's lock: removeHostArchive refuses it, so none is weighed as live here.
    const views = archives.flatMap((a) => (a.meta && !a.temp ? [archiveView({ ...a, meta: a.meta }, false)] : []));
    const worth = archiveValues(views, await lease_hostHistory(root), now);
    const order = archivesOverCap(archives, worth, archiveCapBytes(cap, disk.totalBytes), keep, now);
    const removed = [];
    for (const dir of order) {
        const r = await archive_host_removeHostArchive(root, dir, `the host tier over host-archives (${formatArchiveCap(cap)})`, timeoutMs);
        if (r.outcome === 'removed' || r.outcome === 'left-in-trash')
            removed.push(dir);
    }
    return removed;
}
/** Pure: the line a save gets in the log and the summary. */
function describeSave(s) {
    if (s.outcome === 'saved') {
        const trimmed = s.trimmed ? `; ${s.trimmed} older archives removed for host-archives` : '';
        return `Saved a dependency archive to the host's tier (${s.why}; ${units_formatBytes(s.bytes ?? 0)} in ${units_formatDuration(s.ms ?? 0)}${trimmed})`;
    }
    if (s.outcome === 'failed')
        return `Saving a dependency archive failed: ${s.why}`;
    return `No dependency archive saved: ${s.why}`;
}
/** Pure: which tier the start came from. */
function startTier(f) {
    if (f.kept)
        return 'slot';
    if (f.copy?.outcome === 'copied')
        return 'copy';
    if (f.restore?.outcome === 'restored')
        return f.restore.tier === 'host' ? 'host-archive' : 'fleet-archive';
    return f.compileCache ? 'compile-cache' : 'cold';
}
/** Pure: for a start that came from no warm tier, why each missed, in the order they were tried. */
function tierMisses(f) {
    const t = startTier(f);
    if (t === 'slot' || t === 'copy' || t === 'host-archive' || t === 'fleet-archive')
        return [];
    const out = [{ tier: 'slot', why: f.keptWhy }];
    if (f.layout === 'job')
        return [...out, { tier: 'copy', why: 'layout: job starts every job empty' }];
    out.push({ tier: 'copy', why: f.copy ? f.copy.text : 'no idle slot holds a compatible warm build of this job' });
    if (f.restore)
        out.push({ tier: f.restore.tier === 'host' ? 'host-archive' : 'fleet-archive', why: f.restore.why ?? f.restore.outcome });
    if (!f.compileCache)
        out.push({ tier: 'compile-cache', why: 'no RUSTC_WRAPPER: the job compiles through no compile cache' });
    return out;
}

;// CONCATENATED MODULE: ./src/pool/warm-copy.ts














/**
 * Pure: build-script runs whose output names `source` (the slot copied from) anywhere but in the
 * script's own OUT_DIR, which cargo rewrites to the new path when it reads the output back.
 */
function staleScripts(outputs, source) {
    return outputs.filter((o) => (o.rootOutput ? o.output.split(o.rootOutput.trim()).join('') : o.output).includes(source)).map((o) => o.unit);
}
/** `<profile>/build` and `<triple>/<profile>/build` dirs of a target dir (cargo's layout.rs). */
async function buildDirs(target) {
    const out = [];
    const sub = async (d) => (await listDirents(d)).filter((e) => e.isDirectory()).map((e) => join(d, e.name));
    for (const a of await sub(target)) {
        if (await isDirAt(join(a, 'build')))
            out.push(join(a, 'build'));
        for (const b of await sub(a))
            if (!b.endsWith('/build') && (await isDirAt(join(b, 'build'))))
                out.push(join(b, 'build'));
    }
    return out;
}
/** Pure: the package a unit dir (`<package>-<16 hex digits>`) belongs to. */
const unitPackage = (unit) => unit.replace(/-[0-9a-f]{16}$/, '');
/**
 * Makes the listed build-script runs stale, with every unit of their package: cargo runs the
 * script again and recompiles the package (measured with cargo 1.95: with only the run's
 * fingerprint gone, the script runs again but the crate that read its rustc-env stays "fresh").
 * What depends on the package is rebuilt by cargo itself, as after any rebuild.
 */
async function invalidateScripts(target, source) {
    const stale = [];
    for (const build of await buildDirs(target)) {
        const outputs = [];
        // A unit that never ran its script has no output; a file among the units is no unit.
        const unitFile = (unit, name) => readTextIfPresent(join(build, unit, name), { notADirectory: 'absent' });
        for (const unit of await listDir(build)) {
            const output = await unitFile(unit, 'output');
            if (output === undefined)
                continue;
            outputs.push({ unit, output, rootOutput: (await unitFile(unit, 'root-output')) ?? '' });
        }
        const packages = new Set(staleScripts(outputs, source).map(unitPackage));
        const fingerprints = join(build, '..', '.fingerprint');
        for (const unit of await listDir(fingerprints)) {
            if (!packages.has(unitPackage(unit)) || unitPackage(unit) === unit)
                continue;
            await fs.rm(join(fingerprints, unit), { recursive: true, force: true });
            stale.push(unit);
        }
    }
    return stale;
}
/** Pure: the log's line for a copy. */
function describeCopy(c) {
    const what = `the warm build of slot ${c.from} (${COPY_RULE_TEXT[c.rule]}, ${c.key}, ${units_formatBytes(c.bytes)})`;
    if (c.outcome === 'copied') {
        const extra = [
            c.staleScripts?.length ? `${c.staleScripts.length} units of packages whose build scripts named slot ${c.from} will build again` : '',
            c.linksRemoved?.length ? `${c.linksRemoved.length} links out of the copy removed` : '',
        ]
            .filter(Boolean)
            .join('; ');
        return `Started from a copy of ${what} in ${(c.ms / 1000).toFixed(1)} s${extra ? `; ${extra}` : ''}.`;
    }
    const why = {
        busy: "it became live (its lease or cargo's locks are held)",
        changed: 'another job used it meanwhile',
        'no-room': 'the copy would take the disk over disk-threshold',
        failed: `the copy failed: ${c.detail}`,
    }[c.outcome];
    return `Not starting from ${what}: ${why}; building from the compile cache or from scratch.`;
}
/**
 * Copies the source slot's target dir into `to.target` (empty, this job's own), under the source
 * slot's lease and cargo's locks there. Never fails the job: a copy that cannot be made leaves
 * the target empty, and the build starts cold.
 */
async function copyWarmBuild(root, src, to, o) {
    const from = slotDirs(root, src.name);
    const base = { from: src.name, rule: src.rule, key: src.record.key, outcome: 'busy', bytes: src.record.sizes?.target ?? 0, ms: 0 };
    const t0 = performance.now();
    const h = await hold([from.lock, ...(await cargoLockFiles(from.target, from.cargoHome))]);
    if (!h)
        return base;
    try {
        const now = await readRecord(from.record);
        if (!now || now.lastUsed !== src.record.lastUsed || now.key !== src.record.key || now.view?.cargoHome !== src.record.view?.cargoHome || worthless(now))
            return { ...base, outcome: 'changed' };
        const bytes = now.sizes?.target ?? (await diskUsage(from.target));
        if (!o.reflink && !SHIPPED.copyFits(await measure(root), bytes, o.threshold))
            return { ...base, bytes, outcome: 'no-room' };
        const c = await copyTree(from.target, to.target, o.timeoutMs);
        if (!c.ok) {
            // A partial copy must not pass for a warm build: the job starts from an empty target.
            await removeTree(root, to.target, { why: 'warm copy: a partial copy', timeoutMs: o.timeoutMs });
            await fs.mkdir(to.target, { recursive: true });
            return { ...base, bytes, outcome: 'failed', detail: c.detail, ms: Math.round(performance.now() - t0) };
        }
        const stale = await invalidateScripts(to.target, from.base);
        return { ...base, bytes, outcome: 'copied', ms: Math.round(performance.now() - t0), staleScripts: stale, linksRemoved: c.linksRemoved };
    }
    finally {
        await release(h);
    }
}

;// CONCATENATED MODULE: ./src/store/crate-tree.ts




const sealedMode = (e) => (e.kind === 'dir' ? 0o555 : e.mode & 0o111 ? 0o555 : 0o444);
const writableMode = (e) => (e.kind === 'dir' ? 0o755 : e.mode & 0o111 ? 0o755 : 0o644);
const kindOf = (st) => st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : 'other';
/** Pure: the children each directory of the tree must have ('' is the crate directory). */
function childrenOf(tree) {
    const out = new Map([['', new Set()]]);
    for (const [p, e] of tree) {
        const at = p.lastIndexOf('/');
        const parent = at < 0 ? '' : p.slice(0, at);
        if (!out.has(parent))
            out.set(parent, new Set());
        out.get(parent).add(p.slice(at + 1));
        if (e.kind === 'dir' && !out.has(p))
            out.set(p, new Set());
    }
    return out;
}
/** One path against what the tree says of it; undefined when it is right. */
async function compareOne(dir, rel, want, sealed) {
    const st = await absent_lstatIfPresent((0,external_node_path_.join)(dir, rel));
    if (!want)
        return st ? 'extra' : undefined;
    if (!st)
        return 'missing';
    if (kindOf(st) !== want.kind)
        return 'kind';
    if (want.kind === 'file') {
        if (st.size !== want.data.length || !(await external_node_fs_.promises.readFile((0,external_node_path_.join)(dir, rel))).equals(want.data))
            return 'content';
    }
    else if (want.kind === 'symlink') {
        if ((await external_node_fs_.promises.readlink((0,external_node_path_.join)(dir, rel))) !== want.target)
            return 'content';
    }
    if (want.kind === 'symlink')
        return undefined;
    const mode = st.mode & 0o777;
    return mode === (sealed ? sealedMode(want) : writableMode(want)) ? undefined : 'mode';
}
/** What differs between `dir` and `tree`, one difference per path. */
async function compareTree(dir, tree, o) {
    const diffs = new Map();
    const kids = childrenOf(tree);
    const seen = new Set();
    const ignored = (path) => o.ignore?.some((i) => path === i || path.startsWith(`${i}/`)) ?? false;
    const note = (path, why) => {
        if ((why === 'extra' && o.keepExtra) || ignored(path))
            return;
        if (!diffs.has(path))
            diffs.set(path, why);
    };
    const visit = async (rel, deep) => {
        if (seen.has(rel) || ignored(rel))
            return;
        seen.add(rel);
        if (rel !== '') {
            const why = await compareOne(dir, rel, tree.get(rel), o.sealed);
            if (why && !(why === 'mode' && o.keepExtra))
                note(rel, why);
            if (why === 'extra' || why === 'missing' || why === 'kind')
                return;
        }
        else {
            const st = await absent_lstatIfPresent(dir);
            if (!st?.isDirectory())
                return void note('', st ? 'kind' : 'missing');
            if (!o.keepExtra && (st.mode & 0o777) !== (o.sealed ? 0o555 : 0o755))
                note('', 'mode');
        }
        if (!kids.has(rel))
            return; // not a directory of the tree
        const names = await absent_listDir((0,external_node_path_.join)(dir, rel), { notADirectory: 'absent' });
        const want = kids.get(rel);
        for (const n of names)
            if (!want.has(n))
                note(rel ? `${rel}/${n}` : n, 'extra');
        for (const n of want) {
            const child = rel ? `${rel}/${n}` : n;
            if (deep)
                await visit(child, true);
            else if (!names.includes(n))
                note(child, 'missing');
        }
    };
    if (!o.only)
        await visit('', true);
    else
        for (const rel of [...o.only].sort())
            await visit(rel, false);
    return [...diffs].map(([path, why]) => ({ path, why }));
}
/** Makes `dir` writable while `fn` runs, then gives it `mode` back (0o555 sealed). */
async function writableWhile(dir, mode, fn) {
    await external_node_fs_.promises.chmod(dir, 0o755);
    try {
        return await fn();
    }
    finally {
        await external_node_fs_.promises.chmod(dir, mode).catch(() => undefined);
    }
}
/** Puts `e` at `path` whole: a temp name in the same directory, then rename(2) over whatever is there. */
async function place(path, e, sealed) {
    const tmp = (0,external_node_path_.join)((0,external_node_path_.dirname)(path), `.cargo-isolate-${(0,external_node_crypto_.randomBytes)(4).toString('hex')}.tmp`);
    try {
        if (e.kind === 'symlink')
            await external_node_fs_.promises.symlink(e.target, tmp);
        else {
            await external_node_fs_.promises.writeFile(tmp, e.data, { mode: 0o600 });
            if (e.mtime)
                await external_node_fs_.promises.utimes(tmp, e.mtime, e.mtime);
            await external_node_fs_.promises.chmod(tmp, sealed ? sealedMode(e) : writableMode(e));
        }
        await external_node_fs_.promises.rename(tmp, path);
    }
    catch (err) {
        await external_node_fs_.promises.rm(tmp, { force: true });
        throw err;
    }
}
/** Removes a file, a link or a whole directory below the crate directory (made writable first). */
async function removeEntry(path) {
    const st = await absent_lstatIfPresent(path);
    if (!st)
        return;
    if (st.isDirectory()) {
        await chmodTree(path, () => 0o755, () => 0o755);
        await external_node_fs_.promises.rm(path, { recursive: true, force: true });
    }
    else
        await external_node_fs_.promises.unlink(path);
}
/** Makes a directory of the tree (and its files, later) with the tree's modes. */
async function makeDir(path) {
    await external_node_fs_.promises.mkdir(path, { mode: 0o755 });
}
/**
 * Brings `dir` to `tree` by the differences `diffs` (compareTree's): each wrong or missing file
 * renamed into place whole, each extra entry unlinked, modes set. Parents are made writable only
 * while their entries change.
 */
async function repairTree(dir, tree, diffs, sealed) {
    const dirMode = sealed ? 0o555 : 0o755;
    // Parents before children; a missing directory is made before the files below it.
    for (const d of [...diffs].sort((a, b) => a.path.split('/').length - b.path.split('/').length || a.path.localeCompare(b.path))) {
        const path = d.path === '' ? dir : (0,external_node_path_.join)(dir, d.path);
        const want = tree.get(d.path);
        if (d.why === 'mode') {
            await external_node_fs_.promises.chmod(path, d.path === '' || !want ? dirMode : sealed ? sealedMode(want) : writableMode(want));
            continue;
        }
        await writableWhile((0,external_node_path_.dirname)(path), dirMode, async () => {
            if (d.why === 'extra' || d.why === 'kind')
                await removeEntry(path);
            if (d.why === 'extra' || !want)
                return;
            if (want.kind === 'dir') {
                await makeDir(path).catch((e) => {
                    if (e.code !== 'EEXIST')
                        throw e;
                });
                // Its entries: every one is missing (the directory was not there) or compared below.
                const inner = await compareTree(path, subtree(tree, d.path), { sealed });
                await external_node_fs_.promises.chmod(path, 0o755);
                await repairTree(path, subtree(tree, d.path), inner, sealed);
                await external_node_fs_.promises.chmod(path, dirMode);
            }
            else
                await place(path, want, sealed);
        });
    }
}
/** Pure: the part of `tree` below `rel`, relative to it. */
function subtree(tree, rel) {
    const out = new Map();
    for (const [p, e] of tree)
        if (p.startsWith(`${rel}/`))
            out.set(p.slice(rel.length + 1), { ...e, path: p.slice(rel.length + 1) });
    return out;
}
/**
 * chmod over a tree without following links: directories by `dirMode`, files by `fileMode` (their
 * current mode in); `skip`: paths below `top` left alone with their subtrees.
 */
async function chmodTree(top, dirMode, fileMode, skip = [], rel = '') {
    if (rel && skip.some((x) => rel === x || rel.startsWith(`${x}/`)))
        return;
    const st = await absent_lstatIfPresent(top);
    if (!st || st.isSymbolicLink())
        return;
    if (!st.isDirectory()) {
        if ((st.mode & 0o777) !== fileMode(st.mode & 0o777))
            await external_node_fs_.promises.chmod(top, fileMode(st.mode & 0o777));
        return;
    }
    // Writable first, so that entries can be listed and changed; its final mode last.
    if ((st.mode & 0o700) !== 0o700)
        await external_node_fs_.promises.chmod(top, 0o755);
    for (const n of await external_node_fs_.promises.readdir(top))
        await chmodTree((0,external_node_path_.join)(top, n), dirMode, fileMode, skip, rel ? `${rel}/${n}` : n);
    if ((st.mode & 0o777) !== dirMode(st.mode & 0o777) || (st.mode & 0o700) !== 0o700)
        await external_node_fs_.promises.chmod(top, dirMode(st.mode & 0o777));
}
/** Seals a crate directory as the tree says (modes only: the content is checked elsewhere). */
const sealTree = (dir, skip = []) => chmodTree(dir, () => 0o555, (m) => (m & 0o111 ? 0o555 : 0o444), skip);
/** Makes a sealed crate directory writable again (for cargo's own clean-up of what nobody used for long). */
const unsealTree = (dir, skip = []) => chmodTree(dir, () => 0o755, (m) => (m & 0o111 ? 0o755 : 0o644), skip);
/**
 * Extracts `tree` as `<parent>/<name>`: made whole in a hidden directory beside it, with cargo's
 * marker, modes and mtimes, then renamed into place. 'exists' when a directory of that name
 * appeared meanwhile (it is then compared like any other).
 */
async function extractTree(parent, name, tree, sealed) {
    const tmp = (0,external_node_path_.join)(parent, `.cargo-isolate-${(0,external_node_crypto_.randomBytes)(4).toString('hex')}-${name}`);
    await external_node_fs_.promises.mkdir(tmp, { mode: 0o755 });
    try {
        const paths = [...tree.keys()].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
        for (const p of paths) {
            const e = tree.get(p);
            if (e.kind === 'dir')
                await makeDir((0,external_node_path_.join)(tmp, p));
            else
                await place((0,external_node_path_.join)(tmp, p), e, sealed);
        }
        // Directories last, deepest first: their entries are all there.
        if (sealed)
            for (const p of paths.filter((q) => tree.get(q).kind === 'dir').reverse())
                await external_node_fs_.promises.chmod((0,external_node_path_.join)(tmp, p), 0o555);
        await external_node_fs_.promises.chmod(tmp, sealed ? 0o555 : 0o755);
        try {
            await external_node_fs_.promises.rename(tmp, (0,external_node_path_.join)(parent, name));
            return 'made';
        }
        catch (e) {
            if (!['EEXIST', 'ENOTEMPTY'].includes(e.code ?? ''))
                throw e;
            await removeEntry(tmp);
            return 'exists';
        }
    }
    catch (e) {
        await removeEntry(tmp).catch(() => undefined);
        throw e;
    }
}

;// CONCATENATED MODULE: ./src/store/tar.ts

/** Files cargo writes into a `.crate` itself; cargo 1.93+ stamps them with this mtime after unpacking. */
const GENERATED = ['Cargo.lock', 'Cargo.toml', '.cargo_vcs_info.json'];
const GENERATED_MTIME = 1153704088;
/** cargo's marker of a complete extraction (the `.cargo-ok` file's content since cargo 1.71). */
const CARGO_OK = '.cargo-ok';
const CARGO_OK_TEXT = '{"v":1}';
class CrateFormatError extends Error {
}
const tar_text = (b, from, len) => {
    const s = b.subarray(from, from + len);
    const nul = s.indexOf(0);
    return (nul < 0 ? s : s.subarray(0, nul)).toString('utf8');
};
/** A numeric header field: octal text, or base-256 when its high bit is set (GNU, for large values). */
function num(b, from, len) {
    if (b[from] & 0x80) {
        let v = b[from] & 0x7f;
        for (let i = 1; i < len; i++)
            v = v * 256 + b[from + i];
        return v;
    }
    const t = tar_text(b, from, len).trim();
    return t === '' ? 0 : parseInt(t, 8);
}
/** pax records: `<len> <key>=<value>\n`, repeated. */
function paxRecords(data) {
    const out = {};
    let at = 0;
    while (at < data.length) {
        const space = data.indexOf(0x20, at);
        if (space < 0)
            break;
        const len = parseInt(data.subarray(at, space).toString('ascii'), 10);
        if (!(len > 0))
            break;
        const rec = data.subarray(space + 1, at + len - 1).toString('utf8');
        const eq = rec.indexOf('=');
        if (eq > 0)
            out[rec.slice(0, eq)] = rec.slice(eq + 1);
        at += len;
    }
    return out;
}
/** Pure: a path as the tar crate places it under the unpack directory, or undefined when it is skipped. */
function cleanPath(raw) {
    const parts = [];
    for (const p of raw.split('/')) {
        if (p === '' || p === '.')
            continue;
        if (p === '..')
            return undefined;
        parts.push(p);
    }
    return parts;
}
/**
 * Pure: the entries of a `.crate` (gzipped) for the crate directory `top` (`<name>-<version>`),
 * relative to it. Throws CrateFormatError for what cargo would refuse to unpack.
 */
function readCrate(gz, top) {
    let tar;
    try {
        tar = (0,external_node_zlib_.gunzipSync)(gz);
    }
    catch (e) {
        throw new CrateFormatError(`not a gzip stream (${e.message})`);
    }
    const out = [];
    const files = new Map();
    let longName;
    let longLink;
    let pax = {};
    for (let at = 0; at + 512 <= tar.length;) {
        const h = tar.subarray(at, at + 512);
        if (h.every((x) => x === 0))
            break; // the end: two zero blocks (one is enough to stop)
        const type = String.fromCharCode(h[156] || 0x30);
        const size = pax.size !== undefined ? Number(pax.size) : num(h, 124, 12);
        const data = tar.subarray(at + 512, at + 512 + size);
        if (data.length < size)
            throw new CrateFormatError(`truncated archive (an entry of ${size} bytes at offset ${at})`);
        at += 512 + Math.ceil(size / 512) * 512;
        if (type === 'L')
            longName = tar_text(data, 0, data.length);
        else if (type === 'K')
            longLink = tar_text(data, 0, data.length);
        else if (type === 'x')
            pax = { ...pax, ...paxRecords(data) };
        else if (type === 'g')
            continue;
        else {
            const ustar = tar_text(h, 257, 6) === 'ustar' && h[262] === 0; // POSIX ustar: a prefix field; GNU's "ustar  " has none
            const name = pax.path ?? longName ?? (ustar && tar_text(h, 345, 155) ? `${tar_text(h, 345, 155)}/${tar_text(h, 0, 100)}` : tar_text(h, 0, 100));
            const link = pax.linkpath ?? longLink ?? tar_text(h, 157, 100);
            longName = longLink = undefined;
            pax = {};
            if (name !== top && !name.startsWith(`${top}/`)) {
                throw new CrateFormatError(`the archive holds ${JSON.stringify(name)}, which is not under ${top}/`);
            }
            const parts = cleanPath(name);
            if (!parts || parts.length === 0 || parts[0] !== top)
                continue;
            const rel = parts.slice(1).join('/');
            if (rel === '' || parts[parts.length - 1] === CARGO_OK)
                continue; // the top itself; cargo's own marker
            const mode = num(h, 100, 8) & 0o777;
            const mtime = GENERATED.includes(rel) ? GENERATED_MTIME : num(h, 136, 12) || 1;
            if (type === '5')
                out.push({ path: rel, kind: 'dir', mode, mtime });
            else if (type === '2')
                out.push({ path: rel, kind: 'symlink', mode, mtime, target: link });
            else if (type === '1') {
                const linked = cleanPath(link);
                const bytes = linked && files.get(linked.slice(1).join('/'));
                if (!bytes)
                    throw new CrateFormatError(`the hard link ${rel} names ${link}, which is not a file before it in the archive`);
                files.set(rel, bytes);
                out.push({ path: rel, kind: 'file', mode, mtime, data: bytes });
            }
            else if (type === '0' || type === '7' || h[156] === 0) {
                files.set(rel, data);
                out.push({ path: rel, kind: 'file', mode, mtime, data });
            }
            // Devices, FIFOs and the like: the tar crate would make them; a crate never ships one.
        }
    }
    return out;
}
/**
 * Pure: every path of the extracted tree with what must be there: the entries, the directories
 * they imply (the tar crate makes missing parents), and cargo's marker. The last entry for a
 * path wins, as unpacking over it would.
 */
function expectedTree(entries) {
    const tree = new Map();
    for (const e of entries) {
        const parts = e.path.split('/');
        for (let i = 1; i < parts.length; i++) {
            const dir = parts.slice(0, i).join('/');
            if (!tree.has(dir))
                tree.set(dir, { path: dir, kind: 'dir', mode: 0o755, mtime: 0 });
        }
        tree.set(e.path, e);
    }
    tree.set(CARGO_OK, { path: CARGO_OK, kind: 'file', mode: 0o644, mtime: 0, data: Buffer.from(CARGO_OK_TEXT) });
    return tree;
}

;// CONCATENATED MODULE: ./src/store/git-tree.ts


class GitObjectError extends Error {
}
const git_tree_SHA = /^[0-9a-f]{40}$/;
/** git as a child process without the job's GIT_* variables (they could point it at other objects). */
function catFile(db, shas, env) {
    const clean = Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('GIT_')));
    return new Promise((res, rej) => {
        const child = (0,external_node_child_process_namespaceObject.spawn)('git', ['-c', 'safe.directory=*', '--git-dir', db, 'cat-file', '--batch'], { env: clean, stdio: ['pipe', 'pipe', 'pipe'] });
        const out = [];
        let err = '';
        child.stdout.on('data', (d) => out.push(d));
        child.stderr.on('data', (d) => (err += d.toString()));
        child.on('error', (e) => rej(new GitObjectError(`git cat-file in ${db}: ${e.message}`)));
        child.on('close', (code) => code === 0 ? res(Buffer.concat(out)) : rej(new GitObjectError(`git cat-file in ${db} exited ${code}: ${err.trim().slice(0, 200)}`)));
        child.stdin.end(shas.join('\n') + '\n');
    });
}
/** Pure: the objects of a `cat-file --batch` answer, each checked against its name. */
function parseBatch(buf) {
    const out = new Map();
    for (let at = 0; at < buf.length;) {
        const nl = buf.indexOf(0x0a, at);
        if (nl < 0)
            break;
        const [sha, type, size] = buf.subarray(at, nl).toString('latin1').split(' ');
        if (type === 'missing' || size === undefined)
            throw new GitObjectError(`object ${sha} is missing`);
        const data = buf.subarray(nl + 1, nl + 1 + Number(size));
        const actual = (0,external_node_crypto_.createHash)('sha1').update(`${type} ${data.length}\0`).update(data).digest('hex');
        if (actual !== sha)
            throw new GitObjectError(`object ${sha} holds content whose hash is ${actual}`);
        out.set(sha, { type, data });
        at = nl + 1 + Number(size) + 1;
    }
    return out;
}
/** Pure: the entries of a tree object: mode, name, object name. */
function treeEntries(data) {
    const out = [];
    for (let at = 0; at < data.length;) {
        const sp = data.indexOf(0x20, at);
        const nul = data.indexOf(0, sp);
        out.push({
            mode: data.subarray(at, sp).toString('latin1'),
            name: data.subarray(sp + 1, nul).toString('utf8'),
            sha: data.subarray(nul + 1, nul + 21).toString('hex'),
        });
        at = nul + 21;
    }
    return out;
}
async function objects(db, shas, env) {
    return shas.length ? parseBatch(await catFile(db, [...new Set(shas)], env)) : new Map();
}
/** Every path of `commit`'s tree, level by level (one `cat-file` per level), every object checked. */
async function commitTree(db, commit, env = process.env) {
    if (!git_tree_SHA.test(commit))
        throw new GitObjectError(`${commit} is not a SHA-1 commit name`);
    const c = (await objects(db, [commit], env)).get(commit);
    const tree = /^tree ([0-9a-f]{40})$/m.exec(c.data.toString('latin1'))?.[1];
    if (c.type !== 'commit' || !tree)
        throw new GitObjectError(`${commit} is not a commit`);
    const out = new Map();
    let level = [{ path: '', sha: tree }];
    while (level.length) {
        const got = await objects(db, level.map((l) => l.sha), env);
        const next = [];
        for (const l of level) {
            const t = got.get(l.sha);
            if (t.type !== 'tree')
                throw new GitObjectError(`${l.sha} (${l.path || 'the top'}) is not a tree`);
            for (const e of treeEntries(t.data)) {
                const path = l.path ? `${l.path}/${e.name}` : e.name;
                if (e.mode === '40000') {
                    out.set(path, { kind: 'dir', mode: 0o755, sha: e.sha });
                    next.push({ path, sha: e.sha });
                }
                else if (e.mode === '160000')
                    out.set(path, { kind: 'submodule', mode: 0o755, sha: e.sha });
                else if (e.mode === '120000')
                    out.set(path, { kind: 'symlink', mode: 0o777, sha: e.sha });
                else
                    out.set(path, { kind: 'file', mode: e.mode === '100755' ? 0o755 : 0o644, sha: e.sha });
            }
        }
        level = next;
    }
    return out;
}
/**
 * Pure and effect: the tree as crate-tree.ts compares it, with the bytes of `paths` (all files and
 * links when undefined) read from `db` and checked. Submodules are left out (their checkouts are
 * other repositories); cargo's marker is an empty `.cargo-ok`.
 */
async function checkoutTree(db, tree, paths, env = process.env) {
    const wanted = (p) => paths === undefined || paths.includes(p);
    const blobs = await objects(db, [...tree].filter(([p, e]) => (e.kind === 'file' || e.kind === 'symlink') && wanted(p)).map(([, e]) => e.sha), env);
    const out = new Map();
    for (const [p, e] of tree) {
        if (e.kind === 'submodule')
            continue;
        const data = blobs.get(e.sha)?.data;
        if (e.kind === 'dir')
            out.set(p, { path: p, kind: 'dir', mode: 0o755, mtime: 0 });
        else if (e.kind === 'symlink')
            out.set(p, { path: p, kind: 'symlink', mode: 0o777, mtime: 0, target: data?.toString('utf8') });
        else
            out.set(p, { path: p, kind: 'file', mode: e.mode, mtime: 0, data });
    }
    out.set('.cargo-ok', { path: '.cargo-ok', kind: 'file', mode: 0o644, mtime: 0, data: Buffer.alloc(0) });
    return out;
}

;// CONCATENATED MODULE: ./src/store/home-sources.ts












/** cargo cleans sources nobody used for a month: sealed ones it cannot, so they are unsealed after this. */
const UNSEAL_AFTER_MS = 21 * 86_400_000;
/** A name declared writable stays so this long after the last job that declared it. */
const WRITABLE_FOR_MS = 30 * 86_400_000;
/** `used` is written at most this often per crate: a start that changes nothing writes nothing. */
const USED_EVERY_MS = 86_400_000;
const emptyRecord = () => ({ format: 1, crates: {}, writable: {} });
async function readSources(file) {
    try {
        const r = JSON.parse(await external_node_fs_.promises.readFile(file, 'utf8'));
        if (r.format !== 1 || typeof r.crates !== 'object' || r.crates === null)
            return emptyRecord();
        return { format: 1, crates: r.crates, writable: r.writable ?? {} };
    }
    catch {
        return emptyRecord();
    }
}
/**
 * The `.crate` files of a home a record vouches for (publishCrates' `verified`): the sha256 it was
 * verified as, while its ctime says it has not changed since. Registry crates only.
 */
function verifiedCrates(rec, now = Date.now()) {
    return (key, ctimeMs) => {
        const x = key.startsWith('git/') ? undefined : rec.crates[key];
        return x && unchangedSince(ctimeMs, x.at, now) ? x.sha256 : undefined;
    };
}
/**
 * Pure: what one target needs. `changed`: paths below its sources that changed after its record
 * ('' for the directory itself); `crateChanged`: its `.crate` did; `sealed`: whether it must be
 * read-only now.
 */
function planTarget(t, rec, on, changed, crateChanged, sealed, extract = true) {
    if (!on.src && !on.crateFile)
        return rec ? { action: 'drop' } : { action: 'skip', why: 'not in this CARGO_HOME' };
    const stale = !rec || (t.lockSha !== undefined && rec.sha256 !== t.lockSha) || rec.sealed !== sealed;
    if (!on.src) {
        // cargo extracts a missing tree from the `.crate` when it needs it: a starting job's locked
        // crates are extracted now, from a verified one; otherwise only the `.crate` must be right.
        if (extract && t.lockSha !== undefined && on.crateFile)
            return { action: 'extract' };
        return stale || crateChanged ? { action: 'verify', crate: true } : { action: 'ok' };
    }
    // Never verified, verified against another checksum, or sealed the other way: the whole tree.
    if (stale)
        return { action: 'verify', crate: true };
    // The directory itself changed (an entry added or removed at its top, its mode, a rename of
    // it): the whole tree, as for a new one. Else the paths that changed, and the `.crate` if it did.
    if (changed.includes(''))
        return { action: 'verify', crate: crateChanged };
    if (crateChanged || changed.length > 0)
        return { action: 'verify', crate: crateChanged, only: changed };
    return { action: 'ok' };
}
/** Pure: `name-version` split at the dash before the version (a name may hold dashes, a version too). */
function splitCrate(crate) {
    const out = [];
    for (let i = crate.indexOf('-'); i > 0; i = crate.indexOf('-', i + 1)) {
        const version = crate.slice(i + 1);
        if (/^\d+\.\d+\.\d+/.test(version))
            out.push({ name: crate.slice(0, i), version });
    }
    return out;
}
const home_sources_isDir = absent_isDirAt;
const isFile = async (p) => (await absent_lstatIfPresent(p))?.isFile() ?? false;
const listDirs = async (p) => (await absent_listDirents(p)).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
/** The checksum cargo's index cache gives for `crate` in index dir `dir`, when exactly one does. */
async function indexSha(home, dir, crate) {
    for (const { name, version } of splitCrate(crate)) {
        const buf = await absent_readBytesIfPresent((0,external_node_path_.join)(home, 'registry', 'index', dir, '.cache', lockfile_indexPath(name)));
        const sums = buf ? [...new Set(indexChecksums(buf, version))] : [];
        if (sums.length === 1)
            return sums[0];
    }
    return undefined;
}
/**
 * The git checkouts to look at: the locked commits' (under the database names known for their
 * URLs, else any database holding a checkout of that commit), or every checkout the home holds.
 */
async function checkoutsOf(c) {
    const co = (0,external_node_path_.join)(c.home, 'git', 'checkouts');
    const out = new Map();
    const add = (dir, short, commit, names = []) => {
        const key = `git/${dir}/${short}`;
        const t = out.get(key);
        out.set(key, { key, dir, crate: short, lockSha: commit, git: { names: [...(t?.git?.names ?? []), ...names] } });
    };
    if (c.locked) {
        for (const g of c.gitLocked ?? []) {
            const known = (await c.gitDirsOf?.(g.url)) ?? [];
            for (const dir of known.length ? known : await listDirs(co))
                for (const short of await listDirs((0,external_node_path_.join)(co, dir)))
                    if (short.length >= 7 && g.commit.startsWith(short))
                        add(dir, short, g.commit, [g.name]);
        }
        return [...out.values()];
    }
    for (const dir of await listDirs(co))
        for (const short of await listDirs((0,external_node_path_.join)(co, dir)))
            add(dir, short);
    return [...out.values()];
}
/** The crates to look at: the lock's (in the index dirs known for its sources), or everything the home holds. */
async function targetsOf(c) {
    return [...(await registryTargets(c)), ...(await checkoutsOf(c))];
}
async function registryTargets(c) {
    const reg = (0,external_node_path_.join)(c.home, 'registry');
    const out = new Map();
    if (c.locked) {
        const present = new Set([...(await listDirs((0,external_node_path_.join)(reg, 'src'))), ...(await listDirs((0,external_node_path_.join)(reg, 'cache')))]);
        const bySource = new Map();
        for (const s of new Set(c.locked.map((x) => x.source)))
            bySource.set(s, ((await c.dirsOf?.(s)) ?? []).filter((d) => present.has(d)));
        for (const x of c.locked) {
            const crate = `${x.name}-${x.version}`;
            let dirs = bySource.get(x.source);
            // A registry no publisher has named yet: the dir whose index cache gives this very checksum.
            if (dirs.length === 0) {
                dirs = [];
                for (const d of present)
                    if ((await indexSha(c.home, d, crate)) === x.checksum)
                        dirs.push(d);
            }
            for (const d of dirs)
                out.set(`${d}/${crate}`, { key: `${d}/${crate}`, dir: d, crate, lockSha: x.checksum });
        }
        return [...out.values()];
    }
    for (const d of await listDirs((0,external_node_path_.join)(reg, 'src')))
        for (const crate of await listDirs((0,external_node_path_.join)(reg, 'src', d)))
            out.set(`${d}/${crate}`, { key: `${d}/${crate}`, dir: d, crate });
    for (const d of await listDirs((0,external_node_path_.join)(reg, 'cache')))
        for (const f of await absent_listDir((0,external_node_path_.join)(reg, 'cache', d), { notADirectory: 'absent' }))
            if (f.endsWith('.crate') && !f.startsWith('.'))
                out.set(`${d}/${f.slice(0, -6)}`, { key: `${d}/${f.slice(0, -6)}`, dir: d, crate: f.slice(0, -6) });
    return [...out.values()];
}
/** The check (see above). Never throws for one crate's trouble: it is reported, and the crate is left unrecorded. */
async function home_sources_checkSources(c) {
    const t0 = performance.now();
    const now = c.now ?? Date.now();
    const r = { checked: 0, verified: 0, repaired: [], extracted: 0, replaced: [], unchecked: [], unsealed: 0, ms: 0 };
    const done = () => ((r.ms = Math.round(performance.now() - t0)), r);
    // A record from the future: the clock was set back, and ctimes after it prove nothing.
    const trusted = (x) => (Object.values(x.crates).some((y) => y.at > now + 60_000) ? { ...emptyRecord(), writable: x.writable } : x);
    let rec = trusted(await readSources(c.recordFile));
    const writable = new Set([...c.writable, ...Object.entries(rec.writable).flatMap(([n, at]) => (now - at < WRITABLE_FOR_MS ? [n] : []))]);
    const targets = await targetsOf(c);
    const paths = (t) => t.git
        ? { src: (0,external_node_path_.join)(c.home, 'git', 'checkouts', t.dir, t.crate), crateFile: (0,external_node_path_.join)(c.home, 'git', 'db', t.dir) }
        : { src: (0,external_node_path_.join)(c.home, 'registry', 'src', t.dir, t.crate), crateFile: (0,external_node_path_.join)(c.home, 'registry', 'cache', t.dir, `${t.crate}.crate`) };
    // Which sources and `.crate` files are there: one listing per index dir, not a stat per crate.
    const listing = async (sub, dir, want) => new Set((await absent_listDirents((0,external_node_path_.join)(c.home, 'registry', sub, dir))).filter(want).map((e) => e.name));
    const present = async (ts) => {
        const dirs = [...new Set(ts.filter((t) => !t.git).map((t) => t.dir))];
        const src = new Map(await Promise.all(dirs.map(async (d) => [d, await listing('src', d, (e) => e.isDirectory())])));
        const cache = new Map(await Promise.all(dirs.map(async (d) => [d, await listing('cache', d, (e) => e.isFile())])));
        const checkouts = new Map(await Promise.all(ts.filter((t) => t.git).map(async (t) => [t.key, { src: await home_sources_isDir(paths(t).src), crateFile: await home_sources_isDir(paths(t).crateFile) }])));
        return (t) => checkouts.get(t.key) ?? { src: src.get(t.dir).has(t.crate), crateFile: cache.get(t.dir).has(`${t.crate}.crate`) };
    };
    const plan = async (ts, record) => {
        const on = await present(ts);
        const recorded = ts.filter((t) => record.crates[t.key]);
        const since = Math.min(...recorded.map((t) => record.crates[t.key].at));
        // A change after this moment may not be in the listing: a crate compared only where the
        // listing says it changed is recorded as verified up to here, no later (see below).
        const scanAt = Date.now() - SETTLE_MS;
        // A checkout's database is not watched: every object read from it is checked by its hash.
        const watched = recorded.flatMap((t) => [...(on(t).src ? [paths(t).src] : []), ...(on(t).crateFile && !t.git ? [paths(t).crateFile] : [])]);
        const changed = watched.length ? await changedSince(watched, Math.floor(since), { skip: '.git' }) : new Map();
        const out = [];
        for (const t of ts) {
            const p = paths(t);
            const at = record.crates[t.key]?.at ?? Infinity;
            const inside = [...changed].filter(([f, ct]) => ct > at && (f === p.src || f.startsWith(p.src + external_node_path_.sep))).map(([f]) => (0,external_node_path_.relative)(p.src, f));
            const crateChanged = !t.git && (changed.get(p.crateFile) ?? 0) > at;
            const names = t.git ? t.git.names : [splitCrate(t.crate)[0]?.name ?? t.crate];
            const sealed = !names.some((n) => writable.has(n));
            // cargo makes a missing checkout itself, from the database, when it needs one.
            const pl = planTarget(t, record.crates[t.key], on(t), inside, crateChanged, sealed, c.extract !== false && !t.git);
            out.push({ t, plan: pl, ...p, sealed, scanAt });
        }
        return out;
    };
    let work = await plan(targets, rec);
    r.checked = work.filter((w) => w.plan.action !== 'skip').length;
    const oldSealed = Object.entries(rec.crates).filter(([k, x]) => x.sealed && now - x.used > UNSEAL_AFTER_MS && !targets.some((t) => t.key === k));
    const stale = (w) => w.t.lockSha !== undefined && now - (rec.crates[w.t.key]?.used ?? 0) > USED_EVERY_MS;
    const declared = c.writable.filter((n) => now - (rec.writable[n] ?? 0) > USED_EVERY_MS);
    const needs = (ws) => ws.filter((w) => w.plan.action !== 'ok' && w.plan.action !== 'skip');
    // A locked crate cargo never fetched (a dependency of another platform's) is read by nobody: no trouble.
    if (needs(work).length === 0 && oldSealed.length === 0 && !work.some(stale) && declared.length === 0)
        return done();
    const lock = await flock_hold([(0,external_node_path_.join)(c.home, '.package-cache')], { waitSeconds: c.lockWaitSeconds });
    if (!lock) {
        r.skipped = `another cargo held ${(0,external_node_path_.join)(c.home, '.package-cache')} for ${c.lockWaitSeconds} s`;
        return done();
    }
    try {
        // Another job may have verified some of these while this one waited for the lock.
        const fresh = trusted(await readSources(c.recordFile));
        if (fresh.crates !== rec.crates && JSON.stringify(fresh.crates) !== JSON.stringify(rec.crates)) {
            rec = fresh;
            work = await plan(targets, rec);
        }
        for (const n of c.writable)
            rec.writable[n] = now;
        const todo = needs(work);
        for (const w of todo) {
            try {
                await prepare(c, w, r, rec);
            }
            catch (e) {
                r.unchecked.push({ crate: w.t.key, why: `${w.src}: ${e.message}` });
                w.tree = undefined;
                delete rec.crates[w.t.key];
            }
        }
        for (const [key] of oldSealed) {
            const git = key.startsWith('git/');
            const [dir, crate] = git ? key.slice(4).split('/') : [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
            await unsealTree(git ? (0,external_node_path_.join)(c.home, 'git', 'checkouts', dir, crate) : (0,external_node_path_.join)(c.home, 'registry', 'src', dir, crate), git ? ['.git'] : []).then(() => ((rec.crates[key].sealed = false), r.unsealed++), () => undefined);
        }
        // Everything this check wrote so far is stamped before `at`; what changes after it is not.
        // So everything recorded as verified is read after it: each `.crate` is hashed once more.
        const at = afterOwnWrites();
        await settle(at);
        for (const w of todo.filter((x) => x.tree)) {
            if (!w.t.git && w.sha && (await fileSha256(w.crateFile).catch(() => '')) !== w.sha) {
                r.unchecked.push({ crate: w.t.key, why: `${w.crateFile} changed while it was checked` });
                w.tree = undefined;
                delete rec.crates[w.t.key];
            }
        }
        for (const w of todo.filter((x) => x.tree && !x.crateOnly)) {
            try {
                w.diffs = await compareTree(w.src, w.tree, { sealed: w.sealed, keepExtra: !w.sealed, only: w.only, ignore: w.ignore });
                if (w.diffs.length === 0)
                    continue;
                if (w.gitTree)
                    await loadForRepair(w);
                await repairTree(w.src, w.tree, w.diffs, w.sealed);
                r.repaired.push({ crate: w.t.key, paths: w.diffs.map((d) => `${d.path || '.'} (${d.why})`) });
            }
            catch (e) {
                r.unchecked.push({ crate: w.t.key, why: `comparing ${w.src}: ${e.message}` });
                w.tree = undefined;
                delete rec.crates[w.t.key];
            }
        }
        // A repaired crate is recorded at `at2` only once a second look, after it, finds whole every
        // path that changed since the first look began (the repair's own writes, and anything another
        // process wrote meanwhile): a path compared before `at2` and changed after that comparison
        // would otherwise carry a ctime older than its record.
        const repaired = todo.filter((w) => w.tree && w.diffs?.length);
        const at2 = afterOwnWrites();
        if (repaired.length)
            await settle(at2);
        for (const w of repaired) {
            const base = w.only !== undefined && !w.crateOnly ? w.scanAt : at;
            const since = [...(await changedSince([w.src], Math.floor(base), { skip: w.t.git ? '.git' : undefined })).keys()].map((f) => (0,external_node_path_.relative)(w.src, f));
            const again = await compareTree(w.src, w.tree, {
                sealed: w.sealed,
                keepExtra: !w.sealed,
                only: since.includes('') ? undefined : [...new Set([...w.diffs.map((d) => d.path), ...since])],
                ignore: w.ignore,
            });
            if (again.length) {
                r.unchecked.push({ crate: w.t.key, why: `${again.map((d) => d.path).join(', ')} changed again while it was repaired` });
                w.tree = undefined;
                delete rec.crates[w.t.key];
            }
        }
        for (const w of work) {
            const old = rec.crates[w.t.key];
            if (w.plan.action === 'drop')
                delete rec.crates[w.t.key];
            else if (w.tree && w.sha) {
                // Every path read after `at` (or `at2`): that moment. Only the changed ones: the listing's.
                const verified = w.diffs?.length ? at2 : w.only !== undefined && !w.crateOnly ? w.scanAt : at;
                rec.crates[w.t.key] = { sha256: w.sha, from: w.from, at: verified, used: w.t.lockSha ? now : (old?.used ?? now), sealed: w.sealed };
            }
            else if (old && stale(w))
                old.used = now;
        }
        await writeAtomic(c.recordFile, JSON.stringify(rec));
    }
    finally {
        await flock_release(lock);
    }
    return done();
}
/**
 * Before the comparison: the `.crate` hashed and, when wrong, replaced or moved away; the tree
 * read from it; a missing locked tree extracted; a tree never sealed sealed. Leaves `w.tree`
 * unset when nothing can be verified.
 */
async function prepare(c, w, r, rec) {
    if (w.t.git)
        return prepareCheckout(w, r, rec);
    const old = rec.crates[w.t.key];
    const want = w.t.lockSha ?? old?.sha256 ?? (await indexSha(c.home, w.t.dir, w.t.crate));
    w.from = w.t.lockSha ? 'lock' : old ? old.from : 'index';
    if (!want) {
        r.unchecked.push({ crate: w.t.key, why: 'no lock file, record or index entry gives its checksum' });
        return;
    }
    r.verified++;
    const pl = w.plan;
    // The `.crate` is hashed unless it is the one recorded and has not changed since.
    const rehash = pl.action === 'extract' || (pl.action === 'verify' && pl.crate);
    w.only = pl.action === 'verify' ? pl.only : undefined;
    const hashed = !rehash ? want : (await isFile(w.crateFile)) ? await fileSha256(w.crateFile) : undefined;
    if (hashed !== want) {
        const blob = blobPath(c.root, want);
        if ((await isFile(blob)) && (await fileSha256(blob)) === want) {
            await placeAtomically(w.crateFile, { from: blob, mode: 'link' });
            r.replaced.push({ crate: w.t.key, how: hashed ? 'replaced from the crate store' : 'restored from the crate store' });
            w.only = undefined; // another `.crate`: the whole tree against it
        }
        else {
            // Nothing verified to put there: cargo downloads the `.crate` again (and checks it against
            // the index), and extracts it afresh, once the sources it would trust are gone too.
            if (hashed)
                await remove_removeTree(c.root, w.crateFile, { why: 'shared CARGO_HOME: a .crate that is not what its checksum says' });
            if (await home_sources_isDir(w.src)) {
                await external_node_fs_.promises.chmod(w.src, 0o755).catch(() => undefined);
                await remove_removeTree(c.root, w.src, { why: 'shared CARGO_HOME: sources of a .crate that is not what its checksum says' });
            }
            delete rec.crates[w.t.key];
            r.replaced.push({
                crate: w.t.key,
                how: hashed ? 'moved away with its sources (not in the crate store): cargo downloads it again' : 'absent, sources moved away',
            });
            return;
        }
    }
    w.sha = want;
    if ((await external_node_fs_.promises.lstat(w.crateFile)).mode & 0o222)
        await external_node_fs_.promises.chmod(w.crateFile, 0o444).catch(() => undefined);
    try {
        w.tree = expectedTree(readCrate(await external_node_fs_.promises.readFile(w.crateFile), w.t.crate));
    }
    catch (e) {
        if (!(e instanceof CrateFormatError))
            throw e;
        r.unchecked.push({ crate: w.t.key, why: `${w.crateFile}: ${e.message}` });
        return;
    }
    if (!(await home_sources_isDir(w.src))) {
        if (pl.action !== 'extract')
            return void (w.crateOnly = true); // cargo extracts it from this `.crate` when it needs it
        await external_node_fs_.promises.mkdir((0,external_node_path_.join)(c.home, 'registry', 'src', w.t.dir), { recursive: true });
        if ((await extractTree((0,external_node_path_.join)(c.home, 'registry', 'src', w.t.dir), w.t.crate, w.tree, w.sealed)) === 'made')
            r.extracted++;
        w.only = undefined; // compared whole below, like any other new tree
        return;
    }
    // Compared whole: sealed first (modes only), so that the moment recorded comes after these writes.
    if (w.sealed && w.only === undefined)
        await sealTree(w.src);
    if (!w.sealed && old?.sealed) {
        await unsealTree(w.src);
        r.unsealed++;
    }
}
/**
 * A git checkout: compared with the tree of its commit (the lock's; else the one it was verified
 * as; else its own HEAD, which must be the commit its directory is named after), read from its
 * database with every object checked. Its own `.git` and its submodules are left alone.
 */
async function prepareCheckout(w, r, rec) {
    const old = rec.crates[w.t.key];
    const head = async () => {
        const h = ((await absent_readTextIfPresent((0,external_node_path_.join)(w.src, '.git', 'HEAD'), { notADirectory: 'absent' })) ?? '').trim();
        return /^[0-9a-f]{40}$/.test(h) && h.startsWith(w.t.crate) ? h : undefined;
    };
    const commit = w.t.lockSha ?? old?.sha256 ?? (await head());
    w.from = w.t.lockSha ? 'lock' : old ? old.from : 'checkout';
    if (!commit)
        return void r.unchecked.push({ crate: w.t.key, why: 'no lock file or record names its commit, and its HEAD is not the one its directory is named after' });
    if (!(await home_sources_isDir(w.src)))
        return;
    r.verified++;
    w.only = w.plan.action === 'verify' ? w.plan.only : undefined;
    try {
        w.gitTree = await commitTree(w.crateFile, commit);
        w.tree = await checkoutTree(w.crateFile, w.gitTree, w.only ?? undefined);
    }
    catch (e) {
        if (!(e instanceof GitObjectError))
            throw e;
        r.unchecked.push({ crate: w.t.key, why: `its database ${w.crateFile}: ${e.message}` });
        w.tree = undefined;
        return;
    }
    w.sha = commit;
    w.ignore = ['.git', ...[...w.gitTree].filter(([, e]) => e.kind === 'submodule').map(([p]) => p)];
    if (w.sealed && w.only === undefined)
        await sealTree(w.src, w.ignore);
    if (!w.sealed && old?.sealed) {
        await unsealTree(w.src, w.ignore);
        r.unsealed++;
    }
}
/** The bytes a checkout's repair needs that the comparison did not read. */
async function loadForRepair(w) {
    const need = w.diffs.filter((d) => d.why !== 'extra' && d.why !== 'mode').map((d) => d.path);
    const missing = [...w.tree].filter(([p, e]) => (e.kind === 'file' ? !e.data : e.kind === 'symlink' && e.target === undefined) && need.some((n) => p === n || p.startsWith(`${n}/`)));
    if (missing.length === 0)
        return;
    const more = await checkoutTree(w.crateFile, w.gitTree, missing.map(([p]) => p));
    for (const [p] of missing)
        w.tree.set(p, more.get(p));
}

;// CONCATENATED MODULE: ./src/job/home-top.ts












/*
 * The top of a CARGO_HOME: what cargo shares there, and what a job writes there for itself.
 *
 * Shared (SHARED_TOP): cargo's caches (`registry/`, `git/`), its locks (`.package-cache`,
 * `.package-cache-mutate`) and its tracking database (`.global-cache`, with SQLite's journal),
 * and this action's key wrapper. Everything else is the job's own: `config.toml` and
 * `credentials.toml` (`cargo login`), their legacy names `config` and `credentials`, a `bin/` of
 * `cargo install --root $CARGO_HOME`, anything a step writes there.
 *
 * One path serves every job of the uid at once (16 runners overlap all the time), so a file at
 * the top cannot be told to be one job's: `cargo login` in two jobs writes one credentials.toml.
 * The rule, from what can be known (the entry's change time, which jobs ran then):
 *
 *   an entry is removed by the first job start or end that finds that no other job still
 *   running was running when it was last changed.
 *
 * So a job's own entries go at its end when nobody overlapped its writes, and otherwise with
 * the last job that did; a job that ends never removes what a job still running may have just
 * written (its fresh credentials); and an entry of a job that died without its end goes at the
 * next start. While a job runs, the jobs of its uid that run beside it can read what it wrote
 * there, as on a runner without this action, where every runner of one user shares ~/.cargo (and
 * each can read the others' environment in /proc/<pid>/environ).
 *
 * The runner's own `~/.cargo` config and credentials are copied to the top (never linked: a
 * `cargo login` would write through the link into the runner's own home), and a copy identical
 * to its original counts as the runner's, not a job's.
 */
/** Names at the top of a CARGO_HOME that every job of the uid shares. */
const SHARED_TOP = ['registry', 'git', '.package-cache', '.package-cache-mutate', '.global-cache', OUR_WRAPPER];
const sharedName = (n) => SHARED_TOP.includes(n) || /^\.global-cache-(journal|wal|shm)$/.test(n) || n.startsWith(`.${OUR_WRAPPER}.`) || /^\.cargo-isolate-top\..*\.tmp$/.test(n);
/** Files of the runner's own CARGO_HOME that jobs get a copy of. */
const RUNNER_FILES = ['config.toml', 'config', 'credentials.toml', 'credentials'];
/** Change times are stamped from a clock up to a tick behind; a lease's start is written a little after it began. */
const MARGIN_MS = 1000;
/** Pure: is `e` possibly the job `j`'s own (it ran when `e` last changed)? */
const mayOwn = (j, e) => j.startedMs <= e.changedMs + MARGIN_MS;
/** Pure: what becomes of an entry at a start or an end of job `me`, while `live` jobs of the uid run. */
function topFate(e, me, live) {
    if (e.runnerCopy)
        return 'keep';
    return live.some((j) => j.slot !== me && mayOwn(j, e)) ? 'keep' : 'remove';
}
/** The latest ctime of a path and, for a directory, of its entries (not following links; a bounded walk). */
async function latestChange(path, budget = { n: 20_000 }) {
    const st = await absent_lstatIfPresent(path);
    if (!st)
        return 0;
    let t = st.ctimeMs;
    if (st.isDirectory() && budget.n-- > 0)
        for (const n of await absent_listDir(path))
            t = Math.max(t, await latestChange((0,external_node_path_.join)(path, n), budget));
    return t;
}
/** The runner's own files as they are now: name to content (regular files only). */
async function runnerFiles(orig) {
    const out = new Map();
    if (!orig)
        return out;
    for (const f of RUNNER_FILES) {
        const st = await absent_ifPresent((0,external_node_path_.join)(orig, f), () => external_node_fs_.promises.stat((0,external_node_path_.join)(orig, f)), { notADirectory: 'absent' });
        if (st?.isFile()) {
            const b = await absent_readBytesIfPresent((0,external_node_path_.join)(orig, f));
            if (b)
                out.set(f, b);
        }
    }
    return out;
}
/** The job's own entries at the top of `home`, as topFate sees them. */
async function topEntries(home, runner) {
    const out = [];
    for (const name of await absent_listDir(home)) {
        if (sharedName(name))
            continue;
        const p = (0,external_node_path_.join)(home, name);
        const st = await absent_lstatIfPresent(p);
        if (!st)
            continue;
        const orig = runner.get(name);
        const runnerCopy = !!orig && st.isFile() && st.size === orig.length && (await external_node_fs_.promises.readFile(p).catch(() => Buffer.alloc(0))).equals(orig);
        out.push({ name, changedMs: await latestChange(p), runnerCopy });
    }
    return out;
}
/**
 * Jobs of this uid whose lease is held now, other than `me`, that began before `before`: read
 * from the slots' records (when each began) and confirmed by a probe of each one's lease lock
 * (a record alone says nothing of liveness). Only records that could matter are probed.
 */
async function liveJobs(root, me, before) {
    const uid = proc_myUid();
    const out = [];
    for (const name of (await absent_listDir(layout_rootPaths(root).slots)).filter((n) => layout_SLOT_NAME.test(n))) {
        if (name === me)
            continue;
        const d = layout_slotDirs(root, name);
        const rec = await record_file_readRecord(d.record);
        if (!rec?.leasedAt || (rec.uid !== undefined && rec.uid !== uid))
            continue;
        const started = Date.parse(rec.leasedAt);
        const released = rec.releasedAt ? Date.parse(rec.releasedAt) : 0;
        if (!(started <= before + MARGIN_MS) || released >= started)
            continue; // began later, or its end ran
        if (!allFree([d.lock]))
            out.push({ slot: name, startedMs: started });
    }
    return out;
}
/**
 * Settles the top of `home` at a start or an end of job `me` (its slot's name): removes what no
 * running job may own (topFate), replaces a link to one of the runner's files with a copy, and,
 * at a start, copies the runner's files that are not there. `shared`: other jobs use the home
 * (else everything a job wrote is the job's: removed at its end, and at the next start).
 */
async function home_top_settleTop(o) {
    const runnerHome = o.runnerHome ?? (o.env ? originalCargoHome(o.env, o.root) : undefined);
    const r = { removed: [], kept: [], copied: [], runnerHome };
    if (!(await external_node_fs_.promises.lstat(o.home).then((s) => s.isDirectory(), () => false)))
        return r;
    const runner = await runnerFiles(runnerHome);
    // A link among the runner's names (an earlier version linked them): a `cargo login` would
    // write through it, outside the root. A copy of the same bytes serves whoever reads it.
    for (const f of RUNNER_FILES) {
        const p = (0,external_node_path_.join)(o.home, f);
        if (!(await absent_lstatIfPresent(p))?.isSymbolicLink())
            continue;
        const b = runner.get(f);
        // Whatever is there (a link) is replaced by a file of the same bytes, in one rename.
        if (b)
            await writeAtomic(p, b, 0o600);
        else
            await external_node_fs_.promises.unlink(p).catch(() => undefined);
    }
    const entries = await topEntries(o.home, runner);
    const latest = Math.max(0, ...entries.map((e) => e.changedMs));
    const live = o.shared && entries.some((e) => !e.runnerCopy) ? await liveJobs(o.root, o.me, latest) : [];
    for (const e of entries) {
        const fate = o.shared ? topFate(e, o.me, live) : o.at === 'end' || !e.runnerCopy ? 'remove' : 'keep';
        if (fate === 'keep') {
            if (!e.runnerCopy)
                r.kept.push(e.name);
            continue;
        }
        const res = await remove_removeTree(o.root, (0,external_node_path_.join)(o.home, e.name), {
            why: `CARGO_HOME ${o.at === 'end' ? 'at the end of' : 'at the start of'} a job: another job's own entry`,
        });
        if (res.outcome === 'removed' || res.outcome === 'left-in-trash')
            r.removed.push(e.name);
    }
    if (o.at === 'start') {
        for (const [f, b] of runner)
            if (await createIfAbsent((0,external_node_path_.join)(o.home, f), b))
                r.copied.push(f);
    }
    return r;
}
/** Writes `data` at `path` only if nothing is there: a temp file linked to the name (link(2) never replaces). */
async function createIfAbsent(path, data) {
    const tmp = (0,external_node_path_.join)((0,external_node_path_.dirname)(path), `.cargo-isolate-top.${(0,external_node_crypto_.randomBytes)(4).toString('hex')}.tmp`);
    await external_node_fs_.promises.writeFile(tmp, data, { mode: 0o600 });
    try {
        await external_node_fs_.promises.link(tmp, path);
        return true;
    }
    catch (e) {
        if (e.code !== 'EEXIST')
            throw e;
        return false;
    }
    finally {
        await external_node_fs_.promises.unlink(tmp).catch(() => undefined);
    }
}

;// CONCATENATED MODULE: ./src/job/shared-home.ts















/*
 * A job's CARGO_HOME at its start and at its end, one call each (mainJob, endJob):
 *
 * - the registry sources of the uid's shared home, checked and sealed (store/home-sources.ts):
 *   at a start against the job's Cargo.lock where it is known (the action's main step, `run`,
 *   a `uses:` step joining a runner hook), else against what each crate was verified as (a runner
 *   hook, before checkout; a repository without a lock); at the end against the lock as the build
 *   left it (post, the job-completed hook, the end of `run`), so what the job's cargo downloaded
 *   is sealed before the next job reads it;
 * - the top of the home (home-top.ts): what the job wrote there for itself goes, the runner's
 *   config is there as a copy.
 *
 * A start whose check cannot be completed (cargo's lock held for minutes by another job, a
 * locked crate that cannot be verified) does not build from the shared home: the job gets a
 * private one in its slot, seeded from the crate store, and says why.
 */
/** How long a check waits for cargo's download lock of the home, as seeding does. */
const LOCK_WAIT_SECONDS = 120;
/** A record beside this uid's shared home (the directory made this uid's, or the root owner's for root). */
async function recordFile(root, name = 'sources.json') {
    const uid = proc_myUid();
    const { dir, theirs } = await owner_ownDirIn(layout_rootPaths(root).homes, verifiedName(uid), uid, 0o755, await rootOwnerFor(root, uid));
    if (theirs)
        throw new Error(`the record of verified sources cannot be kept: ${theirs}`);
    return (0,external_node_path_.join)(dir, name);
}
/**
 * What publishing from the shared home may skip (crates.ts PublishAids): the `.crate` files its
 * checks verified and nothing changed since, the store's blobs this uid found whole. A private
 * home (a fork PR's, `layout: job`) has neither: everything is hashed, as it always was.
 */
async function publishAids(j, cargoHome) {
    if (!j.home?.shared || cargoHome !== sharedHome(j.root, proc_myUid()))
        return {};
    const sources = await recordFile(j.root);
    return { verified: verifiedCrates(await readSources(sources)), stamps: await blobStamps((0,external_node_path_.join)((0,external_node_path_.dirname)(sources), 'blobs.json')) };
}
/**
 * The lock file's registry crates and how to find the index dirs cargo names their sources with;
 * `read`: the lock as the step read it already (the end's, once for all its parts).
 */
async function lockOf(root, crates, env, read) {
    const given = read ? await read().catch(() => undefined) : undefined;
    const file = given?.file ?? crates?.lockFile ?? (crates ? await lockfile_findLockFile(crates.search.manifestPath, crates.search.workingDirectory, env) : undefined);
    if (!file)
        return undefined;
    const text = given?.text ?? (await external_node_fs_.promises.readFile(file, 'utf8').catch(() => undefined));
    if (text === undefined)
        return undefined;
    const version = given?.version ?? crates?.cargoVersion ?? (await crates_cargoVersion((0,external_node_path_.dirname)(file), env));
    return {
        file,
        locked: lockfile_parseLock(text),
        dirsOf: async (source) => (version ? dir_names_knownDirs(layout_storePaths(root).dirs, version, source) : []),
        gitLocked: gitstore_parseGitLock(text),
        gitDirsOf: async (url) => (version ? dir_names_knownDirs(layout_gitStorePaths(root).dirs, version, url) : []),
    };
}
/** One line for the log: what was checked and what was found. */
function describeSources(s) {
    const parts = [`${s.checked} crates checked in ${s.ms} ms`];
    if (s.verified)
        parts.push(`${s.verified} verified against their .crate`);
    if (s.extracted)
        parts.push(`${s.extracted} extracted from their verified .crate`);
    if (s.repaired.length)
        parts.push(`${s.repaired.length} repaired`);
    if (s.replaced.length)
        parts.push(`${s.replaced.length} .crate files not what their checksum says`);
    if (s.unsealed)
        parts.push(`${s.unsealed} unsealed (unused for weeks, or writable-sources)`);
    if (s.unchecked.length)
        parts.push(`${s.unchecked.length} not checked`);
    return parts.join('; ');
}
/** Warnings for what another job changed: a person should know that something wrote there. */
function warn(s, home, log) {
    for (const x of s.repaired)
        log.warning(sourcesRepaired(home, x.crate, `${x.paths.slice(0, 5).join(', ')}${x.paths.length > 5 ? ', ...' : ''}`));
    for (const x of s.replaced)
        log.warning(`CARGO_HOME ${home}: ${x.crate}.crate was not what its checksum says: ${x.how}.`);
}
/**
 * The start: the shared home's sources checked, the top settled. Changes `job` when it falls
 * back to a private home (its exports and its home choice); `joined`: a `uses:` step in a job a
 * runner hook started, whose CARGO_HOME the hook exported already (it only says what it found).
 */
async function secureHome(job, s, env, log, o = {}) {
    const r = {};
    if (job.home?.shared) {
        const home = job.exports.CARGO_HOME;
        try {
            const lock = await lockOf(job.root, job.crates, { ...env, ...job.exports });
            r.sources = await checkSources({
                root: job.root,
                home,
                recordFile: await recordFile(job.root),
                locked: lock?.locked,
                dirsOf: lock?.dirsOf,
                gitLocked: lock?.gitLocked,
                gitDirsOf: lock?.gitDirsOf,
                writable: s.writableSources,
                lockWaitSeconds: LOCK_WAIT_SECONDS,
            });
            const against = lock ? ` (against ${lock.file})` : ' (no Cargo.lock yet: against what each crate was verified as)';
            log.info(`CARGO_HOME ${home}: ${describeSources(r.sources)}${against}.`);
            warn(r.sources, home, log);
            for (const u of r.sources.unchecked)
                log.info(`CARGO_HOME: ${u.crate} not checked: ${u.why}.`);
            const locked = new Set(lock?.locked.map((c) => `${c.name}-${c.version}`));
            const blind = r.sources.unchecked.filter((u) => locked.has(u.crate.slice(u.crate.indexOf('/') + 1)));
            if (r.sources.skipped)
                r.fallback = `its sources could not be checked: ${r.sources.skipped}`;
            else if (blind.length)
                r.fallback = `${blind.map((u) => u.crate).join(', ')} could not be verified`;
        }
        catch (e) {
            r.fallback = `checking its sources failed: ${e.message}`;
        }
        if (r.fallback && o.joined)
            log.warning(`CARGO_HOME ${home}: ${r.fallback}; the next job start checks it again.`);
        else if (r.fallback)
            await privateHomeInstead(job, s, env, log, `the shared CARGO_HOME ${home}: ${r.fallback}`);
    }
    if (o.joined)
        return r; // the top is the hook's to settle, at the job's start and end
    r.top = await settleTop({ root: job.root, home: job.exports.CARGO_HOME, me: job.slot, shared: job.home?.shared === true, at: 'start', env });
    if (r.top.removed.length)
        log.info(`CARGO_HOME: removed what ended jobs left at its top: ${r.top.removed.join(', ')}.`);
    if (r.top.kept.length)
        log.info(`CARGO_HOME: left at its top for jobs still running that may have written them: ${r.top.kept.join(', ')}.`);
    return r;
}
/** The job builds with a private CARGO_HOME in its slot after all, seeded like any new one. */
async function privateHomeInstead(job, s, env, log, why) {
    job.home = chooseHome(job.root, job.dirs, { uid: myUid(), layout: job.layout, fork: job.identity.fork === true, problem: why });
    job.exports.CARGO_HOME = job.dirs.cargoHome;
    await fs.mkdir(job.dirs.cargoHome, { recursive: true });
    log.warning(privateHomeAfterAll(job.home.reason, job.dirs.cargoHome));
    if (job.crates) {
        // The lock file and cargo's version as the start found them: no second pair of processes.
        const known = job.crates.lockFile ? Promise.resolve({ lockFile: job.crates.lockFile, version: job.crates.cargoVersion }) : undefined;
        job.crates = await prepareCrates(s, job.root, job.dirs.cargoHome, job.identity, { ...env, CARGO_HOME: job.dirs.cargoHome }, log, known);
    }
}
/**
 * The end: what the job's cargo extracted, checked against the lock as the build left it and
 * sealed; the top settled. Best effort, like every step of an end: the caller makes a failure a
 * warning, and the next start checks again.
 */
async function settleHome(j, env, read) {
    const r = {};
    const home = j.exports?.CARGO_HOME ?? j.dirs.cargoHome;
    if (j.home?.shared) {
        const lock = await lockOf(j.root, j.crates, { ...env, CARGO_HOME: home }, read);
        if (lock)
            r.sources = await home_sources_checkSources({
                root: j.root,
                home,
                recordFile: await recordFile(j.root),
                locked: lock.locked,
                dirsOf: lock.dirsOf,
                gitLocked: lock.gitLocked,
                gitDirsOf: lock.gitDirsOf,
                writable: [],
                lockWaitSeconds: 30,
                extract: false,
            });
    }
    if (j.slot)
        r.top = await home_top_settleTop({ root: j.root, home, me: j.slot, shared: j.home?.shared === true, at: 'end', runnerHome: j.homeCheck?.top?.runnerHome });
    return r;
}

;// CONCATENATED MODULE: ./src/job/end.ts

























/** Runs one step; a failure becomes a warning that says what was being done and where. */
async function attempt(r, what, fn) {
    try {
        await fn();
    }
    catch (e) {
        r.warnings.push(`${what}: ${e.message}`);
    }
}
/** Keeps a removal's outcome, and says what was left and why. */
function noteRemoval(r, x) {
    r.removed.push(x);
    if (x.outcome === 'left-in-trash')
        r.warnings.push(`Could not fully delete ${x.path}: ${x.detail}. The remains are in ${x.trashPath} for a later guard or 'cargo-isolate gc' run as that user or root.`);
    if (x.outcome === 'live')
        r.warnings.push(`Did not delete ${x.path}: cargo still holds its locks (a build still running, e.g. in a container). The next guard removes it once idle.`);
}
/** Publishes to both stores from one lock file and one cargo version, found once. */
async function publishStores(j, c, cargoHome, r, theLock, log) {
    const env = { ...process.env, ...exportsFor(j.dirs, cargoHome) };
    await attempt(r, `Publishing crates from ${cargoHome} to the store`, async () => {
        if (!c.publish) {
            r.published = { published: 0, publishedBytes: 0, skipped: 0, mismatches: [], indexEntries: 0, policy: c.policy, allowed: false };
            return;
        }
        const l = await theLock();
        if (!l?.version)
            return;
        const aids = await publishAids(j, cargoHome);
        r.published = { ...(await publishCrates(j.root, cargoHome, lockfile_parseLock(l.text), l.version, aids)), policy: c.policy, allowed: true };
        if (c.cache && r.published.published > 0 && log)
            await saveStore(j.root, l.text, log);
    });
    await attempt(r, `Publishing git dependencies from ${(0,external_node_path_.join)(cargoHome, 'git', 'db')} to the git store`, async () => {
        const l = await theLock();
        const locked = l ? gitstore_parseGitLock(l.text) : [];
        if (locked.length === 0)
            return;
        if (!c.publish) {
            r.gitPublished = { published: [], publishedBytes: 0, skipped: 0, notPublished: [], policy: c.policy, allowed: false };
            return;
        }
        if (!l.version)
            return;
        r.gitPublished = { ...(await publishGit(j.root, cargoHome, locked, l.version, gitstore_systemGit(env), c.gitSeed?.refused)), allowed: true, policy: c.policy };
    });
}
/** The job layout: another uid's files handed back first (else they stay in trash for root), then the whole directory. */
async function removeJobDir(j, r) {
    await attempt(r, `Checking ${j.dirs.base} for files of another uid`, async () => {
        r.foreign = await settleForeign(j.root, j.dirs, 'job', j.dirs.base, j.cleanupTimeoutMs);
        if (r.foreign)
            r.warnings.push(r.foreign.message);
    });
    // Our own keeper holds the lease; cargo's locks decide whether a build still runs there.
    await attempt(r, `Removing the job directory ${j.dirs.base}`, async () => {
        noteRemoval(r, await remove_removeTree(j.root, j.dirs.base, {
            why: 'job cleanup: the directories of this run',
            locks: await liveness_cargoLockFiles(j.dirs.target, j.dirs.cargoHome),
            timeoutMs: j.cleanupTimeoutMs,
        }));
        // The key and repository directories go too once empty. rmdir refuses a non-empty
        // directory atomically, and a job creating its directory meanwhile re-creates parents.
        const key = (0,external_node_path_.dirname)(j.dirs.base);
        await external_node_fs_.promises
            .rmdir(key)
            .then(() => external_node_fs_.promises.rmdir((0,external_node_path_.dirname)(key)))
            .catch(() => undefined);
    });
}
/** The slot layout: empty tmp/, record what the slot now holds, then settle another uid's files. */
async function leaveSlot(j, cargoHome, r, targetSize) {
    // A restore killed with the main step (a cancel) left its temp directory in the target: what
    // was measured of the target before is stale then (true: it was).
    let cleared = false;
    await attempt(r, `Removing what a killed restore left in ${j.dirs.target}`, async () => {
        cleared = (await clearRestoreLeftovers(j.root, j.dirs.target, j.cleanupTimeoutMs)) > 0;
    });
    if (cleared)
        targetSize = undefined;
    await attempt(r, `Emptying TMPDIR ${j.dirs.tmp}`, async () => {
        if ((await absent_listDir(j.dirs.tmp)).length === 0)
            return; // nothing to empty
        noteRemoval(r, await remove_removeTree(j.root, j.dirs.tmp, { why: 'job cleanup: the temp dir of this job', timeoutMs: j.cleanupTimeoutMs }));
        await external_node_fs_.promises.mkdir(j.dirs.tmp, { mode: 0o700 }).catch(() => undefined);
    });
    await attempt(r, `Recording sizes in ${j.dirs.record}`, () => recordSlot(j, cargoHome, r, targetSize));
    // After the record (which names this uid): a mark must be the last word.
    await attempt(r, `Checking ${j.dirs.base} for files of another uid`, async () => {
        r.foreign = await settleForeign(j.root, j.dirs, 'slot', j.slot ?? j.dirs.base, j.cleanupTimeoutMs);
        if (r.foreign)
            r.warnings.push(r.foreign.message);
    });
    if (cargoHome !== j.dirs.cargoHome) {
        await attempt(r, `Checking the shared CARGO_HOME ${cargoHome} for files of another uid`, async () => {
            const home = await settleForeignHome(j.root, cargoHome, j.cleanupTimeoutMs);
            if (home)
                r.warnings.push(home.message);
        });
    }
    return cleared;
}
/** The slot's record: its sizes, and who used it and under which view, from this job's own state. */
async function recordSlot(j, cargoHome, r, targetSize) {
    const now = new Date().toISOString();
    // The slot's own bytes: a shared CARGO_HOME is the uid's, not the slot's (counted 0 here).
    const [target, home] = await Promise.all([
        targetSize ?? sizes_diskUsage(j.dirs.target),
        cargoHome === j.dirs.cargoHome ? sizes_diskUsage(j.dirs.cargoHome) : Promise.resolve(0),
    ]);
    r.sizes = { target, cargoHome: home, tmp: 0, measuredAt: now };
    // Who used the slot comes from this job's own state, never from the file: the build ran
    // as this uid and could have rewritten slot.json to claim another trust domain's key.
    if (!j.identity || !j.slot || !j.startedAt)
        return;
    r.view = viewAfter({ root: j.root, slot: j.slot, startedAt: j.startedAt, view: j.view, home: j.home });
    const copiedFrom = j.copy?.outcome === 'copied' ? { slot: j.copy.from, key: j.copy.key, at: j.startedAt } : undefined;
    await writeRecord(j.dirs.record, {
        ...recordFor({ name: j.slot, layout: 'slot' }, j.identity, j.startedAt, undefined, r.view),
        releasedAt: now,
        lastUsed: now,
        sizes: r.sizes,
        units: r.units,
        copiedFrom,
    });
}
/** One line in the warmth log for a job that ran cargo (what the value rule and status read). */
async function appendUnits(j, r) {
    const me = j.identity;
    const u = r.units;
    if (!me || !u || u.built + u.fresh === 0)
        return;
    await attempt(r, `Appending this job's units to ${warmthLog(j.root)}`, () => appendWarmth(j.root, {
        t: new Date().toISOString(),
        repository: me.repository,
        job: me.job,
        jobKey: me.jobKey || undefined,
        key: me.key,
        runner: me.runnerName,
        slot: j.layout === 'slot' ? (j.slot ?? '?') : 'job',
        built: u.built,
        fresh: u.fresh,
        // What the value rule reads (value.ts): the job's run, how long its lease took, its base.
        workflow: me.workflow,
        run: me.runId,
        ms: j.startedAt ? Math.max(0, Date.now() - Date.parse(j.startedAt)) : undefined,
        base: me.baseKey,
        target: r.sizes?.target,
        from: r.from,
    }));
}
/** Which tier the start came from, and for a start from none, why each missed (tiers.ts). */
function whereFrom(j, r) {
    if (!j.reset)
        return;
    const facts = {
        layout: j.layout,
        kept: j.reset.warm ?? false,
        keptWhy: j.reset.reason,
        copy: j.copy && { outcome: j.copy.outcome, text: describeCopy(j.copy) },
        restore: j.restore,
        compileCache: j.sccache !== undefined,
    };
    r.from = startTier(facts);
    r.misses = tierMisses(facts);
}
/**
 * The host tier's save (tiers.ts), before the lease is released: the build dir is this job's until
 * then. The job's steps saw `cargoHome`; the runner's completed hook, on the host, saves only a
 * build made on the host (its view says where the build saw the root).
 */
async function end_saveArchive(j, cargoHome, r, theLock, log, units) {
    const me = j.identity;
    if (!me || !j.startedAt || !j.hostArchives)
        return;
    await attempt(r, `Saving a dependency archive of ${j.dirs.target}`, async () => {
        const env = { ...process.env, ...exportsFor(j.dirs, cargoHome) };
        r.archive = await saveTier({
            root: j.root,
            me,
            cap: j.hostArchives,
            layout: j.layout,
            buildDir: j.dirs.target,
            startedAt: j.startedAt,
            builtElsewhere: r.view !== undefined && r.view.root !== j.root,
            context: {
                identity: me,
                env,
                cargoHome,
                view: viewPart(me.container),
                search: j.crates?.search ?? { workingDirectory: process.env.GITHUB_WORKSPACE || process.cwd() },
                ...(await theLock().then((l) => (l ? { lockFile: l.file, lockText: l.text } : { lockFile: j.crates?.lockFile }), () => ({ lockFile: j.crates?.lockFile }))),
            },
            timeoutMs: Math.max(j.cleanupTimeoutMs, 300_000),
            log,
            // Recorded at the start only where this job can use it: the post step of an action, the hook or the CLI with a directory.
            fleet: openFleet(j.archiveStore, process.env, 'action', log),
            units,
        });
        log?.info(`${describeSave(r.archive)}.`);
        if (r.archive.outcome === 'failed')
            r.warnings.push(`${describeSave(r.archive)}. The next job that compiles these dependencies tries again.`);
    });
}
/**
 * The release phase of a job's end (finishJob below). Best effort throughout: each failure becomes
 * a warning that says what was being done and where, and the lease is released whatever happened
 * before.
 */
async function endJob(j, log) {
    const t0 = performance.now();
    const r = { removed: [], warnings: [] };
    // Where the time goes, step by step: a slow end must be explainable (the bench reads it too).
    const steps = {};
    const step = async (name, fn) => {
        const t = performance.now();
        await fn();
        steps[name] = Math.round(performance.now() - t);
    };
    // The CARGO_HOME the job's steps saw: main's exports (a lease saved before them: the slot's own).
    const cargoHome = j.exports?.CARGO_HOME ?? j.dirs.cargoHome;
    // The lock file, found and read once for every part of the end that needs it.
    let lock;
    const theLock = () => (lock ??= j.crates ? postLock(j.crates, { ...process.env, ...exportsFor(j.dirs, cargoHome) }) : Promise.resolve(undefined));
    // The job's build is over: the target's `du` (a process of its own) runs while this one counts
    // units and publishes crates, instead of after them.
    const targetSize = j.layout === 'slot' ? sizes_diskUsage(j.dirs.target) : undefined;
    let units;
    try {
        await step('root', () => prepareRoot(j.root, {}, false).then(() => undefined));
        const startedAt = j.startedAt;
        if (startedAt) {
            await step('units', () => attempt(r, `Counting compile units (cargo's fingerprint directories) under ${j.dirs.target}`, async () => {
                // Read once: the archive's save counts the same units again (saveTier).
                units = readUnits(j.dirs.target);
                r.units = countUnits(units, cutOff(startedAt));
            }));
        }
        if (j.crates)
            await step('stores', () => publishStores(j, j.crates, cargoHome, r, theLock, log));
        whereFrom(j, r);
        // A slot's record first (its view tells the save where the build ran); a job directory after its save.
        if (j.layout === 'job') {
            await step('archive', () => end_saveArchive(j, cargoHome, r, theLock, log, units));
            await step('job', () => removeJobDir(j, r));
        }
        else {
            await step('slot', async () => {
                // What a killed restore left is gone from the target now: its units are read again.
                if (await leaveSlot(j, cargoHome, r, targetSize))
                    units = undefined;
            });
            await step('archive', () => end_saveArchive(j, cargoHome, r, theLock, log, units));
        }
        await appendUnits(j, r);
        await step('home', () => attempt(r, `Checking the sources and the top of ${cargoHome}`, async () => {
            r.homeCheck = await settleHome(j, process.env, theLock);
        }));
        await step('hand-back', () => attempt(r, `Handing what this job made under ${j.root} back to the root's owner`, async () => {
            r.handedBack = await handBackJob(j, r.published, r.gitPublished?.published.length, r.archive?.outcome === 'saved');
        }));
    }
    catch (e) {
        r.warnings.push(`Checking the root ${j.root}: ${e.message}`);
    }
    let released = false;
    await step('lease', () => attempt(r, `Releasing the lease ${j.dirs.lock} (keeper pid ${j.keeperPid})`, async () => {
        released = await releaseLease(j.keeperPid, j.dirs.lock, j.dirs.base);
    }));
    const diskAtRelease = await disk_measure(j.root).catch(() => undefined);
    return { ...r, released, releaseMs: Math.round(performance.now() - t0), releaseSteps: steps, diskAtRelease };
}
/**
 * Pure: what became of the files of the job's own container, when its build saw the root elsewhere
 * than this process does (view.root): only the runner's job-completed hook, on the host, ends such
 * a job. Handing another uid's files back is routine then, not a `docker run` step to fix; when it
 * fails, the warning says what that costs the next container job and what the operator can change.
 */
function containerFiles(job, ended, uid) {
    const f = ended.foreign;
    const seen = ended.view;
    if (!f || !seen || seen.root === job.root)
        return undefined;
    const slot = job.slot ?? job.dirs.base;
    if (f.handedBack)
        return {
            uid: seen.uid,
            handedBack: `the job's container built as uid ${seen.uid} in slot ${slot}; its files went back to uid ${uid} with ${f.handedBack}.`,
        };
    return { uid: seen.uid, kept: containerFilesKept({ slot, seen, hookUid: uid, failed: f.failed }) };
}
/**
 * A job's end, the mirror of mainJob (start.ts), for the action's post step, the runner's
 * job-completed hook and `cargo-isolate run` alike: the sccache server the job's own client may
 * have started, the release phase (endJob), then every warning; a read that fails other than by
 * absence is said as it happens. Never throws: each front end only reports what it got back (a
 * summary, a line, an exit code).
 */
function finishJob(o) {
    return reportReadsTo(o.log, () => endPhases(o));
}
async function endPhases(o) {
    const { job, env, log } = o;
    // Before tmp/ is emptied: a server this job's client started must not lose its temp dir mid-write.
    const sccacheNote = await sccacheAtEnd(job.sccache, env, { root: job.root }, log).catch((e) => `sccache: checking the server on the job's port: ${e.message}`);
    const ended = await log.group('Release', () => endJob(job, log));
    if (sccacheNote)
        ended.warnings.push(sccacheNote);
    ended.container = containerFiles(job, ended, proc_myUid());
    if (ended.container) {
        // Said in its own words instead of the `docker run` step's warning (reclaim.ts).
        const kept = ended.container.kept;
        ended.warnings = ended.warnings.flatMap((w) => (w !== ended.foreign?.message ? [w] : kept ? [kept] : []));
        if (ended.container.handedBack)
            log.info(`cargo-isolate: ${ended.container.handedBack}`);
    }
    for (const w of ended.warnings)
        log.warning(w);
    return ended;
}

;// CONCATENATED MODULE: ./src/os/log.ts

const actionLog = {
    info: (m) => info(m),
    warning: (m) => warning(m),
    debug: (m) => debug(m),
    group: (name, fn) => group(name, fn),
};
/**
 * The CLI's log: warnings and debug lines on stderr; the rest on stderr too, or on stdout where
 * it is the command's report (`gc`: each removal, then its total), or nowhere (`quiet`: --json).
 */
function consoleLog(verbose = false, quiet = false, report = process.stderr) {
    return {
        info: (m) => void (quiet || report.write(`${m}\n`)),
        warning: (m) => void process.stderr.write(`warning: ${m}\n`),
        debug: (m) => void (verbose && process.stderr.write(`debug: ${m}\n`)),
        group: async (name, fn) => {
            if (!quiet)
                report.write(`== ${name}\n`);
            return fn();
        },
    };
}

;// CONCATENATED MODULE: ./src/model/platform.ts

/*
 * Where the action can work at all. Leases are util-linux `flock` keepers whose liveness is
 * read from `/proc`, the guard reads `/proc/locks`, deletion is GNU `rm --one-file-system`:
 * none of these exist on macOS or Windows. A workflow with an OS matrix (ubuntu, macos,
 * windows) runs the same steps on every leg, so elsewhere than Linux the steps say so once
 * and let the job go on with cargo's defaults rather than fail it.
 *
 * The decision reads the node process's own platform, not RUNNER_OS: what the steps need is
 * this kernel's flock and /proc, whatever the runner reports.
 */
const NAMES = {
    darwin: 'macOS',
    win32: 'Windows',
    freebsd: 'FreeBSD',
    openbsd: 'OpenBSD',
    sunos: 'SunOS',
    aix: 'AIX',
    android: 'Android',
};
/** The notice a step gives instead of running, or undefined where it runs. */
function notOnLinux(platform, step) {
    if (platform === 'linux')
        return undefined;
    const what = step === 'main' ? 'nothing isolated or exported; cargo uses its own defaults' : 'nothing to release';
    return notOnLinuxNotice(NAMES[platform] ?? platform, what);
}

;// CONCATENATED MODULE: ./src/job/state.ts

/*
 * The action's channel from the main step to the post step (the runner hooks' is hook-state.ts).
 * The runner hands GITHUB_STATE entries to the post step as STATE_<name>; a name written twice
 * keeps the last value, so `lease` is saved the moment the lease exists (a cancel during
 * preparation still lets post release it) and again, complete, at the end of main.
 */
const LEASE = 'lease';
const JOB = 'job';
const GUARD = 'guard';
/** Main joined the runner hook's lease (hook-state.ts): the job-completed hook releases it, not post. */
const HOOK = 'hook';
const saveLease = (l) => core.saveState(LEASE, JSON.stringify(l));
const saveJob = (j) => core.saveState(JOB, JSON.stringify(j));
const saveGuard = (g) => core.saveState(GUARD, JSON.stringify(g));
function load(name) {
    const raw = getState(name);
    if (!raw)
        return undefined;
    try {
        return JSON.parse(raw);
    }
    catch {
        return undefined;
    }
}
const loadLease = () => load(LEASE);
const loadJob = () => load(JOB);
const loadGuard = () => load(GUARD);
const saveHookJoined = () => core.saveState(HOOK, 'joined');
const loadHookJoined = () => getState(HOOK) === 'joined';

;// CONCATENATED MODULE: ./src/model/base.ts
/*
 * Where the first run of a trust domain starts from. Every PR, merge-queue entry, new branch
 * and tag is a trust domain of its own (key.ts), so its first run finds no slot of its own.
 * Its base is the branch whose pushes may seed it: a slot last used by a push there, for the
 * same job, is taken over without a wipe (choose.ts, tier `base`; prepare.ts, decideReset).
 *
 * Content flows one way only: from the base into the new domain, never back. The slot's
 * record names the new domain from then on, so the base branch's next push wipes it like any
 * other domain's slot, and a base never has a base of its own (the default branch has none).
 *
 * Pure: reads the environment and the parsed event payload only.
 */
const BASE_RULE_TEXT = {
    'pull-request': 'pull request',
    'pull-request-target': 'pull_request_target',
    'merge-queue': 'merge queue',
    'new-branch': 'new branch',
    branch: 'branch push',
    tag: 'tag',
    release: 'release',
    schedule: 'scheduled run',
    manual: 'manual run',
};
const branchOf = (ref) => ref.replace(/^refs\/heads\//, '');
const ZEROS = /^0{40}(0{24})?$/; // SHA-1 or SHA-256 object name of nothing
/**
 * Pure: the base of this run, or none (a push to the default branch; no payload to name the
 * default branch). `pr` is the PR number when the run is one; `ref` is the full ref the run
 * checks out (GITHUB_REF).
 */
function baseOf(env, event, pr) {
    const eventName = env.GITHUB_EVENT_NAME ?? '';
    const def = event.repository?.default_branch || undefined;
    const fallback = (rule) => (def ? { branch: def, rule, from: 'repository.default_branch' } : undefined);
    if (pr !== undefined) {
        // pull_request_target runs in the base branch's context (GITHUB_REF is the base), but
        // its key is the PR's and its trust the head repository's (identity.ts): as pull_request.
        const rule = eventName === 'pull_request_target' ? 'pull-request-target' : 'pull-request';
        if (env.GITHUB_BASE_REF)
            return { branch: env.GITHUB_BASE_REF, rule, from: 'GITHUB_BASE_REF' };
        if (event.pull_request?.base?.ref)
            return { branch: event.pull_request.base.ref, rule, from: 'pull_request.base.ref' };
        return fallback(rule);
    }
    if (eventName === 'merge_group') {
        const b = event.merge_group?.base_ref;
        return b ? { branch: branchOf(b), rule: 'merge-queue', from: 'merge_group.base_ref' } : fallback('merge-queue');
    }
    const ref = env.GITHUB_REF ?? '';
    if (eventName === 'release')
        return fallback('release');
    if (ref.startsWith('refs/tags/') || env.GITHUB_REF_TYPE === 'tag')
        return fallback('tag');
    const branch = env.GITHUB_REF_NAME || branchOf(ref);
    if (!branch || branch === def)
        return undefined; // the default branch is its own base
    if (eventName === 'schedule')
        return fallback('schedule');
    if (eventName === 'workflow_dispatch')
        return fallback('manual');
    const created = event.created === true || ZEROS.test(event.before ?? '');
    return fallback(eventName === 'push' && created ? 'new-branch' : 'branch');
}
/** What the log and the summary say about the base, given the slot rule the job got. */
function describeBase(base, tier) {
    const what = `${base.branch} (${BASE_RULE_TEXT[base.rule]}; ${base.from})`;
    if (tier === 'base')
        return `a first run from ${what}`;
    if (tier === 'own-job' || tier === 'own-key')
        return `${what}, not needed: a slot of its own`;
    return `${what}, not used: no free slot of this job last used by a push there`;
}

;// CONCATENATED MODULE: ./src/model/version.ts
// The version of this release, in one place.
/**
 * The release this code is, shown by `cargo-isolate --version`, `status`, the job summary, the
 * hooks' log and the metrics (`cargo_isolate_info`), so an operator sees which host runs which.
 * Equal to package.json's version (checked by __tests__/docs.test.ts, with CHANGELOG.md). Between
 * releases it is the next release's number with `-dev` (docs/releasing.md): a build of main never
 * passes for a release, and `--version` adds the commit it was built from.
 */
const version_VERSION = '1.0.0-dev';
/** Pure: a release (`1.2.3`), as opposed to a build between releases (`1.3.0-dev`). */
const isRelease = (version) => /^\d+\.\d+\.\d+$/.test(version);
/**
 * Pure: what `--version` says: a release's number alone; a build between releases with the commit
 * it came from, as semver build metadata (`1.0.0-dev+d04863a`), when the commit is known.
 */
function describeVersion(version, commit) {
    return isRelease(version) || !commit ? version : `${version}+${commit.slice(0, 7)}`;
}

;// CONCATENATED MODULE: ./src/job/summary.ts









/**
 * Pure: what cargo built and found fresh, e.g. `2 built (app, util), 48 fresh`. `kept` says the
 * slot's previous build was there (decideReset's `warm`): if cargo still rebuilt everything, the
 * words say so instead of calling the start both warm and cold.
 */
function unitsText(u, kept) {
    if (u.built + u.fresh === 0)
        return 'none in the target dir (no cargo build in this job?)';
    const named = u.built > 0 && u.builtCrates?.length ? ` (${u.builtCrates.join(', ')})` : '';
    const what = u.built === 0
        ? ': a warm start, nothing recompiled'
        : u.fresh === 0
            ? kept
                ? ": everything recompiled although the slot's last build was kept (another workspace path, toolchain, profile or features)"
                : ': a cold start'
            : '';
    return `${u.built} built${named}, ${u.fresh} fresh${what}`;
}
/** Pure: which tier a start came from and, for a start from none, why each tier missed. */
function startedFromText(from, misses = []) {
    const missed = misses.map((m) => `${m.tier}: ${m.why}`).join('; ');
    return `${from} (${START_TIER_TEXT[from]})${missed ? `; missed: ${missed}` : ''}`;
}
/** Pure: the rows of the job summary, so tests can read what a person will see. */
function summaryRows(job, ended, guard) {
    const main = [];
    if (job) {
        const id = job.identity;
        main.push(['Trust domain', `${id.repository} ${id.key}`]);
        main.push([
            job.layout === 'slot' ? 'Slot' : 'Job directory',
            `${job.slot} (${job.layout === 'slot' ? `${job.tier}: ${TIER_TEXT[job.tier]}` : 'new'}` +
                `${job.waitedMs > 1000 ? `, waited ${units_formatDuration(job.waitedMs)}` : ''})`,
        ]);
        if (id.base && job.layout === 'slot')
            main.push(['Base', describeBase(id.base, job.tier)]);
        main.push(['Start', job.reset.reset ? `fresh: ${job.reset.reason}` : job.reset.reason]);
        main.push(['Runner', `${id.runnerId} (from ${id.runnerFrom}${id.container ? ', in a container' : ''})`]);
        if (job.foreign?.length)
            main.push([
                'Passed over',
                `${job.foreign.join(', ')}: files of another uid never handed back (a root job whose post step did not run, or a \`docker run\` step as root)`,
            ]);
        main.push(['CARGO_TARGET_DIR', job.dirs.target]);
        main.push(['CARGO_HOME', `${job.exports?.CARGO_HOME ?? job.dirs.cargoHome}${job.home ? ` (${job.home.reason})` : ''}`]);
        if (job.copy)
            main.push(['Warm copy', describeCopy(job.copy)]);
        if (job.restore)
            main.push(['Archive restore', tiers_describeRestore(job.restore)]);
        main.push(['TMPDIR', job.dirs.tmp]);
        if (job.sccache)
            main.push(['sccache', describeServer(job.sccache)]);
        main.push(['Held for', units_formatDuration(Date.now() - Date.parse(job.startedAt))]);
    }
    const seed = job?.crates?.seed;
    if (seed) {
        main.push([
            'Crates seeded',
            `${seed.seeded} of ${seed.locked} locked (${units_formatBytes(seed.seededBytes)} not downloaded, ${seed.mode}); ` +
                `${seed.present} already there, ${seed.missing} not in the store`,
        ]);
        if (seed.copiedInstead)
            main.push(['Crates copied', `${seed.copiedInstead} copied instead of linked: ${seed.copyReason}`]);
        for (const m of seed.mismatches)
            main.push(['Crate not seeded', `${m.crate}: ${m.why}`]);
    }
    const gs = job?.crates?.gitSeed;
    if (gs) {
        main.push([
            'Git deps seeded',
            `${gs.seeded.length} of ${gs.locked} locked (${units_formatBytes(gs.seededBytes)} not fetched, ${gs.mode}); ${gs.present} already there`,
        ]);
        for (const n of gs.notSeeded)
            main.push(['Git dep not seeded', `${n.dep}: ${n.why}`]);
    }
    // What went into a store, or why nothing did.
    const published = (p, count) => p.allowed
        ? `${count} new (${units_formatBytes(p.publishedBytes)}), ${p.skipped} already stored`
        : `none: publish-crates is '${p.policy}' and this job is not trusted (fork PR)`;
    const gp = ended.gitPublished;
    if (gp) {
        main.push(['Git deps published', published(gp, gp.published.length)]);
        for (const n of gp.notPublished)
            main.push(['Git dep not published', `${n.dep}: ${n.why}`]);
    }
    const pub = ended.published;
    if (pub) {
        main.push(['Crates published', published(pub, pub.published)]);
        for (const m of pub.mismatches)
            main.push(['Crate not published', `${m.crate}: ${m.why}`]);
    }
    if (ended.from)
        main.push(['Started from', startedFromText(ended.from, ended.misses)]);
    for (const [when, h] of [
        ['at the start', job?.homeCheck],
        ['at the end', ended.homeCheck],
    ]) {
        if (h?.sources)
            main.push([`CARGO_HOME sources ${when}`, describeSources(h.sources)]);
        if (h?.top?.removed.length)
            main.push([
                `CARGO_HOME top ${when}`,
                `removed ${h.top.removed.join(', ')} ` +
                    `(${h === ended.homeCheck ? 'written while this job ran, by it or by jobs that ended' : 'left by jobs that ended'})`,
            ]);
    }
    if (ended.units)
        main.push(['Compile units', unitsText(ended.units, job?.reset.warm || job?.copy?.outcome === 'copied' || job?.restore?.outcome === 'restored')]);
    if (ended.archive)
        main.push(['Archive save', describeSave(ended.archive)]);
    if (ended.sizes)
        main.push([
            'Sizes after the job',
            `target ${units_formatBytes(ended.sizes.target)}${ended.sizes.cargoHome ? `, private cargo-home ${units_formatBytes(ended.sizes.cargoHome)}` : ''}`,
        ]);
    for (const r of ended.removed.filter((x) => x.outcome !== 'absent'))
        main.push(['Cleanup', `${r.outcome}: ${r.path}`]);
    if (ended.handedBack)
        main.push(['Handed back', ended.handedBack]);
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
    if (times.length)
        main.push(['Time per phase', times.map(([k, v]) => `${k} ${units_formatDuration(v)}`).join(', ')]);
    const disk = (d) => `${d.usedPercent.toFixed(1)}% used (${units_formatBytes(d.freeBytes)} free)`;
    const disks = [
        guard && `before the guard ${disk(guard.before)}`,
        guard && `after it ${disk(guard.after)}`,
        ended.diskAtRelease && `at release ${disk(ended.diskAtRelease)}`,
    ].filter(Boolean);
    if (disks.length)
        main.push(['Disk', disks.join('; ')]);
    for (const w of ended.warnings)
        main.push(['Warning', w]);
    const g = [];
    if (guard) {
        g.push(['Disk before', `${guard.before.usedPercent.toFixed(1)}% used, ${units_formatBytes(guard.before.freeBytes)} free`, '', '', '']);
        for (const r of guard.removals)
            g.push([r.outcome, r.path, units_formatBytes(r.bytes), units_formatDuration(r.ageMs), r.owner ?? 'unknown']);
        if (guard.needsRoot?.count)
            g.push(['needs root', `${guard.needsRoot.count} entries of another uid: run 'cargo-isolate gc' as root`, units_formatBytes(guard.needsRoot.bytes), '', '']);
        g.push(['Disk after', `${guard.after.usedPercent.toFixed(1)}% used, ${units_formatBytes(guard.after.freeBytes)} free`, units_formatBytes(guard.freedBytes), '', '']);
    }
    return { main, guard: g };
}
/**
 * Pure: where a step's milliseconds went, for its debug log (and `npm run bench`, which reads it):
 * `start-up` is Node's own start and the loading of the bundle, up to the step's first line.
 */
function timingsLine(step, parts, totalMs) {
    const each = parts.filter(([, ms]) => ms >= 0.5).map(([k, ms]) => `${k} ${Math.round(ms)} ms`);
    return `Where the ${step} step's time went: ${each.join(', ')}; ${Math.round(totalMs)} ms since the process started.`;
}
/** Pure: the parts of a start that mainJob times itself (job.phases), and what it spent besides them, out of `ms`. */
function withRest(phases, ms, rest) {
    const parts = Object.entries(phases ?? {});
    return [...parts, [rest, ms - parts.reduce((n, [, v]) => n + v, 0)]];
}
/** Pure: the job-started hook's one line for the job log (the action's main step logs its phases instead). */
function startedLine(job) {
    const where = `${job.layout === 'slot' ? 'slot' : 'job directory'} ${job.slot} (${job.tier}${job.reset.warm ? ', warm' : ''})`;
    const paths = `CARGO_TARGET_DIR=${job.dirs.target} CARGO_HOME=${job.exports.CARGO_HOME} TMPDIR=${job.dirs.tmp}`;
    const restored = job.restore?.outcome === 'restored' ? `; ${describeRestore(job.restore)}` : '';
    return `cargo-isolate ${VERSION}: ${job.identity.repository} ${job.identity.key} in ${where}; ${paths}${restored}.`;
}
/** Pure: the job-completed hook's one line for the job log and the job summary (the action writes a table). */
function completedLine(job, ended) {
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
function htmlTable(header, rows) {
    const tr = (tag, cells) => `<tr>${cells.map((c) => `<${tag}>${c}</${tag}>`).join('')}</tr>`;
    return `<table>${tr('th', header)}${rows.map((r) => tr('td', r)).join('')}</table>\n`;
}
async function writeSummary(job, ended, guard) {
    const rows = summaryRows(job, ended, guard);
    let text = `<h3>cargo-isolate ${version_VERSION}</h3>\n${htmlTable(['What', 'Value'], rows.main)}`;
    if (rows.guard.length) {
        const g = guard;
        text += `<h4>Disk guard (threshold ${g.threshold}, target ${g.target}, scope ${g.scope}${g.dryRun ? ', dry run' : ''})</h4>\n`;
        text += htmlTable(['Action', 'Path', 'Size', 'Idle for', 'Last owner'], rows.guard);
    }
    await appendSummary(text);
}

;// CONCATENATED MODULE: ./src/post-impl.ts








/*
 * The action's post step: what dist/post runs, and what `@github/local-action` calls. It reads
 * what the main step saved (state.ts), ends the job (finishJob) and writes the job summary. Never
 * fails the job: every problem is a warning, and the rest is left to the next guard.
 */
async function post_impl_run() {
    const startUp = performance.now(); // since the process started: Node's own start and this bundle's loading
    const elsewhere = notOnLinux(process.platform, 'post');
    if (elsewhere)
        return notice(elsewhere);
    onStray(stray);
    try {
        if (loadHookJoined()) {
            info("The main step joined the runner's job-started hook: its job-completed hook releases the lease and publishes crates.");
            return;
        }
        const lease = loadLease();
        if (!lease) {
            info('The main step took no lease (it failed or was cancelled before): nothing to release.');
            return;
        }
        const job = loadJob();
        const t0 = performance.now();
        const ended = await finishJob({ job: job ?? lease, env: process.env, log: actionLog });
        const t1 = performance.now();
        await writeSummary(job, ended, loadGuard()).catch((e) => report(e, `Writing the job summary to ${process.env.GITHUB_STEP_SUMMARY}`));
        const t2 = performance.now();
        const release = withRest(ended.releaseSteps, ended.releaseMs ?? 0, 'the rest of the release');
        const times = [
            ['start-up', startUp],
            ['state', t0 - startUp],
            ...release,
            ['sccache and warnings', t1 - t0 - (ended.releaseMs ?? 0)],
            ['summary', t2 - t1],
        ];
        debug(timingsLine('post', times, performance.now()));
    }
    catch (e) {
        report(e, 'cargo-isolate post step');
    }
}
/** One failure of the post step: a warning (model/failure.ts), its stack only in the debug log; the next guard cleans up. */
function report(e, doing) {
    const f = explain(e, { more: 're-run the job with debug logging for the trace (RUNNER_DEBUG)' });
    if (f.stack && process.env.RUNNER_DEBUG === '1')
        debug(f.stack);
    warning(`${f.message.startsWith(doing) ? '' : `${doing}: `}${f.message} A later guard or 'cargo-isolate gc' cleans up what is left.`);
}
function stray(e) {
    report(e, 'cargo-isolate post step');
    process.exit(0);
}


/***/ }),

/***/ 6661:
/***/ ((module, __unused_webpack___webpack_exports__, __nccwpck_require__) => {

__nccwpck_require__.a(module, async (__webpack_handle_async_dependencies__, __webpack_async_result__) => { try {
/* harmony import */ var _post_impl_js__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(3006);
// The action's post step (action.yml: runs.post), bundled into dist/post.

await (0,_post_impl_js__WEBPACK_IMPORTED_MODULE_0__/* .run */ .e)();

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
/******/ var __webpack_exports__ = __nccwpck_require__(6661);
/******/ __webpack_exports__ = await __webpack_exports__;
/******/ 
