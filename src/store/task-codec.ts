/**
 * Task documents to and from plain JSON, for files a person can open and grep.
 * Dates become ISO strings, `±Infinity` priorities become strings, and values
 * inside `id`, `data`, `result`, errors, `progress` and log data keep their Dates and
 * their `$`-keys through `encodeJsonValue`/`decodeJsonValue`.
 */
import { decodeJsonValue, encodeJsonValue } from '../json-value.js';
import type { LogEntry } from '../types.js';
import type { TaskDoc } from './task-store.js';

type Json = Record<string, unknown>;

const NESTED_FIELDS = ['id', 'data', 'result', 'error', 'abortReason', 'concurrency', 'attempts', 'retry', 'progress'] as const;
const DATE_FIELDS = ['createdAt', 'startedAt', 'endedAt', 'runAfter', 'queuedAt'] as const;

export function encodeTask(task: TaskDoc): Json {
  const out: Json = { ...task };
  for (const field of DATE_FIELDS) {
    const value = task[field];
    if (value !== undefined) out[field] = value.toISOString();
  }
  for (const field of NESTED_FIELDS) {
    if (task[field] !== undefined) out[field] = encodeJsonValue(task[field]);
  }
  if (!Number.isFinite(task.priority)) out['priority'] = String(task.priority);
  return out;
}

/** Decodes a freshly parsed document, reusing it (see `decodeJsonValue`). */
export function decodeTask(json: Json): TaskDoc {
  for (const field of DATE_FIELDS) {
    if (typeof json[field] === 'string') json[field] = new Date(json[field] as string);
  }
  for (const field of NESTED_FIELDS) {
    if (json[field] !== undefined) json[field] = decodeJsonValue(json[field]);
  }
  if (typeof json['priority'] === 'string') json['priority'] = Number(json['priority']);
  return json as unknown as TaskDoc;
}

export function encodeLog(entry: LogEntry): Json {
  const out: Json = { level: entry.level, message: entry.message, timestamp: entry.timestamp.toISOString() };
  if (entry.data !== undefined) out['data'] = encodeJsonValue(entry.data);
  return out;
}

/** Decodes a freshly parsed log entry, reusing it. */
export function decodeLog(json: Json): LogEntry {
  json['timestamp'] = new Date(json['timestamp'] as string);
  if (json['data'] !== undefined) json['data'] = decodeJsonValue(json['data']);
  return json as unknown as LogEntry;
}
