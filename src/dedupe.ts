/**
 * Deduplication at `addTask({ dedupe })`: finds the tasks a new one would
 * duplicate (same `dedupeKey`, or matching a query) among the `new` and
 * `running` tasks — and, with `includeEnded`, those ended within that window.
 *
 * Atomic check-then-insert: the engine stores a task before it enters the
 * registry, so two concurrent adds would both pass a check of the registry
 * alone. Every add in flight is therefore registered here (its document, and
 * its key) from its check until its write settles; a check that finds one
 * that may be a duplicate waits for it to settle and checks again. The check
 * and the registration happen in one synchronous step.
 *
 * Cost: by key, a map lookup plus the key's new/running tasks (normally one)
 * and its most recently ended one; by query, a scan of every task and of the
 * adds in flight (O(n), as `findTasks`).
 */
import type { Clock } from './clock.js';
import type { ValidDedupe } from './dedupe-options.js';
import { DuplicateTaskError } from './errors.js';
import type { Registry, TaskRecord } from './registry.js';
import { isEnded } from './state-machine.js';
import type { TaskDoc } from './store/task-store.js';
import type { TaskObserver } from './task-observer.js';

interface KeyEntry {
  /** Tasks with this key, new or running when last seen (the status is checked live). */
  active: Set<TaskRecord>;
  ended: Set<TaskRecord>;
  /** The ended task with the latest endedAt: the only one an includeEnded window needs. */
  newestEnded: TaskRecord | null;
}

interface InFlight {
  doc: TaskDoc;
  /** Made only when an add waits on this one (see settledPromise): most adds are never waited on. */
  settled: Promise<void> | null;
  settle: (() => void) | null;
}

export type Admission =
  | { kind: 'add' }
  /** 'return-existing': no task is added, the caller gets this uuid. */
  | { kind: 'existing'; uuid: string };

export class Deduper implements TaskObserver {
  readonly #registry: Registry;
  readonly #clock: Clock;
  readonly #byKey = new Map<string, KeyEntry>();
  /** Adds checked but not yet stored (or failed), by uuid and by dedupe key. */
  readonly #inFlight = new Map<string, InFlight>();
  readonly #inFlightByKey = new Map<string, InFlight>();

  constructor(registry: Registry, clock: Clock) {
    this.#registry = registry;
    this.#clock = clock;
  }

  // ---- the index, fed by the engine ----------------------------------------

  added(record: TaskRecord): void {
    const key = record.doc.dedupeKey;
    if (key === undefined) return;
    let entry = this.#byKey.get(key);
    if (entry === undefined) this.#byKey.set(key, (entry = { active: new Set(), ended: new Set(), newestEnded: null }));
    if (isEnded(record.doc.status)) this.ended(record);
    else entry.active.add(record);
  }

  ended(record: TaskRecord): void {
    const entry = this.#entry(record);
    if (entry === undefined) return;
    entry.active.delete(record);
    entry.ended.add(record);
    if (entry.newestEnded === null || endedAt(record) >= endedAt(entry.newestEnded)) entry.newestEnded = record;
  }

  removed(record: TaskRecord): void {
    const entry = this.#entry(record);
    if (entry === undefined) return;
    entry.active.delete(record);
    entry.ended.delete(record);
    if (entry.newestEnded === record) {
      // Rare (removals go oldest first): find the next newest among this key's ended tasks.
      entry.newestEnded = null;
      for (const other of entry.ended) if (entry.newestEnded === null || endedAt(other) > endedAt(entry.newestEnded)) entry.newestEnded = other;
    }
    if (entry.active.size === 0 && entry.ended.size === 0) this.#byKey.delete(record.doc.dedupeKey!);
  }

  #entry(record: TaskRecord): KeyEntry | undefined {
    const key = record.doc.dedupeKey;
    return key === undefined ? undefined : this.#byKey.get(key);
  }

  // ---- admission of an add ---------------------------------------------------

  /** An add without a `dedupe` option: checks nothing, at once, but is tracked in flight for the adds that check. */
  admitUnchecked(doc: TaskDoc): Admission {
    this.#register(doc);
    return { kind: 'add' };
  }

  /**
   * Decides whether `doc` may be added; when it may, registers it as in
   * flight (call `settled(uuid)` once its write has settled). Without
   * `dedupe`, only registers it (a query of a later add may match it).
   * 'reject' throws ERR_DUPLICATE_TASK; 'return-existing' returns the
   * duplicate; 'replace' calls `replace` with the new/running duplicates and
   * waits for it (the key stays reserved meanwhile).
   */
  async admit(dedupe: ValidDedupe | undefined, doc: TaskDoc, replace: (records: TaskRecord[]) => Promise<void>): Promise<Admission> {
    if (dedupe === undefined) return this.admitUnchecked(doc);
    for (;;) {
      const busy = this.#inFlightDuplicate(dedupe);
      if (busy !== undefined) {
        await settledPromise(busy);
        continue;
      }
      const found = this.#duplicates(dedupe);
      if (found.length === 0 || dedupe.mode === 'replace') {
        this.#register(doc);
        const running = found.filter((record) => !isEnded(record.doc.status));
        if (running.length > 0) {
          try {
            await replace(running);
          } catch (error) {
            this.settled(doc.uuid);
            throw error;
          }
        }
        return { kind: 'add' };
      }
      const existing = pick(found);
      if (dedupe.mode === 'return-existing') return { kind: 'existing', uuid: existing.doc.uuid };
      const what = dedupe.key !== null ? `dedupe key ${JSON.stringify(dedupe.key)}` : 'the dedupe query';
      throw new DuplicateTaskError(existing.doc.uuid, `Task ${existing.doc.uuid} (${existing.doc.status}) already matches ${what}`);
    }
  }

  /** The add of `uuid` was stored (it is in the registry now) or failed: it is no longer in flight. */
  settled(uuid: string): void {
    const inFlight = this.#inFlight.get(uuid);
    if (inFlight === undefined) return;
    this.#inFlight.delete(uuid);
    const key = inFlight.doc.dedupeKey;
    if (key !== undefined && this.#inFlightByKey.get(key) === inFlight) this.#inFlightByKey.delete(key);
    inFlight.settle?.();
  }

  #register(doc: TaskDoc): void {
    const inFlight: InFlight = { doc, settled: null, settle: null };
    this.#inFlight.set(doc.uuid, inFlight);
    if (doc.dedupeKey !== undefined) this.#inFlightByKey.set(doc.dedupeKey, inFlight);
  }

  /** An add in flight that may be a duplicate: its outcome decides ours. */
  #inFlightDuplicate(dedupe: ValidDedupe): InFlight | undefined {
    if (dedupe.key !== null) return this.#inFlightByKey.get(dedupe.key);
    for (const inFlight of this.#inFlight.values()) if (dedupe.query!.test(inFlight.doc)) return inFlight;
    return undefined;
  }

  /** The tasks in scope that the new one would duplicate. */
  #duplicates(dedupe: ValidDedupe): TaskRecord[] {
    const since = dedupe.includeEnded === null ? null : this.#clock.now() - dedupe.includeEnded;
    const inScope = (record: TaskRecord): boolean =>
      !isEnded(record.doc.status) || (since !== null && endedAt(record) >= since);
    if (dedupe.key !== null) {
      const entry = this.#byKey.get(dedupe.key);
      if (entry === undefined) return [];
      // A task in `active` may have ended a moment ago (its end not yet announced): the live status decides.
      const found = [...entry.active].filter(inScope);
      if (entry.newestEnded !== null && inScope(entry.newestEnded)) found.push(entry.newestEnded);
      return found;
    }
    const test = dedupe.query!.test;
    const found: TaskRecord[] = [];
    for (const record of this.#registry.values()) if (inScope(record) && test(record.doc)) found.push(record);
    return found;
  }
}

/** Settles when the add in flight is stored or has failed. */
function settledPromise(inFlight: InFlight): Promise<void> {
  return (inFlight.settled ??= new Promise<void>((resolve) => (inFlight.settle = resolve)));
}

function endedAt(record: TaskRecord): number {
  return record.doc.endedAt?.getTime() ?? -Infinity;
}

/** The duplicate to name: the first added among new/running ones, else the latest ended. */
function pick(found: TaskRecord[]): TaskRecord {
  let best = found[0]!;
  for (const record of found) {
    const bestActive = !isEnded(best.doc.status);
    const active = !isEnded(record.doc.status);
    if (active !== bestActive ? active : active ? record.seq < best.seq : endedAt(record) > endedAt(best)) best = record;
  }
  return best;
}
