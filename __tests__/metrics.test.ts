import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { addEvents, collectMetrics, emptyCounters, renderMetrics } from '../src/job/metrics.js';
import { eventsLog, parseEvents, recordEvent } from '../src/pool/events.js';
import { type Cursor, LOG_MAX, readSince } from '../src/pool/jsonlog.js';
import { prepareRoot } from '../src/pool/root.js';
import { cli } from './helpers/cli.js';
import { jobPool } from './helpers/runner.js';
import { makeWorkspace } from './helpers/workspace.js';
import { removeScratch } from './helpers/scratch.js';
import { scaled } from './helpers/pace.js';

/*
 * `cargo-isolate metrics` for Prometheus: counters that only grow over logs that rotate, a text
 * format promtool accepts, and, for real, Debian's node_exporter serving the file to Debian's
 * Prometheus while real jobs run: the queries of the shipped dashboard and the alert rules are
 * run against what it scraped. The alert rules' exact behaviour is `promtool test rules`.
 */
const VERSION = JSON.parse(readFileSync('package.json', 'utf8')).version as string;
const MONITORING = resolve('docs', 'monitoring');
let scratch: string;
beforeAll(async () => {
  scratch = await fs.mkdtemp(join(tmpdir(), 'ci-metrics-'));
});
afterAll(async () => {
  await removeScratch(scratch);
});

/** The tools .ci/run installs; missing tools fail the suite rather than skip it. */
function tool(name: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${name} is not installed: apt-get install -y prometheus prometheus-node-exporter (.ci/run does)`);
  return r.stdout.trim();
}

const promtool = (args: string[], input?: string) => spawnSync(tool('promtool'), args, { input, encoding: 'utf8', cwd: MONITORING });

describe('counters from logs that rotate', () => {
  test('each line is counted once across rotations; a line still being written waits for its end', async () => {
    const root = await prepareRoot(join(scratch, 'rotating'), {});
    const path = eventsLog(root);
    const big = 'x'.repeat(2000); // ~128 lines per generation: several rotations below
    let cursor: Cursor | undefined;
    let counted = 0;
    const consume = async () => {
      const r = await readSince(path, cursor);
      cursor = r.cursor;
      counted += parseEvents(r.text).length;
    };
    const seen: number[] = [];
    for (let i = 1; i <= 400; i++) {
      expect(await recordEvent(root, { event: 'unisolated', reason: big })).toBeUndefined();
      if (i % 40 === 0) {
        await consume();
        seen.push(counted);
        expect(counted).toBe(i);
      }
    }
    expect((await fs.stat(`${path}.1`)).size).toBeGreaterThan(LOG_MAX / 2); // it did rotate
    // Half a line (a writer between its bytes, or killed): not counted until it is whole.
    await fs.appendFile(path, '{"t":"2026-01-01T00:00:00.000Z","event":"unisolated",');
    await consume();
    expect(counted).toBe(400);
    await fs.appendFile(path, '"reason":"x"}\n');
    await consume();
    expect(counted).toBe(401);
  });

  test('the metrics counters only grow while the log rotates under them', async () => {
    const root = await prepareRoot(join(scratch, 'monotone'), {});
    const values: number[] = [];
    for (let round = 0; round < 8; round++) {
      for (let i = 0; i < 50; i++) await recordEvent(root, { event: 'unisolated', reason: 'y'.repeat(2000) });
      const text = await collectMetrics(root, { kind: 'percent', percent: 85 });
      values.push(Number(/^cargo_isolate_hook_unisolated_jobs_total\{[^}]*\} (\d+)$/m.exec(text)?.[1]));
    }
    expect(values).toEqual([50, 100, 150, 200, 250, 300, 350, 400]);
  });

  test('the text is what promtool accepts, whatever a job or repository is called', () => {
    const c = addEvents(emptyCounters(), [{ t: 'x', event: 'lease', via: 'hook', waitedMs: 1500, warm: true }]);
    c.jobs[JSON.stringify(['acme/widgets', 'say "hi"\\ (linux\nx86)'])] = { warm: 1, cold: 2, built: 3, fresh: 4 };
    const text = renderMetrics({ root: '/srv/ci "quoted"' }, c);
    expect(text).toContain('cargo_isolate_lease_wait_seconds_sum{root="/srv/ci \\"quoted\\"",via="hook"} 1.5');
    expect(text).toContain('ci_job="say \\"hi\\"\\\\ (linux\\nx86)",start="cold"} 2');
    const r = promtool(['check', 'metrics'], text);
    expect([r.status, r.stdout + r.stderr]).toEqual([0, '']);
  });
});

describe('alert rules', () => {
  test('promtool checks them, and each fires on its situation and stays quiet on its look-alikes', () => {
    const check = promtool(['check', 'rules', 'alerts.yml']);
    expect([check.status, check.stdout]).toEqual([0, expect.stringContaining('SUCCESS: 5 rules found')]);
    const t = promtool(['test', 'rules', 'alerts.test.yml']);
    expect([t.status, t.stdout + t.stderr]).toEqual([0, expect.stringContaining('SUCCESS')]);
  });
});

// ---------------------------------------------------------------------------------------------
// Real node_exporter and Prometheus, children of this test on free ports with temp data dirs.
// ---------------------------------------------------------------------------------------------

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const end = Date.now() + scaled(ms);
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

type Sample = { metric: Record<string, string>; value: [number, string] };

describe('Prometheus scrapes the metrics of real jobs through node_exporter', () => {
  const { job, cleanup } = jobPool();
  const children: ChildProcess[] = [];
  let promPort: number;
  let textfile: string;
  let logs = '';
  const start = (cmd: string, args: string[]) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout!.on('data', (d) => (logs += d));
    c.stderr!.on('data', (d) => (logs += d));
    children.push(c);
    return c;
  };
  const query = async (expr: string): Promise<Sample[]> => {
    const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await r.json()) as { status: string; error?: string; data: { result: Sample[] } };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
    return body.data.result;
  };

  beforeAll(async () => {
    textfile = join(scratch, 'textfile');
    await fs.mkdir(textfile);
    const nodePort = await freePort();
    start(tool('prometheus-node-exporter'), [
      `--web.listen-address=127.0.0.1:${nodePort}`,
      '--collector.disable-defaults',
      '--collector.textfile',
      `--collector.textfile.directory=${textfile}`,
    ]);
    promPort = await freePort();
    const config = join(scratch, 'prometheus.yml');
    await fs.writeFile(
      config,
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: ['${join(MONITORING, 'alerts.yml')}']`,
        'scrape_configs:',
        `  - { job_name: node, static_configs: [{ targets: ['127.0.0.1:${nodePort}'] }] }`,
        '',
      ].join('\n'),
    );
    start(tool('prometheus'), [`--config.file=${config}`, `--storage.tsdb.path=${join(scratch, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`]);
    await until('Prometheus to scrape node_exporter', async () => ((await query('up{job="node"} == 1')).length === 1 ? true : undefined));
  }, scaled(120_000));

  afterAll(async () => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGTERM');
        await new Promise((r) => c.once('exit', r));
      }
    }
    await cleanup();
  });

  test(
    "jobs, a guard run, a lease wait, a hook failing open: the dashboard's queries and the alerts see them",
    async () => {
      const root = join(scratch, 'root');
      const file = join(textfile, 'cargo-isolate.prom');
      const metrics = async (extra: string[] = []) => {
        const r = await cli(['metrics', '--root', root, '--output', file, ...extra]);
        expect([r.code, r.stderr]).toEqual([0, '']);
      };
      const value = async (expr: string) => (await query(expr)).map((s) => Number(s.value[1]));

      // Before the first job: the root does not exist, and says so.
      await metrics();
      await until('the first file', async () => ((await value(`cargo_isolate_root_present{root="${root}"}`))[0] === 0 ? true : undefined));

      const ws = await makeWorkspace(join(scratch, 'ws'), 3);
      const unitsOf = (summary: string) => /<td>Compile units<\/td><td>(\d+) built(?: \([^)]*\))?, (\d+) fresh/.exec(summary)?.slice(1).map(Number);
      const jobRun = async (o: Parameters<typeof job>[0], cmd: string[], inputs: Record<string, string> = {}) => {
        const j = await job(o);
        const m = await j.run('main', { root, ...inputs });
        expect({ code: m.code, errors: m.errors }).toEqual({ code: 0, errors: [] });
        const b = await j.exec(cmd, ws);
        expect(b.code).toBe(0);
        return j;
      };
      const end = async (j: Awaited<ReturnType<typeof job>>) => {
        const p = await j.run('post');
        expect(p.code).toBe(0);
        await metrics();
        return unitsOf(p.summary);
      };
      // A push to main builds cold, the next one warm; a PR's lint job checks cold, its next run warm.
      const cold = await end(await jobRun({ branch: 'main', runId: '1', job: 'test', runner: 'r1' }, ['cargo', 'build']));
      const warm = await end(await jobRun({ branch: 'main', runId: '2', job: 'test', runner: 'r2' }, ['cargo', 'build']));
      expect([cold?.[1], warm?.[0], warm?.[1]]).toEqual([0, 0, cold?.[0]]);
      const lintCold = await end(await jobRun({ pr: 5, runId: '10', job: 'lint', runner: 'r3' }, ['cargo', 'check']));
      // Its next run holds the slot while a third run of the same job waits 2 s for it, then takes another.
      const held = await jobRun({ pr: 5, runId: '11', job: 'lint', runner: 'r1' }, ['cargo', 'check']);
      const waiter = await job({ pr: 5, runId: '12', job: 'lint', runner: 'r2' });
      const w = await waiter.run('main', { root, 'lease-wait': '2s' });
      expect(w.stdout).toMatch(/still leased by an earlier run \(an earlier run of this PR, cancelled by the new push\); waiting up to \d+ s for it/);
      const lintWarm = await end(held);
      expect(lintWarm).toEqual([0, lintCold?.[0]]);
      await end(waiter);
      // The runner hook with a bad variable lets a job run without isolation, and writes the metrics.
      const temp = await fs.mkdtemp(join(scratch, 'hook-'));
      const hook = spawnSync('bash', ['-e', 'hooks/job-started.sh'], {
        env: {
          PATH: process.env.PATH,
          HOME: scratch,
          RUNNER_TEMP: temp,
          GITHUB_ENV: join(temp, 'env'),
          CARGO_ISOLATE_NODE: process.execPath,
          CARGO_ISOLATE_ROOT: root,
          CARGO_ISOLATE_DISK_THRESHOLD: '85',
          CARGO_ISOLATE_METRICS_FILE: file,
        },
        encoding: 'utf8',
      });
      expect(hook.status).toBe(0);
      expect(hook.stdout.replace(/%25/g, '%')).toContain(
        'did you mean 85% or 85GiB? Expected a percentage below 100% (e.g. 85%) or a free-space floor (e.g. 20GiB). This job runs without isolation',
      );
      expect(await fs.readFile(file, 'utf8')).toContain(`cargo_isolate_hook_unisolated_jobs_total{root="${root}"} 1`);
      // Written by a hook, and said so: the stale alert leaves a file only the hooks write alone.
      expect(await fs.readFile(file, 'utf8')).toMatch(
        new RegExp(`^cargo_isolate_metrics_written_timestamp_seconds\\{root="${root}",writer="hook"\\} \\d`, 'm'),
      );
      // The timer's gc, and a job still running when the metrics are written.
      expect((await cli(['gc', '--root', root])).code).toBe(0);
      const running = await job({ pr: 9, runId: '30', job: 'test', runner: 'r3' });
      expect((await running.run('main', { root })).code).toBe(0);
      try {
        await metrics(['--disk-threshold', '1%']);
        const text = await fs.readFile(file, 'utf8');
        const check = promtool(['check', 'metrics'], text);
        expect([check.status, check.stdout + check.stderr]).toEqual([0, '']);
        const inFile = (name: string) => Number(new RegExp(`^${name}\\{root="${root}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
        const written = Number(new RegExp(`^cargo_isolate_metrics_written_timestamp_seconds\\{root="${root}",writer="cli"\\} (\\S+)$`, 'm').exec(text)?.[1]);
        expect(Math.abs(written - Date.now() / 1000)).toBeLessThan(scaled(600));
        const slots = (await fs.readdir(join(root, 'slots'))).length;

        await until('Prometheus to scrape the last file', async () =>
          (await value(`cargo_isolate_leases{root="${root}"}`))[0] === 1 && (await value(`sum(cargo_isolate_guard_runs_total{root="${root}"})`))[0] === 7
            ? true
            : undefined,
        );

        const byLabel = (rs: Sample[], label: string) => Object.fromEntries(rs.map((s) => [s.metric[label], Number(s.value[1])]));
        const one = (rs: Sample[]) => rs.map((s) => Number(s.value[1]));
        const between = (lo: number, hi: number) => (rs: Sample[]) => rs.length > 0 && rs.every((s) => Number(s.value[1]) >= lo && Number(s.value[1]) <= hi);
        const ratioOrNaN = (rs: Sample[]) =>
          rs.length > 0 && rs.every((s) => Number.isNaN(Number(s.value[1])) || (Number(s.value[1]) >= 0 && Number(s.value[1]) <= 1));
        const notNegative = (rs: Sample[]) => rs.length > 0 && rs.every((s) => Number.isNaN(Number(s.value[1])) || Number(s.value[1]) >= 0);
        const jobs = { 'acme/widgets test': 0.5, 'acme/widgets lint': 0.5 };
        const perJob = (rs: Sample[]) => Object.fromEntries(rs.map((s) => [`${s.metric.repository} ${s.metric.ci_job}`, Number(s.value[1])]));

        // Every query of the shipped dashboard, and what it must show after these jobs.
        const I = 'instance=~"$instance"';
        const expected: Record<string, (rs: Sample[]) => unknown> = {
          [`count by (version) (cargo_isolate_info{${I}})`]: (rs) => expect(byLabel(rs, 'version')).toEqual({ [VERSION]: 1 }),
          [`sum by (instance, root) (cargo_isolate_disk_over_threshold{${I}})`]: (rs) => expect(one(rs)).toEqual([1]),
          [`max by (instance, root) (cargo_isolate_disk_used_ratio{${I}})`]: (rs) => expect(one(rs)).toEqual([inFile('cargo_isolate_disk_used_ratio')]),
          [`sum by (instance, root) (cargo_isolate_idle_bytes{${I}})`]: (rs) => expect(one(rs)).toEqual([inFile('cargo_isolate_idle_bytes')]),
          [`min by (instance, root) (cargo_isolate_disk_free_bytes{${I}})`]: (rs) => expect(one(rs)).toEqual([inFile('cargo_isolate_disk_free_bytes')]),
          [`sum by (state) (cargo_isolate_slots{${I}})`]: (rs) =>
            expect(byLabel(rs, 'state')).toEqual({ leased: 1, free: slots - 1, cargo_running: 0, needs_root: 0 }),
          [`max by (instance, root) (cargo_isolate_lease_age_seconds{${I}})`]: (rs) => expect(between(0.001, 600)(rs)).toBe(true),
          [`sum by (part) (cargo_isolate_slot_bytes{${I}})`]: (rs) =>
            expect(byLabel(rs, 'part')).toEqual({ target: expect.any(Number), cargo_home: expect.any(Number) }),
          [`sum by (store) (cargo_isolate_store_bytes{${I}})`]: (rs) => expect(Object.keys(byLabel(rs, 'store')).sort()).toEqual(['crates', 'git']),
          [`sum(cargo_isolate_trash_bytes{${I}})`]: (rs) => expect(one(rs)).toEqual([inFile('cargo_isolate_trash_bytes')]),
          [`min by (instance, root) (cargo_isolate_inodes_free{${I}} / cargo_isolate_inodes{${I}})`]: (rs) => expect(between(1e-9, 1)(rs)).toBe(true),
          [`sum by (repository, ci_job) (increase(cargo_isolate_jobs_total{start="warm",${I}}[6h])) / sum by (repository, ci_job) (increase(cargo_isolate_jobs_total{${I}}[6h]))`]:
            (rs) => expect(ratioOrNaN(rs)).toBe(true),
          [`sum by (repository, ci_job) (cargo_isolate_jobs_total{start="warm",${I}}) / sum by (repository, ci_job) (cargo_isolate_jobs_total{${I}})`]: (rs) =>
            expect(perJob(rs)).toEqual(jobs),
          [`sum by (repository, ci_job) (cargo_isolate_units_total{state="fresh",${I}}) / sum by (repository, ci_job) (cargo_isolate_units_total{${I}})`]: (
            rs,
          ) => expect(perJob(rs)).toEqual(jobs),
          [`sum by (trigger, result) (increase(cargo_isolate_guard_runs_total{${I}}[1h]))`]: (rs) => expect(notNegative(rs)).toBe(true),
          [`sum by (trigger) (increase(cargo_isolate_guard_freed_bytes_total{${I}}[1h]))`]: (rs) => expect(notNegative(rs)).toBe(true),
          [`sum by (trigger) (cargo_isolate_guard_runs_total{${I}})`]: (rs) => expect(byLabel(rs, 'trigger')).toEqual({ job: 6, gc: 1 }),
          [`sum by (instance) (increase(cargo_isolate_lease_wait_seconds_sum{${I}}[1h])) / sum by (instance) (increase(cargo_isolate_lease_wait_seconds_count{${I}}[1h]))`]:
            (rs) => expect(notNegative(rs)).toBe(true),
          // Six leases, one of them waited 2 s.
          [`sum(cargo_isolate_lease_wait_seconds_sum{${I}}) / sum(cargo_isolate_lease_wait_seconds_count{${I}})`]: (rs) =>
            expect(between(2 / 6, 60)(rs)).toBe(true),
          [`sum by (instance) (increase(cargo_isolate_hook_unisolated_jobs_total{${I}}[1h]))`]: (rs) => expect(notNegative(rs)).toBe(true),
          [`sum by (instance) (cargo_isolate_hook_unisolated_jobs_total{${I}})`]: (rs) => expect(one(rs)).toEqual([1]),
          [`time() - max by (instance) (node_textfile_mtime_seconds{file=~".*cargo-isolate.*[.]prom",${I}})`]: (rs) => expect(between(0, 600)(rs)).toBe(true),
          // This workspace has no registry dependency: no archive is ever saved, every look misses.
          [`sum by (instance, root) (cargo_isolate_archive_bytes{tier="host",${I}})`]: (rs) => expect(one(rs)).toEqual([0]),
          [`sum by (instance, root) (cargo_isolate_archive_cap_bytes{tier="host",${I}})`]: (rs) =>
            expect(one(rs)).toEqual([Math.floor((inFile('cargo_isolate_disk_size_bytes') * 10) / 100)]), // host-archives' default, 10%
          [`sum by (tier, result) (increase(cargo_isolate_archive_restores_total{${I}}[1h]))`]: (rs) => expect(notNegative(rs)).toBe(true),
          // Two cold starts (main's first test, the PR's first lint) and two from their slot.
          [`sum by (tier) (cargo_isolate_starts_total{${I}})`]: (rs) =>
            expect(byLabel(rs, 'tier')).toEqual({ slot: 2, copy: 0, host_archive: 0, fleet_archive: 0, compile_cache: 0, cold: 2 }),
        };
        const dashboard = JSON.parse(await fs.readFile(join(MONITORING, 'grafana-dashboard.json'), 'utf8')) as {
          panels: { title: string; targets: { expr: string }[] }[];
          templating: { list: { name: string; definition?: string }[] };
        };
        const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
        expect([...exprs].sort()).toEqual(Object.keys(expected).sort());
        for (const expr of exprs) {
          const rs = await query(expr.replace(/\$instance/g, '.*'));
          try {
            expected[expr](rs);
          } catch (e) {
            throw new Error(`${expr}\n${JSON.stringify(rs)}\n${(e as Error).message}`);
          }
        }
        // The dashboard's host picker lists the hosts that report.
        expect(dashboard.templating.list.find((v) => v.name === 'instance')?.definition).toBe('label_values(cargo_isolate_info, instance)');
        expect((await query('cargo_isolate_info')).every((s) => s.metric.instance)).toBe(true);
        // node_exporter read every file without an error.
        expect(await value('node_textfile_scrape_error')).toEqual([0]);

        // The rules load and evaluate; the situations of this test fire what they should: the hook
        // that failed open at once, and the disk over its (1%) threshold with little idle data pending.
        const rules = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/rules`)).json()) as {
          data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
        };
        expect(rules.data.groups.flatMap((g) => g.rules.map((r) => [r.name, r.health, r.lastError ?? '']))).toEqual(
          [
            'CargoIsolateDiskFullNothingIdle',
            'CargoIsolateWarmShareDropped',
            'CargoIsolateHooksFailingOpen',
            'CargoIsolateMetricsStale',
            'CargoIsolateArchiveRefused',
          ].map((n) => [n, 'ok', '']),
        );
        const alerts = await until('the alerts', async () => {
          const a = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/alerts`)).json()) as {
            data: { alerts: { labels: { alertname: string }; state: string }[] };
          };
          const states = Object.fromEntries(a.data.alerts.map((x) => [x.labels.alertname, x.state]));
          return states.CargoIsolateHooksFailingOpen === 'firing' && states.CargoIsolateDiskFullNothingIdle ? states : undefined;
        });
        expect(alerts).toEqual({ CargoIsolateHooksFailingOpen: 'firing', CargoIsolateDiskFullNothingIdle: 'pending' });
      } finally {
        await running.run('post');
      }
    },
    scaled(600_000),
  );
});
