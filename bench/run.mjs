// `npm run bench` runs every scenario; `npm run bench -- <name> [<name>…]` some;
// `--quick` a reduced size of each (seconds, for CI); `--json` machine-readable
// results. Each scenario runs in a fresh process, one after another, so that
// none warms up or loads the machine for another.
import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

const SCENARIOS = {
  throughput: 'throughput.mjs',
  abort: 'abort.mjs',
  'abort-reuse': 'abort-reuse.mjs',
  persistence: 'persistence.mjs',
  'event-loop': 'event-loop.mjs',
  'log-flood': 'log-flood.mjs',
  progress: 'progress.mjs',
  'cpu-1ms': 'cpu-1ms.mjs',
  latency: 'latency.mjs',
  drain: 'drain.mjs',
  conditions: 'conditions.mjs',
  query: 'query.mjs',
  memory: 'memory.mjs',
  retention: 'retention.mjs',
};

const args = process.argv.slice(2);
const flags = args.filter((arg) => arg.startsWith('--'));
const names = args.filter((arg) => !arg.startsWith('--'));
for (const name of names) {
  if (!(name in SCENARIOS)) {
    console.error(`Unknown scenario '${name}'. Scenarios: ${Object.keys(SCENARIOS).join(', ')}`);
    process.exit(2);
  }
}
const json = flags.includes('--json');
// A scenario that hangs must fail the run, not stall it (CI has a time limit).
const SCENARIO_TIMEOUT_MS = (flags.includes('--quick') ? 5 : 30) * 60_000;
const selected = names.length > 0 ? names : Object.keys(SCENARIOS);
const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const results = {};
if (!json) console.log(`Machine: ${machine}${flags.includes('--quick') ? ' (--quick: reduced sizes)' : ''}\n`);
for (const name of selected) {
  const script = fileURLToPath(new URL(`./${SCENARIOS[name]}`, import.meta.url));
  const child = spawnSync(process.execPath, ['--expose-gc', script, ...flags], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: SCENARIO_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 2 ** 20,
  });
  if (child.status !== 0) {
    const timedOut = child.error?.code === 'ETIMEDOUT' ? ` after the ${SCENARIO_TIMEOUT_MS / 60_000} min limit` : '';
    console.error(`Scenario '${name}' failed${timedOut} (exit ${child.status}, signal ${child.signal}):\n${child.stdout}`);
    process.exit(1);
  }
  if (json) {
    results[name] = JSON.parse(child.stdout);
  } else {
    console.log(`## ${name}\n\n${child.stdout.trim()}\n`);
  }
}
if (json) console.log(JSON.stringify({ machine, results }, null, 2));
