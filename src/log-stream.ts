/** The async iterable returned by `listenTaskLogs`: every entry, in order (see async-stream.ts). */
import { AsyncStream } from './async-stream.js';
import type { LogEntry } from './types.js';

export class LogStream extends AsyncStream<LogEntry> {}
