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

/**
 * The document as `JSON.stringify` should write it. Its own Dates need nothing:
 * `JSON.stringify` writes a Date as its `toISOString()`. Only nested values
 * holding Dates or `$$` keys, and an infinite priority, need a copy of the
 * document: most documents are written as they are.
 */
export function encodeTask(task: TaskDoc): object {
  let out: Json | null = null;
  for (const field of NESTED_FIELDS) {
    const value = task[field];
    if (value === undefined) continue;
    const encoded = encodeJsonValue(value);
    if (encoded !== value) (out ??= { ...task })[field] = encoded;
  }
  if (!Number.isFinite(task.priority)) (out ??= { ...task })['priority'] = String(task.priority);
  return out ?? task;
}

/** Decodes a freshly parsed document, reusing it (see `decodeJsonValue`). */
export function decodeTask(json: Json): TaskDoc {
  for (const field of DATE_FIELDS) {
    if (typeof json[field] === 'string') json[field] = parseIsoDate(json[field] as string);
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
  json['timestamp'] = parseIsoDate(json['timestamp'] as string);
  if (json['data'] !== undefined) json['data'] = decodeJsonValue(json['data']);
  return json as unknown as LogEntry;
}

/**
 * `new Date(text)` for the strings `toISOString()` writes
 * (`YYYY-MM-DDTHH:mm:ss.sssZ`), read by hand: a load decodes six of them per
 * task, and this is about twice as fast as the engine's general date parser.
 * Anything else, or out of range, goes to `new Date` and gets its answer.
 */
export function parseIsoDate(text: string): Date {
  if (text.length !== 24 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 84 || text.charCodeAt(13) !== 58 ||
    text.charCodeAt(16) !== 58 || text.charCodeAt(19) !== 46 || text.charCodeAt(23) !== 90) {
    return new Date(text);
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hours = digits(text, 11, 2);
  const minutes = digits(text, 14, 2);
  const seconds = digits(text, 17, 2);
  const millis = digits(text, 20, 3);
  // Date.UTC reads years 0-99 as 1900-1999, and would roll a month 13 or a second 60 over where the parser refuses them.
  if (year < 100 || month < 1 || month > 12 || day < 1 || day > 31 || hours < 0 || hours > 23 || minutes < 0 || minutes > 59 || seconds < 0 || seconds > 59 || millis < 0) {
    return new Date(text);
  }
  return new Date(Date.UTC(year, month - 1, day, hours, minutes, seconds, millis));
}

/** The number written with `count` decimal digits at `start`, or -1 if any is not a digit. */
function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}
