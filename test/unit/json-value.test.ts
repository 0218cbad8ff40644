import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JsonValueError, copyJsonValue, decodeJsonValue, encodeJsonValue } from '../../dist/src/json-value.js';

/** Asserts that copyJsonValue refuses `value` with a JsonValueError at `path`, whose message matches `reason`. */
function refuses(value: unknown, path: string, reason: RegExp, root = 'data'): void {
  assert.throws(
    () => copyJsonValue(value, root),
    (error: unknown) => {
      assert.ok(error instanceof JsonValueError, `expected a JsonValueError, got ${String(error)}`);
      assert.equal(error.name, 'JsonValueError');
      assert.equal(error.path, path);
      assert.ok(error.message.startsWith(`${path} `), `message "${error.message}" starts with the path ${path}`);
      assert.match(error.message, reason);
      return true;
    },
  );
}

/** Storage round trip: encode, through JSON text, decode. */
function roundTrip(value: unknown): unknown {
  return decodeJsonValue(JSON.parse(JSON.stringify(encodeJsonValue(value))));
}

describe('copyJsonValue accepts JSON-compatible values', () => {
  test('scalars are returned as they are', () => {
    for (const value of [null, true, false, 0, -0.5, 42, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, '', 'héllo 🎉 \u0000 \u2028']) {
      assert.equal(copyJsonValue(value, 'data'), value);
    }
  });

  test('arrays and plain objects are deep-copied and share nothing', () => {
    const inner = { c: [1, 'two', null, [true]] };
    const input = { a: 1, b: inner, list: [inner, { d: 'x' }] };
    const copy = copyJsonValue(input, 'data') as typeof input;
    assert.deepEqual(copy, input);
    assert.notEqual(copy, input);
    assert.notEqual(copy.b, inner);
    assert.notEqual(copy.b.c, inner.c);
    assert.notEqual(copy.list[0], inner);
    (copy.b.c as unknown[]).push('mutated');
    assert.equal(inner.c.length, 4, 'the original is untouched');
  });

  test('the same object reached twice (not a cycle) is accepted and copied twice', () => {
    const shared = { x: 1 };
    const copy = copyJsonValue({ a: shared, b: shared, list: [shared, shared] }, 'data') as Record<string, unknown>;
    assert.deepEqual(copy, { a: { x: 1 }, b: { x: 1 }, list: [{ x: 1 }, { x: 1 }] });
    assert.notEqual(copy['a'], copy['b']);
  });

  test('objects with a null prototype are accepted', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare['k'] = 'v';
    bare['nested'] = Object.assign(Object.create(null) as object, { n: 1 });
    const copy = copyJsonValue({ bare }, 'data') as { bare: Record<string, unknown> };
    assert.deepEqual(Object.keys(copy.bare), ['k', 'nested']);
    assert.equal(copy.bare['k'], 'v');
    assert.equal((copy.bare['nested'] as Record<string, unknown>)['n'], 1);
  });

  test('valid Dates are copied as new Date objects with the same time', () => {
    const when = new Date('2024-02-29T12:34:56.789Z');
    const copy = copyJsonValue({ when, list: [when] }, 'data') as { when: Date; list: Date[] };
    assert.ok(copy.when instanceof Date);
    assert.equal(copy.when.getTime(), when.getTime());
    assert.notEqual(copy.when, when);
    assert.equal(copy.list[0]!.getTime(), when.getTime());
    when.setTime(0);
    assert.equal(copy.when.toISOString(), '2024-02-29T12:34:56.789Z');
  });

  test('object properties that are undefined are dropped, at any depth', () => {
    const copy = copyJsonValue({ a: 1, b: undefined, nested: { c: undefined, d: null } }, 'data') as Record<string, unknown>;
    assert.deepEqual(copy, { a: 1, nested: { d: null } });
    assert.equal(Object.hasOwn(copy, 'b'), false);
    assert.equal(Object.hasOwn(copy['nested'] as object, 'c'), false);
  });
});

describe('copyJsonValue refuses what JSON cannot represent, naming the path', () => {
  test('functions', () => {
    refuses(() => 1, 'data', /function/);
    refuses({ a: [0, 1, { b: () => 1 }] }, 'data.a[2].b', /function/);
    refuses({ a: class Foo {} }, 'data.a', /function/);
  });

  test('symbols', () => {
    refuses(Symbol('s'), 'data', /symbol/);
    refuses({ s: Symbol.iterator }, 'data.s', /symbol/);
  });

  test('BigInt', () => {
    refuses(10n, 'data', /BigInt/);
    refuses([1, 2n], 'data[1]', /BigInt/);
  });

  test('NaN, Infinity and -Infinity', () => {
    refuses(NaN, 'data', /NaN/);
    refuses({ n: Infinity }, 'data.n', /Infinity/);
    refuses({ deep: { list: [1, -Infinity] } }, 'data.deep.list[1]', /-Infinity/);
  });

  test('undefined at the top and as array items (holes included)', () => {
    refuses(undefined, 'data', /undefined/);
    refuses([1, undefined, 3], 'data[1]', /undefined/);
    // eslint-disable-next-line no-sparse-arrays
    refuses({ list: [1, , 3] }, 'data.list[1]', /undefined/);
  });

  test('class instances, Map, Set, RegExp, typed arrays, Errors and boxed values', () => {
    class Point {
      x = 1;
    }
    refuses(new Point(), 'data', /instance of Point/);
    refuses({ m: new Map([[1, 2]]) }, 'data.m', /instance of Map/);
    refuses({ s: new Set([1]) }, 'data.s', /instance of Set/);
    refuses({ r: /x/ }, 'data.r', /instance of RegExp/);
    refuses({ u: new Uint8Array(2) }, 'data.u', /instance of Uint8Array/);
    refuses({ e: new Error('x') }, 'data.e', /instance of Error/);
    refuses({ b: Object(1) as unknown }, 'data.b', /instance of Number/);
    refuses({ o: Object.create({ inherited: 1 }) as unknown }, 'data.o', /instance of/);
  });

  test('cycles through objects and arrays', () => {
    const obj: Record<string, unknown> = { a: {} };
    (obj['a'] as Record<string, unknown>)['back'] = obj;
    refuses(obj, 'data.a.back', /circular/);
    const arr: unknown[] = [1];
    arr.push(arr);
    refuses({ arr }, 'data.arr[1]', /circular/);
  });

  test('invalid Dates', () => {
    refuses({ when: new Date('not a date') }, 'data.when', /invalid Date/);
    refuses([new Date(NaN)], 'data[0]', /invalid Date/);
  });

  test('the path starts at the root name given by the caller', () => {
    refuses({ x: NaN }, 'concurrency[0].query.x', /NaN/, 'concurrency[0].query');
  });
});

describe('__proto__ as an own key', () => {
  test('stays data in the copy and never pollutes Object.prototype', () => {
    const input = JSON.parse('{"__proto__": {"polluted": true, "isAdmin": true}, "a": 1, "x": {"__proto__": {"polluted": 2}}}') as object;
    assert.equal(Object.hasOwn(input, '__proto__'), true, 'JSON.parse makes it an own key');
    const copy = copyJsonValue(input, 'data') as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(copy), Object.prototype);
    assert.equal(Object.hasOwn(copy, '__proto__'), true);
    assert.deepEqual(Object.keys(copy), ['__proto__', 'a', 'x']);
    assert.equal(copy['polluted'], undefined);
    assert.equal(copy['isAdmin'], undefined);
    const own = Object.getOwnPropertyDescriptor(copy, '__proto__')!.value as Record<string, unknown>;
    assert.deepEqual(own, { polluted: true, isAdmin: true });
    const nested = copy['x'] as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(nested), Object.prototype);
    assert.equal(nested['polluted'], undefined);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal(({} as Record<string, unknown>)['isAdmin'], undefined);
  });

  test('survives the storage round trip as an own key', () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}, "list": [{"__proto__": [1]}]}') as object;
    const back = roundTrip(input) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(back), Object.prototype);
    assert.equal(Object.hasOwn(back, '__proto__'), true);
    assert.equal(back['polluted'], undefined);
    assert.deepEqual(Object.getOwnPropertyDescriptor(back, '__proto__')!.value, { polluted: true });
    const item = (back['list'] as Array<Record<string, unknown>>)[0]!;
    assert.equal(Object.hasOwn(item, '__proto__'), true);
    assert.deepEqual(Object.getOwnPropertyDescriptor(item, '__proto__')!.value, [1]);
    assert.equal(Array.isArray(item), false);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  test('encodeJsonValue writes it as a key, not a prototype', () => {
    const input = JSON.parse('{"__proto__": {"$$date": 1}}') as object;
    const encoded = encodeJsonValue(input) as object;
    assert.equal(JSON.stringify(encoded), '{"__proto__":{"$$$date":1}}');
  });
});

describe('encodeJsonValue / decodeJsonValue', () => {
  test('a Date is stored as {"$$date": ISO} and read back as a Date', () => {
    const when = new Date('2025-12-31T23:59:59.999Z');
    assert.deepEqual(encodeJsonValue(when), { $$date: '2025-12-31T23:59:59.999Z' });
    const back = decodeJsonValue({ $$date: '2025-12-31T23:59:59.999Z' });
    assert.ok(back instanceof Date);
    assert.equal(back.getTime(), when.getTime());
  });

  test('nested Dates in objects and arrays round-trip', () => {
    const value = {
      at: new Date(0),
      list: [new Date('2000-01-01T00:00:00Z'), { deeper: [new Date('1969-07-20T20:17:40Z')] }],
      name: 'x',
    };
    const back = roundTrip(value) as typeof value;
    assert.deepEqual(back, value);
    assert.ok(back.at instanceof Date);
    assert.ok((back.list[1] as { deeper: Date[] }).deeper[0] instanceof Date);
  });

  test('user keys that look like tags or operators round-trip unchanged', () => {
    const value = {
      $$date: 5,
      $where: 'this.a > 1',
      $$$x: 'three',
      $$: 'two only',
      $: 'one',
      $$$$y: 4,
      'a.b.c': 'dotted',
      '': 'empty key',
      nested: { $$date: 'not-a-date', $in: [1, 2], '$$date.x': true },
    };
    assert.deepEqual(roundTrip(value), value);
  });

  test('user {"$$date": …} objects are escaped and never decoded as Dates', () => {
    assert.deepEqual(encodeJsonValue({ $$date: 5 }), { $$$date: 5 });
    assert.deepEqual(encodeJsonValue({ $$date: '2020-01-01T00:00:00.000Z' }), { $$$date: '2020-01-01T00:00:00.000Z' });
    assert.deepEqual(encodeJsonValue({ $$$x: 1 }), { $$$$x: 1 });
    const looksLikeDate = { $$date: '2020-01-01T00:00:00.000Z' };
    const back = roundTrip(looksLikeDate);
    assert.equal(back instanceof Date, false);
    assert.deepEqual(back, looksLikeDate);
    // A user object holding a real Date under the tag key.
    const tagged = { $$date: new Date('2020-01-01T00:00:00Z') };
    assert.deepEqual(roundTrip(tagged), tagged);
    // The tag with a non-string value, or with other keys, is not a Date either.
    assert.deepEqual(decodeJsonValue({ $$date: 5 }), { $$date: 5 });
    assert.equal(decodeJsonValue({ $$date: '2020-01-01T00:00:00.000Z', other: 1 }) instanceof Date, false);
  });

  test('unicode keys and values round-trip', () => {
    const value = { 'ключ': 'значение', '鍵': ['値', '🎉'], 'e\u0301': 'combining', '\u{1F600}': { '\u2028': '\uFFFF' } };
    assert.deepEqual(roundTrip(value), value);
  });

  test('scalars, arrays and empty containers round-trip', () => {
    for (const value of [null, true, false, 0, -1.25, 'text', [], {}, [null, [[]], {}], { a: [] }]) {
      assert.deepEqual(roundTrip(value), value);
    }
  });

  test('a copied value round-trips to a deep-equal value', () => {
    const copy = copyJsonValue({ when: new Date(123), $$date: { $$date: 'x' }, arr: [1, { 'x.y': null }] }, 'data');
    assert.deepEqual(roundTrip(copy), copy);
  });
});
