/**
 * Command-line arguments: node:util's parseArgs (strict), then checks of each
 * value, so that every mistake is a usage error (exit 2) with a hint to --help.
 */
import { parseArgs } from 'node:util';
import { decodeJsonValue, setOwn } from '../json-value.js';
import { compileQuery, validateSort, type QueryTester } from '../query.js';
import { TaskerError } from '../errors.js';
import { LOG_LEVELS, type LogLevel, type TaskSort, type TaskStatus } from '../types.js';
import { usageError } from './errors.js';

export const COMMANDS = ['list', 'show', 'logs', 'stats'] as const;
export type Command = (typeof COMMANDS)[number];

const STATUSES: readonly TaskStatus[] = ['new', 'running', 'done', 'failed', 'aborted'];

export const GLOBAL_HELP = `Usage: tasker <command> <persistDir> [options]

Reads a Tasker store (the persistDir of a Tasker) without changing it; safe
while the owning process runs (no lock is taken, nothing is written).

Commands:
  list <persistDir>           tasks as a table (filters, query, sort, limit)
  show <persistDir> <uuid>    one task, with its logs on request
  logs <persistDir> <uuid>    a task's logs; --follow tails them until it ends
  stats <persistDir>          counts, oldest queued task, run and wait times

Options:
  -h, --help       help (also: tasker <command> --help)
  -v, --version    the version

Exit codes: 0 ok, 1 task not found, 2 usage error, 3 store unreadable
(missing directory, not a store, corrupt file), 130 interrupted (logs --follow).
Colour: only on a terminal; NO_COLOR disables it, FORCE_COLOR (not 0) forces it.`;

export const HELP: Record<Command, string> = {
  list: `Usage: tasker list <persistDir> [options]

Lists tasks: by default queued tasks in run order, then running, then ended.

Options:
  --status <s>         only tasks with this status (new, running, done, failed,
                       aborted); repeat for several
  --operation <op>     only tasks of this operation; repeat for several
  --query <json>       a Mongo-style query (sift, as findTasks), e.g.
                       '{"data.book":"b1","priority":{"$gte":5}}';
                       a date is written {"$$date":"2026-01-01T00:00:00Z"}
  --sort <field>[:asc|desc]
                       sort by a field (dot paths allowed); repeat for
                       secondary keys. Default direction asc
  --limit <n>          at most n tasks (after sorting)
  --json               a JSON array of tasks (dates as ISO strings)
  -h, --help           this help`,
  show: `Usage: tasker show <persistDir> <uuid> [options]

Shows one task's fields (data, result, error, attempts...).

Options:
  --logs               include its logs
  --level <level>      with --logs: the least severe level shown
                       (fatal, error, warning, info, debug; default debug)
  --json               the task as one JSON object (dates as ISO strings)
  -h, --help           this help

Exits 1 if no task has this uuid.`,
  logs: `Usage: tasker logs <persistDir> <uuid> [options]

Prints a task's log entries.

Options:
  --level <level>      the least severe level shown (fatal, error, warning,
                       info, debug; default debug)
  --follow, -f         then print new entries as the owning Tasker writes them,
                       until the task ends (exit 0) or Ctrl-C (exit 130)
  --json               a JSON array of entries; with --follow, one JSON
                       object per line
  -h, --help           this help

Exits 1 if no task has this uuid (or it is removed while followed).`,
  stats: `Usage: tasker stats <persistDir> [options]

Counts per status and per operation, the oldest queued (new) task, run time
(endedAt - startedAt of ended tasks) and wait time (startedAt - createdAt)
percentiles p50/p90/p99 (nearest rank), stored and dropped log entries.

Options:
  --json               one JSON object (times in milliseconds)
  -h, --help           this help`,
};

export interface ListArgs {
  command: 'list';
  dir: string;
  statuses: TaskStatus[];
  operations: string[];
  query: QueryTester | null;
  sort: TaskSort | null;
  limit: number | null;
  json: boolean;
}

export interface ShowArgs {
  command: 'show';
  dir: string;
  uuid: string;
  logs: boolean;
  level: LogLevel;
  json: boolean;
}

export interface LogsArgs {
  command: 'logs';
  dir: string;
  uuid: string;
  level: LogLevel;
  follow: boolean;
  json: boolean;
}

export interface StatsArgs {
  command: 'stats';
  dir: string;
  json: boolean;
}

export type ParsedArgs =
  | ListArgs
  | ShowArgs
  | LogsArgs
  | StatsArgs
  | { command: 'help'; text: string }
  | { command: 'version' };

const help = { type: 'boolean', short: 'h' } as const;
const json = { type: 'boolean' } as const;

export function parseCommandLine(argv: readonly string[]): ParsedArgs {
  const [first, ...rest] = argv;
  if (first === undefined) throw usageError('Missing command.');
  if (first === '-h' || first === '--help' || first === 'help') {
    const topic = rest[0];
    return { command: 'help', text: topic !== undefined && isCommand(topic) ? HELP[topic] : GLOBAL_HELP };
  }
  if (first === '-v' || first === '--version') return { command: 'version' };
  if (!isCommand(first)) {
    throw usageError(first.startsWith('-') ? `Unknown option '${first}'.` : `Unknown command '${first}'.`);
  }
  try {
    return parseCommand(first, rest);
  } catch (error) {
    // parseArgs' own errors (unknown flag, missing value) are usage errors too.
    if ((error as { code?: unknown }).code?.toString().startsWith('ERR_PARSE_ARGS') === true) {
      throw usageError((error as Error).message, first);
    }
    throw error;
  }
}

function parseCommand(command: Command, args: string[]): ParsedArgs {
  switch (command) {
    case 'list': {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        strict: true,
        options: {
          help,
          json,
          status: { type: 'string', multiple: true },
          operation: { type: 'string', multiple: true },
          query: { type: 'string' },
          sort: { type: 'string', multiple: true },
          limit: { type: 'string' },
        },
      });
      if (values.help === true) return { command: 'help', text: HELP.list };
      const [dir] = expectPositionals(command, positionals, ['persistDir']);
      return {
        command,
        dir,
        statuses: (values.status ?? []).map((status) => parseStatus(status)),
        operations: values.operation ?? [],
        query: values.query === undefined ? null : parseQuery(values.query),
        sort: values.sort === undefined ? null : parseSort(values.sort),
        limit: values.limit === undefined ? null : parseLimit(values.limit),
        json: values.json === true,
      };
    }
    case 'show': {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        strict: true,
        options: { help, json, logs: { type: 'boolean' }, level: { type: 'string' } },
      });
      if (values.help === true) return { command: 'help', text: HELP.show };
      const [dir, uuid] = expectPositionals(command, positionals, ['persistDir', 'uuid']);
      if (values.level !== undefined && values.logs !== true) throw usageError('--level needs --logs.', command);
      return { command, dir, uuid, logs: values.logs === true, level: parseLevel(values.level, command), json: values.json === true };
    }
    case 'logs': {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        strict: true,
        options: { help, json, level: { type: 'string' }, follow: { type: 'boolean', short: 'f' } },
      });
      if (values.help === true) return { command: 'help', text: HELP.logs };
      const [dir, uuid] = expectPositionals(command, positionals, ['persistDir', 'uuid']);
      return { command, dir, uuid, level: parseLevel(values.level, command), follow: values.follow === true, json: values.json === true };
    }
    case 'stats': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: { help, json } });
      if (values.help === true) return { command: 'help', text: HELP.stats };
      const [dir] = expectPositionals(command, positionals, ['persistDir']);
      return { command, dir, json: values.json === true };
    }
  }
}

function isCommand(name: string): name is Command {
  return (COMMANDS as readonly string[]).includes(name);
}

function expectPositionals<const Names extends readonly string[]>(
  command: Command,
  positionals: string[],
  names: Names,
): { [K in keyof Names]: string } {
  if (positionals.length < names.length) {
    throw usageError(`Missing ${names.slice(positionals.length).map((name) => `<${name}>`).join(' and ')}.`, command);
  }
  if (positionals.length > names.length) {
    throw usageError(`Unexpected argument '${positionals[names.length]!}'.`, command);
  }
  for (const [i, value] of positionals.entries()) {
    if (value === '') throw usageError(`<${names[i]!}> is empty.`, command);
  }
  return positionals as unknown as { [K in keyof Names]: string };
}

function parseStatus(value: string): TaskStatus {
  if (!(STATUSES as readonly string[]).includes(value)) {
    throw usageError(`--status must be one of ${STATUSES.join(', ')}; got '${value}'.`, 'list');
  }
  return value as TaskStatus;
}

function parseLevel(value: string | undefined, command: Command): LogLevel {
  if (value === undefined) return 'debug';
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw usageError(`--level must be one of ${LOG_LEVELS.join(', ')}; got '${value}'.`, command);
  }
  return value as LogLevel;
}

function parseLimit(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw usageError(`--limit must be a non-negative integer; got '${value}'.`, 'list');
  }
  return Number(value);
}

/** `--query` is JSON, compiled by the library's compileQuery (which refuses $where and the like). */
function parseQuery(text: string): QueryTester {
  let query: unknown;
  try {
    query = JSON.parse(text);
  } catch (error) {
    throw usageError(`--query is not valid JSON: ${(error as Error).message}`, 'list');
  }
  try {
    // {"$$date": "…"} stands for a Date, as in the store's files.
    return compileQuery(decodeJsonValue(query), '--query');
  } catch (error) {
    if (error instanceof TaskerError) throw usageError(error.message, 'list');
    throw error;
  }
}

function parseSort(specs: string[]): TaskSort {
  const sort: Record<string, 1 | -1> = {};
  for (const spec of specs) {
    const match = /^([^:]+)(?::(asc|desc))?$/.exec(spec);
    if (match === null) throw usageError(`--sort must be <field>[:asc|desc]; got '${spec}'.`, 'list');
    const field = match[1]!;
    if (Object.hasOwn(sort, field)) throw usageError(`--sort names '${field}' twice.`, 'list');
    setOwn(sort, field, match[2] === 'desc' ? -1 : 1); // a field named __proto__ stays a field
  }
  try {
    return validateSort(sort);
  } catch (error) {
    if (error instanceof TaskerError) throw usageError(error.message, 'list');
    throw error;
  }
}
