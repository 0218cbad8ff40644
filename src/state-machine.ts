/**
 * The one table that decides every status change. A change is applied only
 * from the status the caller expects, so two racing paths (an abort and the
 * end of a run, say) can never both win: the loser sees the status it expected
 * is gone and does nothing.
 */
import type { TaskStatus } from './types.js';

export const TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  // new → failed: the task could not be started (its concurrency condition could not be evaluated).
  new: ['running', 'aborted', 'failed'],
  // running → new: retried after a failure, or requeued (a stop, postponeTask, an interrupted run at start-up).
  running: ['done', 'failed', 'aborted', 'new'],
  done: [],
  failed: [],
  aborted: [],
};

export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isEnded(status: TaskStatus): status is 'done' | 'failed' | 'aborted' {
  return TRANSITIONS[status].length === 0;
}
