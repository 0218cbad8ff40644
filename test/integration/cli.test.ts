/**
 * The `tasker` bin (dist/src/cli/main.js), run in a child process against
 * stores written by a real Tasker. No sleeps: a live command is synchronised
 * on the lines it prints, the tasker on its events.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { BroadcastChannel } from 'node:worker_threads';
import { after, before, describe, test } from 'node:test';
import { LOG_LEVELS, Tasker, type LogLevel, type Task } from 'tasker';
import { JournalStore } from '../../dist/src/store/journal-store.js';
import { runner } from '../helpers/fixtures.js';
import { createTasker, tempDir } from '../helpers/tasker.js';

const BIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
const SAFETY_NET_MS = 30_000;
const quiet = { error() {}, warn() {}, info() {}, debug() {} };

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a child: no colour settings inherited, then `env`. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  delete base['NO_COLOR'];
  delete base['FORCE_COLOR'];
  return { ...base, ...env };
}

/** A running `tasker …` whose stdout can be awaited line by line. */
class LiveCli {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  stdout = '';
  stderr = '';
  readonly exited: Promise<CliResult>;
  #waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];

  constructor(args: readonly string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv(env) });
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.#check();
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve, reject) => {
      const safety = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`tasker ${args.join(' ')} did not exit within ${SAFETY_NET_MS} ms; stdout: ${this.stdout}; stderr: ${this.stderr}`));
      }, SAFETY_NET_MS);
      this.child.on('error', reject);
      this.child.on('close', (code) => {
        clearTimeout(safety);
        for (const waiter of this.#waiters) waiter.resolve(`<exited before a line matched ${waiter.pattern}>`);
        resolve({ code, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  /** Resolves with the first complete stdout line matching `pattern` (at once if already printed). */
  line(pattern: RegExp): Promise<string> {
    return new Promise((resolve) => {
      this.#waiters.push({ pattern, resolve });
      this.#check();
    });
  }

  #check(): void {
    const lines = this.stdout.split('\n').slice(0, -1);
    this.#waiters = this.#waiters.filter((waiter) => {
      const found = lines.find((line) => waiter.pattern.test(line));
      if (found !== undefined) waiter.resolve(found);
      return found === undefined;
    });
  }
}

function cli(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new LiveCli(args, env).exited;
}

/** The JSON a script gets for a value the library returned. */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

/** Every file of a directory, name → bytes. */
async function filesOf(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const name of (await readdir(dir)).sort()) out.set(name, await readFile(join(dir, name)));
  return out;
}

function nearestRank(values: number[], p: number): number | null {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? null : sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

// ---- a store with tasks done, failed, aborted (after running) and queued -------------------------

let dir = '';
/** Every task as the library returned it before closing, with logs. */
let tasks: Task[] = [];
let byPriority: Task[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tasker-cli-'));
  const tasker = new Tasker({ persistDir: dir, maxThreads: 2, abortGraceMs: 200, onMissingRunner: 'queue', logger: quiet });
  try {
    tasker.assignRunner('echo', runner('echo'));
    tasker.assignRunner('fail', runner('fail'));
    tasker.assignRunner('log-burst', runner('log-burst'));
    tasker.assignRunner('hang', runner('hang-until-abort'));
    const hang = await tasker.addTask({ operation: 'hang', priority: -1 });
    const hangRuns = new Promise<void>((resolve) => tasker.on('task.run', (uuid) => uuid === hang && resolve()));
    await tasker.addTask({ operation: 'echo', id: 'a', data: { n: 1, when: new Date('2026-01-01T00:00:00.000Z') }, priority: 3 });
    await tasker.addTask({ operation: 'echo', data: { n: 2 }, priority: 1 });
    await tasker.addTask({ operation: 'log-burst', data: { count: 10 } });
    await tasker.addTask({ operation: 'log-burst', data: { count: 10 }, maxLogs: 4 });
    await tasker.addTask({ operation: 'fail', data: { message: 'boom', code: 'E_BOOM' } });
    // No runner for 'later': these stay new.
    await tasker.addTask({ operation: 'later', priority: 2 });
    await tasker.addTask({ operation: 'later', data: { n: 3 } });
    await tasker.start();
    await hangRuns;
    await tasker.abortTask(hang, 'enough');
    await tasker.onIdle();
    tasks = await tasker.findTasks({}, { withLogs: true });
    byPriority = await tasker.findTasks({}, { sort: { priority: -1 }, limit: 2 });
  } finally {
    await tasker.close();
  }
  assert.equal(tasks.length, 8);
});

after(() => rm(dir, { recursive: true, force: true }));

describe('tasker list', () => {
  test('a table of every task, queued ones first in run order, then the ended ones; no colour off a TTY', async () => {
    const { code, stdout, stderr } = await cli(['list', dir]);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
    const lines = stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^UUID +OPERATION +STATUS +PRIORITY +CREATED +DURATION +LOGS +ID$/);
    assert.equal(lines.length, 1 + tasks.length);
    for (const task of tasks) {
      const row = lines.find((line) => line.startsWith(task.uuid));
      assert.ok(row !== undefined, task.uuid);
      assert.match(row, new RegExp(`^${task.uuid}  ${task.operation} +${task.status} +${task.priority} `));
    }
    // The two 'later' tasks are new: first, the priority 2 one before the priority 0 one.
    assert.match(lines[1]!, /later +new +2 /);
    assert.match(lines[2]!, /later +new +0 /);
    assert.ok(!stdout.includes('\x1b['), 'no escape codes when stdout is not a TTY');
  });

  test('--status, --operation and --query filter; --json is one document with ISO dates', async () => {
    const ended = await cli(['list', dir, '--status', 'failed', '--status', 'aborted', '--json']);
    assert.equal(ended.code, 0, ended.stderr);
    const endedTasks = JSON.parse(ended.stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(endedTasks.map((task) => task['status']).sort(), ['aborted', 'failed']);

    const echo = await cli(['list', dir, '--operation', 'echo', '--json']);
    const echoTasks = JSON.parse(echo.stdout) as Array<Record<string, unknown>>;
    const expected = tasks.filter((task) => task.operation === 'echo').map(({ logs: _logs, ...task }) => asJson(task));
    assert.deepEqual(
      echoTasks.sort((a, b) => String(a['uuid']).localeCompare(String(b['uuid']))),
      expected.sort((a, b) => String((a as Task).uuid).localeCompare(String((b as Task).uuid))),
      'the JSON of each task is what the library returns, dates as ISO strings',
    );
    const a = echoTasks.find((task) => task['id'] === 'a')!;
    assert.equal((a['data'] as { when: string }).when, '2026-01-01T00:00:00.000Z');
    assert.match(String(a['createdAt']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const query = await cli(['list', dir, '--query', '{"data.n":{"$gte":2}}', '--json']);
    assert.equal(query.code, 0, query.stderr);
    assert.deepEqual((JSON.parse(query.stdout) as Array<Task<{ n: number }>>).map((task) => task.data!.n).sort(), [2, 3]);

    const withDate = await cli(['list', dir, '--query', '{"data.when":{"$$date":"2026-01-01T00:00:00.000Z"}}', '--json']);
    assert.deepEqual((JSON.parse(withDate.stdout) as Task[]).map((task) => task.id), ['a'], 'a {"$$date"} in a query is a Date');

    const none = await cli(['list', dir, '--status', 'running']);
    assert.equal(none.code, 0);
    assert.equal(none.stdout, 'No tasks.\n');
  });

  test('--sort uses the library order and --limit cuts after sorting', async () => {
    const { code, stdout, stderr } = await cli(['list', dir, '--sort', 'priority:desc', '--limit', '2', '--json']);
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), asJson(byPriority));

    const ascending = await cli(['list', dir, '--sort', 'priority', '--sort', 'createdAt:asc', '--json']);
    const priorities = (JSON.parse(ascending.stdout) as Task[]).map((task) => task.priority);
    assert.deepEqual(priorities, [...priorities].sort((x, y) => x - y));
    assert.equal(priorities.length, tasks.length);

    const zero = await cli(['list', dir, '--limit', '0', '--json']);
    assert.deepEqual(JSON.parse(zero.stdout), []);
  });
});

describe('tasker show', () => {
  test('--json is the task as the library returns it; --logs --level keeps fatal…level', async () => {
    const burst = tasks.find((task) => task.operation === 'log-burst' && task.maxLogs === undefined)!;
    const plain = await cli(['show', dir, burst.uuid, '--json']);
    assert.equal(plain.code, 0, plain.stderr);
    const { logs: _logs, ...doc } = burst;
    assert.deepEqual(JSON.parse(plain.stdout), asJson(doc));

    const withLogs = await cli(['show', dir, burst.uuid, '--logs', '--level', 'warning', '--json']);
    const shown = JSON.parse(withLogs.stdout) as { logs: Array<{ level: LogLevel; message: string }> };
    const allowed = LOG_LEVELS.indexOf('warning');
    assert.deepEqual(shown.logs, asJson(burst.logs!.filter((entry) => LOG_LEVELS.indexOf(entry.level) <= allowed)));
    assert.equal(shown.logs.length, 6, 'fatal, error, warning of each of the two rounds of five levels');
  });

  test('the human form lists the fields, the error, and the log lines', async () => {
    const failed = tasks.find((task) => task.status === 'failed')!;
    const { code, stdout } = await cli(['show', dir, failed.uuid, '--logs']);
    assert.equal(code, 0);
    assert.match(stdout, new RegExp(`^uuid: +${failed.uuid}$`, 'm'));
    assert.match(stdout, /^status: +failed$/m);
    assert.match(stdout, /^error: +Error \[E_BOOM\]: boom \{"detail":\{"attempt":1\}\}$/m);

    const burst = tasks.find((task) => task.operation === 'log-burst' && task.maxLogs === 4)!;
    const shown = await cli(['show', dir, burst.uuid, '--logs']);
    assert.match(shown.stdout, /^logs: +4 stored, 6 dropped$/m);
    const logLines = shown.stdout.split('\n').filter((line) => /^\d{4}-\d\d-\d\dT\S+Z {2}\w+ +line \d/.test(line));
    assert.deepEqual(logLines.map((line) => /line \d+/.exec(line)![0]), ['line 0', 'line 1', 'line 2', 'line 3']);
    assert.match(logLines[0]!, /Z {2}fatal {4}line 0 {2}\{"i":0\}$/);
  });

  test('an unknown uuid exits 1 with a message on stderr', async () => {
    const { code, stdout, stderr } = await cli(['show', dir, '00000000-0000-0000-0000-000000000000']);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.match(stderr, /No task 00000000-0000-0000-0000-000000000000 in /);
    assert.equal((await cli(['logs', dir, 'nope'])).code, 1);
  });
});

describe('tasker logs', () => {
  test('prints the entries, --level filters, --json is an array', async () => {
    const burst = tasks.find((task) => task.operation === 'log-burst' && task.maxLogs === undefined)!;
    const all = await cli(['logs', dir, burst.uuid]);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout.trimEnd().split('\n').length, 10);
    const errors = await cli(['logs', dir, burst.uuid, '--level', 'error', '--json']);
    assert.deepEqual(JSON.parse(errors.stdout), asJson(burst.logs!.filter((entry) => entry.level === 'fatal' || entry.level === 'error')));
    // An ended task: --follow prints what there is and exits 0 at once.
    const followed = await cli(['logs', dir, burst.uuid, '--follow', '--json']);
    assert.equal(followed.code, 0);
    assert.deepEqual(followed.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as unknown), asJson(burst.logs));
  });
});

describe('tasker stats', () => {
  test('counts, oldest new task, run and wait percentiles and dropped logs match the tasks', async () => {
    const before = Date.now();
    const { code, stdout, stderr } = await cli(['stats', dir, '--json']);
    assert.equal(code, 0, stderr);
    const stats = JSON.parse(stdout) as {
      tasks: number;
      byStatus: Record<string, number>;
      byOperation: Record<string, Record<string, number>>;
      oldestNew: { uuid: string; createdAt: string; ageMs: number };
      runTimeMs: { count: number; p50: number; p90: number; p99: number };
      waitTimeMs: { count: number; p50: number; p90: number; p99: number };
      logsStored: number;
      logsDropped: number;
    };
    const count = (status: string): number => tasks.filter((task) => task.status === status).length;
    assert.equal(stats.tasks, 8);
    assert.deepEqual(stats.byStatus, { new: 2, running: 0, done: count('done'), failed: 1, aborted: 1 });
    assert.equal(count('done'), 4);
    assert.deepEqual(stats.byOperation['echo'], { total: 2, new: 0, running: 0, done: 2, failed: 0, aborted: 0 });
    assert.deepEqual(stats.byOperation['later'], { total: 2, new: 2, running: 0, done: 0, failed: 0, aborted: 0 });
    const oldest = tasks.filter((task) => task.status === 'new').sort((x, y) => x.createdAt.getTime() - y.createdAt.getTime())[0]!;
    assert.equal(stats.oldestNew.uuid, oldest.uuid);
    assert.equal(stats.oldestNew.createdAt, oldest.createdAt.toISOString());
    assert.ok(stats.oldestNew.ageMs >= before - oldest.createdAt.getTime());
    const ran = tasks.filter((task) => task.startedAt !== undefined && task.endedAt !== undefined);
    assert.equal(ran.length, 6, 'the hang task ran before its abort');
    const runTimes = ran.map((task) => task.endedAt!.getTime() - task.startedAt!.getTime());
    const waitTimes = tasks.filter((task) => task.startedAt !== undefined).map((task) => task.startedAt!.getTime() - task.createdAt.getTime());
    assert.deepEqual(stats.runTimeMs, { count: 6, p50: nearestRank(runTimes, 50), p90: nearestRank(runTimes, 90), p99: nearestRank(runTimes, 99) });
    assert.deepEqual(stats.waitTimeMs, { count: 6, p50: nearestRank(waitTimes, 50), p90: nearestRank(waitTimes, 90), p99: nearestRank(waitTimes, 99) });
    assert.equal(stats.logsDropped, 6);
    assert.equal(stats.logsStored, tasks.reduce((sum, task) => sum + task.logs!.length, 0));

    const human = await cli(['stats', dir]);
    assert.match(human.stdout, /^tasks: +8$/m);
    assert.match(human.stdout, /^logs: +\d+ stored, 6 dropped$/m);
    assert.match(human.stdout, /^later +2 +2 +0 +0 +0 +0$/m);
  });
});

describe('tasker usage', () => {
  test('bad commands, flags and arguments exit 2 with a message and a hint to --help', async () => {
    const cases: string[][] = [
      [],
      ['frob'],
      ['--frob'],
      ['list'],
      ['list', dir, '--bogus'],
      ['list', dir, 'extra'],
      ['list', dir, '--limit', '-1'],
      ['list', dir, '--limit', 'ten'],
      ['list', dir, '--status', 'finished'],
      ['list', dir, '--query', '{"status":'],
      ['list', dir, '--query', '[1]'],
      ['list', dir, '--query', '{"$where":"this.priority > 0"}'],
      ['list', dir, '--query', '{"status":{"$frob":1}}'],
      ['list', dir, '--sort', 'priority:up'],
      ['list', dir, '--sort'],
      ['show', dir],
      ['show', dir, 'x', '--level', 'loud', '--logs'],
      ['show', dir, 'x', '--level', 'info'],
      ['logs', dir, 'x', '--level', 'verbose'],
      ['stats', dir, '--json=1'],
    ];
    for (const args of cases) {
      const { code, stdout, stderr } = await cli(args);
      assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
      assert.match(stderr, /--help/, args.join(' '));
      if (args.length > 0) assert.equal(stdout, '', args.join(' '));
    }
    const where = await cli(['list', dir, '--query', '{"$where":"1"}']);
    assert.match(where.stderr, /\$where/);
  });

  test('--help everywhere and --version', async () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const { code, stdout } = await cli(args);
      assert.equal(code, 0);
      assert.match(stdout, /^Usage: tasker <command>/);
      assert.match(stdout, /Exit codes: 0 ok, 1 task not found, 2 usage error, 3 store unreadable/);
    }
    for (const command of ['list', 'show', 'logs', 'stats']) {
      const { code, stdout } = await cli([command, '--help']);
      assert.equal(code, 0);
      assert.match(stdout, new RegExp(`^Usage: tasker ${command} <persistDir>`));
    }
    const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const version = await cli(['--version']);
    assert.equal(version.code, 0);
    assert.equal(version.stdout, `${manifest.version}\n`);
  });
});

describe('tasker on an unreadable store', () => {
  test('a missing directory, a directory that is no store, a corrupt journal: exit 3', async (t) => {
    const parent = await tempDir(t);
    const missing = await cli(['list', join(parent, 'nope')]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /does not exist/);

    const empty = await cli(['stats', parent]);
    assert.equal(empty.code, 3);
    assert.match(empty.stderr, /is not a Tasker store/);

    const corrupt = join(parent, 'corrupt');
    await mkdir(corrupt);
    const task = { uuid: 'u1', operation: 'op', priority: 0, status: 'new', createdAt: '2026-01-01T00:00:00.000Z' };
    await writeFile(join(corrupt, 'journal-0.jsonl'), `${JSON.stringify({ put: task })}\n{"put": nonsense}\n${JSON.stringify({ put: task })}\n`);
    for (const args of [['list', corrupt], ['show', corrupt, 'u1'], ['logs', corrupt, 'u1'], ['stats', corrupt]]) {
      const result = await cli(args);
      assert.equal(result.code, 3, args.join(' '));
      assert.match(result.stderr, /ERR_STORE_CORRUPT: Store file \S+journal-0\.jsonl has a line that is not a valid change \(line 2\)/);
    }
  });

  test('a torn last line (a write in progress) is ignored and left as it is', async (t) => {
    const store = await tempDir(t);
    const task = { uuid: 'u1', operation: 'op', priority: 0, status: 'new', createdAt: '2026-01-01T00:00:00.000Z' };
    await writeFile(join(store, 'journal-0.jsonl'), `${JSON.stringify({ put: task })}\n`);
    await appendFile(join(store, 'journal-0.jsonl'), '{"put":{"uuid":"u2","oper');
    const files = await filesOf(store);
    const { code, stdout, stderr } = await cli(['list', store, '--json']);
    assert.equal(code, 0, stderr);
    assert.deepEqual((JSON.parse(stdout) as Task[]).map((entry) => entry.uuid), ['u1']);
    assert.deepEqual(await filesOf(store), files, 'the torn line was not cut off: the CLI writes nothing');
  });
});

describe('tasker beside a running Tasker', () => {
  test('takes no lock, leaves every file byte-identical, and the Tasker keeps working', async (t) => {
    const store = await tempDir(t);
    const tasker = createTasker(t, { persistDir: store });
    tasker.assignRunner('echo', runner('echo'));
    const first = await tasker.addTask({ operation: 'echo', data: { n: 1 } });
    await tasker.start();
    await tasker.waitForTaskOutputData(first);
    await tasker.onIdle();
    const files = await filesOf(store);
    assert.ok(files.has('lock'), 'the running Tasker holds the lock');
    for (const args of [['list', store], ['show', store, first, '--logs'], ['logs', store, first, '--follow'], ['stats', store, '--json']]) {
      const result = await cli(args);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    }
    assert.deepEqual(await filesOf(store), files, 'no file was created, changed or removed (the lock included)');
    const second = await tasker.addTask({ operation: 'echo', data: { n: 2 } });
    assert.deepEqual(await tasker.waitForTaskOutputData(second), { n: 2 });
    const listed = await cli(['list', store, '--json']);
    assert.deepEqual((JSON.parse(listed.stdout) as Task[]).map((task) => task.uuid).sort(), [first, second].sort());
  });

  test('logs --follow prints entries as they are written, across compactions, and exits 0 when the task ends', async (t) => {
    const store = await tempDir(t);
    const journal = new JournalStore(store, { logger: quiet });
    const tasker = createTasker(t, { store: journal, logger: quiet });
    tasker.assignRunner('talk', runner('log-on-demand'));
    const channel = `cli-follow-${process.pid}-${Date.now()}`;
    const bc = new BroadcastChannel(channel);
    t.after(() => bc.close());
    const uuid = await tasker.addTask({ operation: 'talk', data: { channel } });
    const runs = new Promise<void>((resolve) => tasker.on('task.run', (id) => id === uuid && resolve()));
    await tasker.start();
    await runs;

    const follow = new LiveCli(['logs', store, uuid, '--follow']);
    await follow.line(/ info +ready/);
    bc.postMessage({ log: 'first' });
    await follow.line(/ info +first /);
    await journal.compact(); // journal G+1 starts, snapshot rewritten, journal G deleted
    bc.postMessage({ log: 'second', level: 'warning' });
    await follow.line(/ warning +second /);
    await journal.compact();
    await journal.compact();
    bc.postMessage({ log: 'third', level: 'debug' });
    await follow.line(/ debug +third /);
    bc.postMessage('release');
    const { code, stdout, stderr } = await follow.exited;
    assert.equal(code, 0, stderr);
    assert.deepEqual(
      stdout.trimEnd().split('\n').map((line) => line.split(/ +/)[2]),
      ['ready', 'first', 'second', 'third'],
      'every entry exactly once, in order',
    );
    assert.equal(await tasker.waitForTaskOutputData(uuid), 3);
  });

  test('logs --follow --json --level prints JSON lines of the kept levels; SIGINT stops it with 130', async (t) => {
    const store = await tempDir(t);
    const tasker = createTasker(t, { persistDir: store, logger: quiet });
    tasker.assignRunner('talk', runner('log-on-demand'));
    const channel = `cli-sigint-${process.pid}-${Date.now()}`;
    const bc = new BroadcastChannel(channel);
    t.after(() => bc.close());
    const uuid = await tasker.addTask({ operation: 'talk', data: { channel } });
    // The runner listens once it has logged 'ready'.
    const ready = new Promise<void>((resolve) => tasker.on('task.log', (id, entry) => id === uuid && entry.message === 'ready' && resolve()));
    await tasker.start();
    await ready;
    const follow = new LiveCli(['logs', store, uuid, '--follow', '--json', '--level', 'warning']);
    bc.postMessage({ log: 'skipped', level: 'info' });
    bc.postMessage({ log: 'kept', level: 'error' });
    const line = await follow.line(/kept/);
    assert.deepEqual(Object.keys(JSON.parse(line) as object), ['level', 'message', 'timestamp', 'data']);
    follow.child.kill('SIGINT');
    const { code, stdout } = await follow.exited;
    assert.equal(code, 130);
    assert.ok(!stdout.includes('skipped') && !stdout.includes('ready'), 'info entries are filtered out');
    bc.postMessage('release');
    assert.equal(await tasker.waitForTaskOutputData(uuid), 2);
  });
});

describe('tasker colour', () => {
  test('FORCE_COLOR forces escape codes; NO_COLOR and a pipe give none', async () => {
    const forced = await cli(['list', dir], { FORCE_COLOR: '1' });
    assert.ok(forced.stdout.includes('\x1b['), 'FORCE_COLOR=1 colours');
    const stripped = forced.stdout.replace(/\x1b\[[0-9;]*m/g, '');
    const plain = await cli(['list', dir], { NO_COLOR: '1' });
    assert.ok(!plain.stdout.includes('\x1b['));
    assert.equal(stripped.replace(/ +$/gm, ''), plain.stdout, 'colour changes nothing but the escape codes');
    const zero = await cli(['stats', dir], { FORCE_COLOR: '0' });
    assert.ok(!zero.stdout.includes('\x1b['));
  });
});
