/**
 * The file piscina loads in each worker thread. piscina first require()s its
 * entry, then falls back to import() when that yields no function; with an ES
 * module entry that fallback ran through Node's require(esm) and, rarely under
 * load, left a thread with "No handler function exported" (every task sent to
 * it failed). A CommonJS entry gives require() a function at once, and the ES
 * module host is imported here, once per thread, beginning at thread start.
 */
import path = require('node:path');
import url = require('node:url');
import type { RunRequest, RunResponse } from '../src/protocol.js';

type Host = typeof import('./runner-host.js');

const host: Promise<Host> = import(url.pathToFileURL(path.join(__dirname, 'runner-host.js')).href);
/** Once loaded, tasks call the host directly, without a turn through the promise. */
let loaded: Host['default'] | null = null;
host.then(
  (module) => {
    loaded = module.default;
  },
  // A failed import is reported by the first task that awaits it, not as an unhandled rejection.
  () => {},
);

function runTask(request: RunRequest): Promise<RunResponse> {
  return loaded !== null ? loaded(request) : host.then((module) => module.default(request));
}

export = runTask;
