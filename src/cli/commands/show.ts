/** `tasker show`: one task's fields, and its logs on request. */
import { filterLogs } from '../../registry.js';
import type { ShowArgs } from '../args.js';
import { CliError, ExitCodes } from '../errors.js';
import { fields, formatDate, formatDuration, formatLog, formatPriority, inlineJson, toJson } from '../format.js';
import type { Output } from '../output.js';
import { readStore, type StoredTaskView } from '../reader.js';
import { duration, withoutLogs } from './list.js';

export async function show(args: ShowArgs, out: Output): Promise<number> {
  const { dir, tasks } = await readStore(args.dir);
  const task = findTask(tasks, args.uuid, dir);
  const logs = filterLogs(task.logs, args.level);
  if (args.json) {
    out.line(toJson(args.logs ? { ...withoutLogs(task), logs } : withoutLogs(task)));
    return 0;
  }
  const { painter } = out;
  const pairs: Array<[string, string]> = [
    ['uuid', task.uuid],
    ['operation', task.operation],
    ['status', painter.status(task.status)],
    ['priority', formatPriority(task.priority)],
  ];
  const optional = (key: string, value: string | undefined): void => {
    if (value !== undefined) pairs.push([key, value]);
  };
  optional('id', task.id === undefined ? undefined : inlineJson(task.id));
  optional('dedupeKey', task.dedupeKey);
  pairs.push(['created', formatDate(task.createdAt)]);
  optional('queued', task.queuedAt && formatDate(task.queuedAt));
  optional('runAfter', task.runAfter && formatDate(task.runAfter));
  optional('started', task.startedAt && formatDate(task.startedAt));
  optional('ended', task.endedAt && formatDate(task.endedAt));
  optional('waited', task.startedAt && formatDuration(task.startedAt.getTime() - task.createdAt.getTime()));
  optional('duration', task.startedAt && formatDuration(duration(task, Date.now())));
  optional('terminated', task.terminated === undefined ? undefined : String(task.terminated));
  optional('attempts', task.attempts && task.attempts.map((a) => `#${a.attempt} ${a.outcome} (${formatDuration(a.endedAt.getTime() - a.startedAt.getTime())})`).join(', '));
  optional('data', task.data === undefined ? undefined : inlineJson(task.data));
  optional('result', task.result === undefined ? undefined : inlineJson(task.result));
  optional('error', task.error === undefined ? undefined : describeError(task.error));
  optional('abortReason', task.abortReason === undefined ? undefined : describeError(task.abortReason));
  pairs.push(['logs', `${task.logs.length} stored${task.logsDropped ? `, ${task.logsDropped} dropped` : ''}`]);
  out.line(fields(pairs, painter));
  if (args.logs) {
    out.line('');
    for (const entry of logs) out.line(formatLog(entry, painter));
  }
  return 0;
}

export function findTask(tasks: readonly StoredTaskView[], uuid: string, dir: string): StoredTaskView {
  const task = tasks.find((candidate) => candidate.uuid === uuid);
  if (task === undefined) throw new CliError(ExitCodes.NOT_FOUND, `No task ${uuid} in ${dir}.`);
  return task;
}

function describeError(error: unknown): string {
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') {
    const { name, message, code } = error as { name?: unknown; message: string; code?: unknown };
    const head = `${typeof name === 'string' ? name : 'Error'}${typeof code === 'string' ? ` [${code}]` : ''}: ${message}`;
    const { name: _n, message: _m, code: _c, stack: _s, ...rest } = error as Record<string, unknown>;
    return Object.keys(rest).length === 0 ? head : `${head} ${inlineJson(rest)}`;
  }
  return inlineJson(error);
}
