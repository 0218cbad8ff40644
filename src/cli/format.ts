/**
 * Output for people (aligned tables, colour on a terminal) and for scripts
 * (one JSON document, dates as ISO strings).
 */
import { styleText } from 'node:util';
import type { LogEntry, LogLevel, TaskStatus } from '../types.js';

type Style = Parameters<typeof styleText>[0];

/**
 * Colour only for a terminal: FORCE_COLOR (other than 0/false) forces it,
 * FORCE_COLOR=0 or NO_COLOR (non-empty) disables it, else stdout must be a
 * TTY whose TERM is not dumb.
 */
export function useColour(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  const force = env['FORCE_COLOR'];
  if (force !== undefined) return force !== '0' && force !== 'false';
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  return isTTY && env['TERM'] !== 'dumb';
}

export class Painter {
  readonly enabled: boolean;
  constructor(enabled: boolean) {
    this.enabled = enabled;
  }

  paint(style: Style, text: string): string {
    return this.enabled && text !== '' ? styleText(style, text) : text;
  }

  status(status: TaskStatus, text: string = status): string {
    return this.paint(STATUS_STYLE[status], text);
  }

  level(level: LogLevel, text: string = level): string {
    return this.paint(LEVEL_STYLE[level], text);
  }
}

const STATUS_STYLE: Record<TaskStatus, Style> = { new: 'blue', running: 'cyan', done: 'green', failed: 'red', aborted: 'yellow' };
const LEVEL_STYLE: Record<LogLevel, Style> = { fatal: ['red', 'bold'], error: 'red', warning: 'yellow', info: 'reset', debug: 'dim' };

export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
  align?: 'left' | 'right';
  /** Colours the padded cell. */
  style?: (row: Row, padded: string) => string;
}

/** An aligned table: widths from the plain text, colour applied after padding. */
export function table<Row>(rows: readonly Row[], columns: readonly Column<Row>[], painter: Painter): string {
  const cells = rows.map((row) => columns.map((column) => column.value(row)));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((row) => row[i]!.length)));
  const pad = (text: string, i: number): string =>
    columns[i]!.align === 'right' ? text.padStart(widths[i]!) : text.padEnd(widths[i]!);
  const last = columns.length - 1;
  const trim = (line: string): string => line.replace(/\s+$/, '');
  const lines = [painter.paint('bold', trim(columns.map((column, i) => pad(column.header, i)).join('  ')))];
  for (const [r, row] of cells.entries()) {
    lines.push(
      trim(
        row
          .map((text, i) => {
            const padded = i === last && columns[i]!.align !== 'right' ? text : pad(text, i);
            const style = columns[i]!.style;
            return style === undefined ? padded : style(rows[r]!, padded);
          })
          .join('  '),
      ),
    );
  }
  return lines.join('\n');
}

/** `key  value` lines, keys aligned. */
export function fields(pairs: ReadonlyArray<readonly [string, string]>, painter: Painter): string {
  const width = Math.max(0, ...pairs.map(([key]) => key.length));
  return pairs
    .map(([key, value]) => `${painter.paint('bold', (key + ':').padEnd(width + 1))}  ${value.replace(/\n/g, '\n' + ' '.repeat(width + 3))}`)
    .join('\n');
}

/** `2026-01-02T03:04:05.678Z` → `2026-01-02 03:04:05Z` (UTC, to the second). */
export function formatDate(date: Date | undefined): string {
  if (date === undefined) return '-';
  return date.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/** 850ms, 4.2s, 3m04s, 2h05m, 3d04h. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const s = Math.floor(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`;
}

export function formatPriority(priority: number): string {
  return priority === Infinity ? '+inf' : priority === -Infinity ? '-inf' : String(priority);
}

/** A value on one line, as compact JSON (dates as ISO strings). */
export function inlineJson(value: unknown): string {
  return JSON.stringify(value, jsonReplacer) ?? String(value);
}

/** A log line: `time  LEVEL    message  {data}`. */
export function formatLog(entry: LogEntry, painter: Painter): string {
  const level = painter.level(entry.level, entry.level.padEnd(7));
  const data = entry.data === undefined ? '' : `  ${painter.paint('dim', inlineJson(entry.data))}`;
  return `${painter.paint('dim', entry.timestamp.toISOString())}  ${level}  ${entry.message}${data}`;
}

/**
 * For scripts: one JSON document. Dates become ISO strings (Date.toJSON);
 * the priorities ±Infinity, which JSON cannot hold, become "Infinity"/"-Infinity"
 * as in the store's files.
 */
export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, jsonReplacer, indent);
}

function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}
