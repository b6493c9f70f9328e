import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DiskFullError, runGuard } from './pool/guard.js';
import { currentIdentity } from './model/identity.js';
import { endJob } from './job/job.js';
import { handBackIdle } from './owners/handback.js';
import { slotsOfAnotherUid } from './owners/reclaim.js';
import { consoleLog } from './os/log.js';
import { mainJob } from './job/start.js';
import { prepareRoot, RootError } from './pool/root.js';
import { InputError, readSettings } from './model/settings.js';
import { formatStatus, rootStatus } from './job/status.js';
import { formatBytes, parseDuration } from './model/units.js';
import { forgetDomain } from './job/forget.js';
import { contentKey } from './model/key.js';

const USAGE = `usage: cargo-isolate <command> [options]

commands:
  status              slots, owners, keys, liveness, sizes; warm starts per repository and job
  gc                  the disk guard for a host timer (host scope by default)
  run -- CMD [ARG..]  lease directories, run CMD with them exported, release them
  forget              a PR (or branch) has closed: its builds go first when the disk needs room
  demo                run the action's main job locally: build a small workspace twice in a slot

options (all commands):
  --root DIR          default: $CARGO_ISOLATE_ROOT, else ~/.cache/cargo-isolate
  --json              machine-readable output (status, gc)
gc:  --scope host|runner  --runner ID  --threshold 85%|20GiB  --target LEVEL  --max-age 7d  --dry-run  --fail-below SIZE
run: --layout slot|job  --reuse same-key|never|always  --lease-wait 60s
forget: --repository OWNER/NAME (--pr N | --branch NAME)
`;

const OPTIONS = {
  root: { type: 'string' },
  json: { type: 'boolean' },
  scope: { type: 'string' },
  runner: { type: 'string' },
  threshold: { type: 'string' },
  target: { type: 'string' },
  'max-age': { type: 'string' },
  'dry-run': { type: 'boolean' },
  'fail-below': { type: 'string' },
  layout: { type: 'string' },
  reuse: { type: 'string' },
  'lease-wait': { type: 'string' },
  verbose: { type: 'boolean' },
  repository: { type: 'string' },
  pr: { type: 'string' },
  branch: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = Record<string, string | boolean | undefined>;

/** The action input each CLI option feeds, reversed for error messages. */
const FLAG_OF: Record<string, string> = { 'disk-threshold': '--threshold', 'disk-target': '--target', 'prune-scope': '--scope' };

/** The CLI's flags read through the same validation as the action's inputs. */
function settingsFrom(v: Values, overrides: Record<string, string> = {}) {
  const map: Record<string, string | undefined> = {
    root: v.root as string,
    layout: v.layout as string,
    reuse: v.reuse as string,
    'lease-wait': v['lease-wait'] as string,
    'disk-threshold': v.threshold as string,
    'disk-target': v.target as string,
    'prune-scope': v.scope as string,
    'dry-run': v['dry-run'] ? 'true' : '',
    'fail-below': v['fail-below'] as string,
    ...overrides,
  };
  return readSettings((n) => map[n] ?? '');
}

function runChild(cmd: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((res) => {
    const child = spawn(cmd[0], cmd.slice(1), { stdio: 'inherit', env });
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on('SIGINT', forward).on('SIGTERM', forward);
    child.on('error', (e) => {
      process.stderr.write(`cargo-isolate: cannot run ${cmd[0]}: ${e.message}\n`);
      res(127);
    });
    child.on('exit', (code, sig) => {
      process.off('SIGINT', forward).off('SIGTERM', forward);
      res(code ?? (sig ? 128 + 15 : 1));
    });
  });
}

async function leaseAndRun(v: Values, cmd: string[], overrides: Record<string, string> = {}): Promise<number> {
  const log = consoleLog(Boolean(v.verbose));
  const s = settingsFrom(v, overrides);
  const noop = () => undefined;
  const { job } = await mainJob(s, process.env, log, process.pid, { lease: noop, guard: noop });
  const env: NodeJS.ProcessEnv = { ...process.env, ...job.exports, PATH: `${job.path}:${process.env.PATH ?? ''}` };
  for (const [k, val] of Object.entries(job.exports)) log.info(`${k}=${val}`);
  let code = 1;
  try {
    code = await runChild(cmd, env);
  } finally {
    const ended = await endJob(job, log);
    for (const w of ended.warnings) log.warning(w);
  }
  return code;
}

async function demo(v: Values): Promise<number> {
  const ws = await fs.mkdtemp(join(tmpdir(), 'cargo-isolate-demo-'));
  await fs.writeFile(join(ws, 'Cargo.toml'), '[workspace]\nmembers = ["app", "util"]\nresolver = "2"\n');
  await fs.mkdir(join(ws, 'util', 'src'), { recursive: true });
  await fs.mkdir(join(ws, 'app', 'src'), { recursive: true });
  await fs.writeFile(join(ws, 'util', 'Cargo.toml'), '[package]\nname = "util"\nversion = "0.1.0"\nedition = "2021"\n');
  await fs.writeFile(join(ws, 'util', 'src', 'lib.rs'), 'pub fn greet() -> &\'static str { "hello from an isolated slot" }\n');
  await fs.writeFile(join(ws, 'app', 'Cargo.toml'), '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nutil = { path = "../util" }\n');
  await fs.writeFile(join(ws, 'app', 'src', 'main.rs'), 'fn main() { println!("{}", util::greet()); }\n');
  process.stderr.write(`demo workspace: ${ws}\n-- first job: cold slot\n`);
  const cmd = ['cargo', 'run', '--quiet', '--manifest-path', join(ws, 'Cargo.toml'), '-p', 'app'];
  const env = { GITHUB_REPOSITORY: 'demo/workspace', GITHUB_REF_NAME: 'main', GITHUB_RUN_ID: String(Date.now()) };
  Object.assign(process.env, env);
  // The crate phase looks for the demo's own Cargo.lock, never the one of the directory the
  // demo was started from (a Rust repository's crates have no business in the demo's slot).
  const here = { 'working-directory': ws };
  let code = await leaseAndRun(v, cmd, here);
  if (code !== 0) return code;
  process.stderr.write('-- second job, same branch: the warm slot again, nothing recompiled\n');
  process.env.GITHUB_RUN_ID = String(Date.now() + 1);
  code = await leaseAndRun(v, cmd, here);
  const root = await prepareRoot(settingsFrom(v).root, process.env, false);
  process.stdout.write(formatStatus(await rootStatus(root)) + '\n');
  await fs.rm(ws, { recursive: true, force: true });
  return code;
}

export async function runCli(argv: string[]): Promise<number> {
  const sep = argv.indexOf('--');
  const own = sep >= 0 ? argv.slice(0, sep) : argv;
  const cmd = sep >= 0 ? argv.slice(sep + 1) : [];
  try {
    const { values: v, positionals } = parseArgs({ args: own, options: OPTIONS, allowPositionals: true, strict: true });
    const command = positionals[0];
    if (v.help || !command) {
      process.stdout.write(USAGE);
      return command || v.help ? 0 : 2;
    }
    if (command === 'status') {
      const root = await prepareRoot(settingsFrom(v).root, process.env, false);
      const s = await rootStatus(root);
      process.stdout.write(v.json ? JSON.stringify(s, null, 2) + '\n' : formatStatus(s) + '\n');
      return 0;
    }
    if (command === 'gc') {
      const s = settingsFrom(v, { 'prune-scope': (v.scope as string) || 'host' });
      if (s.pruneScope === 'runner' && !v.runner) throw new InputError('prune-scope', 'runner', "'host', or 'runner' together with --runner ID");
      const maxAgeMs = v['max-age'] ? parseDuration(v['max-age'] as string) : undefined;
      if (v['max-age'] && maxAgeMs === undefined) throw new InputError('max-age', v['max-age'] as string, 'a duration such as 7d or 12h');
      const root = await prepareRoot(s.root, process.env, false);
      const r = await runGuard({
        root, threshold: s.diskThreshold, target: s.diskTarget, scope: s.pruneScope, runnerId: (v.runner as string) ?? currentIdentity().runnerId,
        dryRun: s.dryRun, failBelowBytes: s.failBelowBytes, maxAgeMs, timeoutMs: s.cleanupTimeoutMs, log: consoleLog(Boolean(v.verbose), Boolean(v.json)),
      });
      // Run as root on a root owned by the runner's user: return what root jobs never handed back.
      const handedBack = s.dryRun ? [] : await handBackIdle(root, s.cleanupTimeoutMs);
      const others = await slotsOfAnotherUid(root, process.geteuid?.() ?? 0);
      if (others.length) process.stderr.write(`warning: ${others.map((o) => `${o.name} (uid ${o.uid}${o.paths.length ? `: ${o.paths.slice(0, 2).join(', ')}` : ''})`).join(', ')}: slots holding files of another uid, which this uid cannot reuse or remove: needs root. Run 'cargo-isolate gc' as root (docs/docker-run.md).\n`);
      if (v.json) process.stdout.write(JSON.stringify({ ...r, handedBack }, null, 2) + '\n');
      else process.stdout.write(`${s.dryRun ? 'would free' : 'freed'} ${formatBytes(r.freedBytes)} in ${r.removals.length} removals; disk ${r.after.usedPercent.toFixed(1)}% used, ${formatBytes(r.after.freeBytes)} free${handedBack.length ? `; handed ${handedBack.join(', ')} back to the root's owner` : ''}\n`);
      return 0;
    }
    if (command === 'run') {
      if (cmd.length === 0) {
        process.stderr.write('cargo-isolate: run needs a command after --, e.g. cargo-isolate run -- cargo test\n');
        return 2;
      }
      return await leaseAndRun(v, cmd);
    }
    if (command === 'demo') return await demo(v);
    if (command === 'forget') {
      const repository = (v.repository as string | undefined)?.trim() || process.env.GITHUB_REPOSITORY;
      if (!repository) throw new InputError('repository', '', "the repository whose PR closed, e.g. --repository acme/widgets (or GITHUB_REPOSITORY)");
      const pr = v.pr as string | undefined;
      if (pr !== undefined && !/^[1-9]\d{0,9}$/.test(pr.trim())) throw new InputError('pr', pr, 'a PR number such as 12');
      const branch = (v.branch as string | undefined)?.trim();
      if ((pr === undefined) === !branch) throw new InputError('pr', pr ?? '', 'either --pr N (a pull request) or --branch NAME (a deleted branch), not both');
      const key = pr !== undefined ? contentKey(Number(pr.trim()), '') : contentKey(undefined, branch!);
      const root = await prepareRoot(settingsFrom(v).root, process.env);
      process.stdout.write((await forgetDomain(root, repository, key)).message + '\n');
      return 0;
    }
    process.stderr.write(`cargo-isolate: unknown command '${command}'\n${USAGE}`);
    return 2;
  } catch (e) {
    const err = e as Error;
    const known = err instanceof InputError || err instanceof RootError || err instanceof DiskFullError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    // Validation speaks of the action's inputs; here they are options.
    const message = err.message.replace(/^Input '([a-z-]+)'/, (_, name: string) => `Option '${FLAG_OF[name] ?? `--${name}`}'`);
    process.stderr.write(`cargo-isolate: ${known ? message : err.stack}\n`);
    return known ? 2 : 1;
  }
}
