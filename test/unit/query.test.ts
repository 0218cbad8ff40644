import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TaskerError } from 'tasker';
import { compareValues, compileQuery, getPath, makeComparator, validateCount, validateSort } from '../../dist/src/query.js';

/** Asserts `fn` throws a TaskerError with code ERR_INVALID_QUERY whose message matches `message`. */
function invalidQuery(fn: () => unknown, message?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof TaskerError, `expected a TaskerError, got ${String(error)}`);
    assert.equal(error.code, 'ERR_INVALID_QUERY');
    if (message !== undefined) assert.match(error.message, message);
    return true;
  });
}

const createdAt = new Date('2024-06-01T00:00:00.000Z');
const doc = {
  uuid: 'u1',
  id: { tenant: 't1', n: 7 },
  operation: 'convert',
  status: 'new',
  priority: 3,
  createdAt,
  data: {
    book: 'b1',
    nested: { depth: { value: 42 } },
    tags: ['a', 'b'],
    items: [{ sku: 'x', qty: 1 }, { sku: 'y', qty: 5 }],
    when: new Date('2024-01-01T00:00:00.000Z'),
  },
};

describe('compileQuery refuses queries that execute code', () => {
  test('$where as a string or a function, at any depth', () => {
    invalidQuery(() => compileQuery({ $where: 'this.priority > 1' }), /\$where/);
    invalidQuery(() => compileQuery({ $where: function (this: { priority: number }) { return this.priority > 1; } }), /\$where/);
    invalidQuery(() => compileQuery({ $or: [{ status: 'new' }, { $where: 'true' }] }), /query\.\$or\.1 uses \$where/);
    invalidQuery(() => compileQuery({ data: { $elemMatch: { $where: 'true' } } }), /\$where/);
  });

  test('$function, $accumulator and $expr', () => {
    invalidQuery(() => compileQuery({ $expr: { $gt: ['$priority', 1] } }), /\$expr/);
    invalidQuery(() => compileQuery({ $function: { body: 'return true', args: [], lang: 'js' } }), /\$function/);
    invalidQuery(() => compileQuery({ $and: [{ $accumulator: {} }] }), /\$accumulator/);
  });

  test('function values anywhere in the query', () => {
    invalidQuery(() => compileQuery({ priority: () => true }), /query\.priority is a function/);
    invalidQuery(() => compileQuery({ 'data.book': { $in: ['b1', () => 'b1'] } }), /function/);
  });

  test('non-object queries', () => {
    for (const query of [null, undefined, 'status', 42, true, [], [{ status: 'new' }], () => true]) {
      invalidQuery(() => compileQuery(query), /must be a plain object/);
    }
  });

  test('the label given by the caller names the query in the message', () => {
    invalidQuery(() => compileQuery(5, 'concurrency[2].query'), /^concurrency\[2\]\.query must be a plain object/);
    invalidQuery(() => compileQuery({ $where: 'x' }, 'concurrency[0].query'), /^concurrency\[0\]\.query uses \$where/);
  });

  test('unknown operators and malformed operator arguments', () => {
    invalidQuery(() => compileQuery({ $foo: 1 }), /not a valid query.*\$foo/);
    invalidQuery(() => compileQuery({ priority: { $bogus: 1 } }), /\$bogus/);
    invalidQuery(() => compileQuery({ 'data.book': { $regex: '(' } }), /not a valid query/);
  });

  test('absurdly deep queries are refused, not a stack overflow', () => {
    let query: Record<string, unknown> = { status: 'new' };
    for (let i = 0; i < 100; i++) query = { $and: [query] };
    invalidQuery(() => compileQuery(query), /nested too deeply/);
  });

  test('the refused query is never evaluated: a $where function is not called', () => {
    let called = false;
    invalidQuery(() => compileQuery({ $where: () => (called = true) }));
    assert.equal(called, false);
  });
});

describe('compileQuery matches documents', () => {
  test('top-level fields and the empty query', () => {
    assert.equal(compileQuery({})(doc), true);
    assert.equal(compileQuery({ status: 'new' })(doc), true);
    assert.equal(compileQuery({ status: 'done' })(doc), false);
    assert.equal(compileQuery({ operation: 'convert', priority: { $gte: 3 } })(doc), true);
  });

  test('dot paths reach into data and id', () => {
    assert.equal(compileQuery({ 'data.book': 'b1' })(doc), true);
    assert.equal(compileQuery({ 'data.book': 'b2' })(doc), false);
    assert.equal(compileQuery({ 'data.nested.depth.value': 42 })(doc), true);
    assert.equal(compileQuery({ 'data.nested.depth.value': { $lt: 42 } })(doc), false);
    assert.equal(compileQuery({ 'data.tags': 'b' })(doc), true, 'array contains');
    assert.equal(compileQuery({ 'data.tags.0': 'a' })(doc), true, 'array index');
    assert.equal(compileQuery({ 'data.items.sku': 'y' })(doc), true, 'path through an array of objects');
    assert.equal(compileQuery({ 'data.items': { $elemMatch: { sku: 'x', qty: { $gt: 1 } } } })(doc), false);
    assert.equal(compileQuery({ 'id.tenant': 't1' })(doc), true);
    assert.equal(compileQuery({ 'data.missing.deeper': { $exists: false } })(doc), true);
  });

  test('$in and $gt/$lt on Dates compare times, not identities', () => {
    const same = new Date(createdAt.getTime());
    const earlier = new Date('2024-01-01T00:00:00.000Z');
    const later = new Date('2025-01-01T00:00:00.000Z');
    assert.equal(compileQuery({ createdAt: same })(doc), true);
    assert.equal(compileQuery({ createdAt: { $in: [earlier, same] } })(doc), true);
    assert.equal(compileQuery({ createdAt: { $in: [earlier, later] } })(doc), false);
    assert.equal(compileQuery({ createdAt: { $nin: [same] } })(doc), false);
    assert.equal(compileQuery({ createdAt: { $gt: earlier } })(doc), true);
    assert.equal(compileQuery({ createdAt: { $gt: same } })(doc), false);
    assert.equal(compileQuery({ createdAt: { $gte: same, $lt: later } })(doc), true);
    assert.equal(compileQuery({ 'data.when': { $lt: createdAt } })(doc), true);
    assert.equal(compileQuery({ 'data.when': { $gt: later } })(doc), false);
  });

  test('$or, $and, $not, $ne, $regex with a RegExp', () => {
    assert.equal(compileQuery({ $or: [{ status: 'done' }, { 'data.book': 'b1' }] })(doc), true);
    assert.equal(compileQuery({ $and: [{ status: 'new' }, { priority: { $ne: 3 } }] })(doc), false);
    assert.equal(compileQuery({ priority: { $not: { $gt: 5 } } })(doc), true);
    assert.equal(compileQuery({ operation: { $regex: /^con/ } })(doc), true);
    assert.equal(compileQuery({ operation: /^x/ })(doc), false);
  });
});

describe('getPath', () => {
  test('reads own properties along a dot path and nothing inherited', () => {
    assert.equal(getPath(doc, 'data.nested.depth.value'), 42);
    assert.equal(getPath(doc, 'data.tags.1'), 'b');
    assert.equal(getPath(doc, 'data.nope.x'), undefined);
    assert.equal(getPath(doc, 'toString'), undefined);
    assert.equal(getPath(doc, 'data.constructor'), undefined);
    assert.equal(getPath(doc, 'data.__proto__'), undefined);
    assert.equal(getPath(null, 'a'), undefined);
  });
});

describe('makeComparator', () => {
  const tasks = [
    { uuid: 'a', priority: 0, createdAt: new Date(3000) },
    { uuid: 'b', priority: Infinity, createdAt: new Date(5000) },
    { uuid: 'c', priority: 0, createdAt: new Date(1000) },
    { uuid: 'd', priority: -Infinity, createdAt: new Date(0) },
    { uuid: 'e', priority: 7, createdAt: new Date(2000) },
    { uuid: 'f', priority: 0, createdAt: new Date(2000) },
  ];

  test('sorts by several keys with directions; Infinity priorities at the ends', () => {
    const sorted = [...tasks].sort(makeComparator({ priority: -1, createdAt: 1 }));
    assert.deepEqual(sorted.map((t) => t.uuid), ['b', 'e', 'c', 'f', 'a', 'd']);
    const ascending = [...tasks].sort(makeComparator({ priority: 1, createdAt: -1 }));
    assert.deepEqual(ascending.map((t) => t.uuid), ['d', 'a', 'f', 'c', 'e', 'b']);
  });

  test('sorts by dot paths into data', () => {
    const docs = [{ data: { n: 2 } }, { data: { n: 10 } }, { data: { n: -1 } }];
    assert.deepEqual([...docs].sort(makeComparator({ 'data.n': 1 })).map((d) => d.data.n), [-1, 2, 10]);
    assert.deepEqual([...docs].sort(makeComparator({ 'data.n': -1 })).map((d) => d.data.n), [10, 2, -1]);
  });

  test('orders mixed types: missing < null < numbers < strings < objects < booleans < dates', () => {
    const values: unknown[] = [new Date(0), true, { a: 1 }, 'str', 5, null, undefined, false, -Infinity, 'A'];
    const docs = values.map((v, i) => (v === undefined ? { i } : { i, v }));
    const sorted = [...docs].sort(makeComparator({ v: 1 })).map((d) => d.i);
    assert.deepEqual(sorted, [6, 5, 8, 4, 9, 3, 2, 7, 1, 0]);
  });

  test('the empty sort and equal keys compare as 0', () => {
    assert.equal(makeComparator({})(tasks[0], tasks[1]), 0);
    assert.equal(makeComparator({ priority: 1 })(tasks[0], tasks[2]), 0);
    assert.equal(compareValues(new Date(5), new Date(5)), 0);
    assert.ok(compareValues('a', 'b') < 0);
    assert.ok(compareValues(2, 1) > 0);
  });
});

describe('validateSort', () => {
  test('accepts objects of 1 and -1', () => {
    const sort = { priority: -1, createdAt: 1 } as const;
    assert.equal(validateSort(sort), sort);
    assert.deepEqual(validateSort({}), {});
  });

  test('refuses non-objects and other directions with ERR_INVALID_QUERY', () => {
    for (const sort of [null, undefined, 'priority', 1, [], [['priority', 1]]]) invalidQuery(() => validateSort(sort), /sort must be an object/);
    for (const direction of [0, 2, '1', 'asc', true, null, -2, 1.5]) {
      invalidQuery(() => validateSort({ priority: direction }), /sort\.priority must be 1 or -1/);
    }
  });
});

describe('validateCount', () => {
  test('accepts non-negative integers', () => {
    assert.equal(validateCount(0, 'limit'), 0);
    assert.equal(validateCount(25, 'skip'), 25);
    assert.equal(validateCount(Number.MAX_SAFE_INTEGER, 'limit'), Number.MAX_SAFE_INTEGER);
  });

  test('refuses everything else with ERR_INVALID_QUERY, naming the option', () => {
    for (const value of [-1, 1.5, NaN, Infinity, -Infinity, '3', null, undefined, 2n]) {
      invalidQuery(() => validateCount(value, 'limit'), /^limit must be a non-negative integer/);
      invalidQuery(() => validateCount(value, 'skip'), /^skip must be a non-negative integer/);
    }
  });
});
