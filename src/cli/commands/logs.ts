/** `tasker logs`: a task's log entries; with --follow, new ones until the task ends. */
import { filterLogs } from '../../registry.js';
import type { LogEntry } from '../../types.js';
import type { LogsArgs } from '../args.js';
import { CliError, ExitCodes } from '../errors.js';
import { followTask } from '../follow.js';
import { formatLog, toJson } from '../format.js';
import type { Output } from '../output.js';
import { readStore } from '../reader.js';
import { findTask } from './show.js';

export async function logs(args: LogsArgs, out: Output, signal: AbortSignal): Promise<number> {
  const view = await readStore(args.dir);
  const task = findTask(view.tasks, args.uuid, view.dir);
  if (!args.follow) {
    const entries = filterLogs(task.logs, args.level);
    if (args.json) out.line(toJson(entries));
    else for (const entry of entries) out.line(formatLog(entry, out.painter));
    return ExitCodes.OK;
  }
  // Following: one line per entry (JSON Lines with --json), as they come.
  const print = (entries: readonly LogEntry[]): void => {
    for (const entry of filterLogs(entries, args.level)) out.line(args.json ? toJson(entry, 0) : formatLog(entry, out.painter));
  };
  print(task.logs);
  if (task.status === 'done' || task.status === 'failed' || task.status === 'aborted') return ExitCodes.OK;
  const end = await followTask({ dir: view.dir, uuid: args.uuid, task, position: view.position, onLogs: print, signal });
  switch (end) {
    case 'ended':
      return ExitCodes.OK;
    case 'interrupted':
      return ExitCodes.INTERRUPTED;
    case 'removed':
      throw new CliError(ExitCodes.NOT_FOUND, `Task ${args.uuid} was removed from ${view.dir}.`);
  }
}
