import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TaskerError, type JsonValue, type LogEntry, type TaskDoc } from 'tasker';
import { compileProjection } from '../../dist/src/projection.js';

/** Asserts `fn` throws a TaskerError ERR_INVALID_QUERY whose message matches `message`. */
function invalidQuery(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof TaskerError, `expected a TaskerError, got ${String(error)}`);
    assert.equal(error.code, 'ERR_INVALID_QUERY');
    assert.match(error.message, message);
    return true;
  });
}

const createdAt = new Date('2024-06-01T00:00:00.000Z');
const endedAt = new Date('2024-06-01T00:00:01.000Z');

function makeDoc(): TaskDoc {
  return {
    uuid: 'u1',
    id: { tenant: 't1' },
    operation: 'convert',
    data: {
      file: 'a.jpg',
      size: { width: 640, height: 480 },
      tags: ['x', 'y'],
      pages: [{ n: 1, text: 'one' }, 7, [{ n: 2, text: 'two' }], { text: 'three' }],
      count: 3,
    },
    priority: 2,
    status: 'done',
    createdAt,
    startedAt: createdAt,
    endedAt,
    result: { bytes: 1234, path: '/out/a.png' },
  };
}

const logs: LogEntry[] = [
  { level: 'info', message: 'start', data: { step: 1 }, timestamp: createdAt },
  { level: 'debug', message: 'end', timestamp: endedAt },
];

/** Compiles and applies a projection to a fresh document, with the logs when `withLogs`. */
function project(projection: unknown, withLogs = false): Record<string, unknown> {
  const apply = compileProjection(projection, { withLogs });
  return apply(makeDoc(), withLogs ? () => logs : undefined) as unknown as Record<string, unknown>;
}

describe('inclusion', () => {
  test('keeps only the named fields, and uuid', () => {
    assert.deepEqual(project({ status: 1, priority: 1 }), { uuid: 'u1', status: 'done', priority: 2 });
    assert.deepEqual(project({ uuid: 1, status: 1 }), { uuid: 'u1', status: 'done' });
    assert.deepEqual(project({ uuid: 1 }), { uuid: 'u1' });
  });

  test('uuid: 0 leaves uuid out (the one exception to mixing 1 and 0)', () => {
    assert.deepEqual(project({ uuid: 0, status: 1 }), { status: 'done' });
    assert.deepEqual(project({ status: 1, uuid: false }), { status: 'done' });
  });

  test('true and false count as 1 and 0', () => {
    assert.deepEqual(project({ status: true, result: true }), project({ status: 1, result: 1 }));
    assert.deepEqual(project({ uuid: true }), { uuid: 'u1' });
  });

  test('fields come in the document order, whatever the projection order', () => {
    assert.deepEqual(Object.keys(project({ result: 1, status: 1, operation: 1 })), ['uuid', 'operation', 'status', 'result']);
  });

  test('a field the task does not have is absent', () => {
    const out = project({ status: 1, error: 1, abortReason: 1 });
    assert.deepEqual(out, { uuid: 'u1', status: 'done' });
    assert.equal('error' in out, false);
  });

  test('Dates stay Dates, and everything kept is a copy', () => {
    const doc = makeDoc();
    const out = compileProjection({ createdAt: 1, data: 1, id: 1 })(doc, undefined) as unknown as Record<string, unknown>;
    assert.ok(out['createdAt'] instanceof Date);
    assert.equal((out['createdAt'] as Date).getTime(), createdAt.getTime());
    assert.notEqual(out['createdAt'], doc.createdAt);
    assert.deepEqual(out['data'], doc.data);
    assert.notEqual(out['data'], doc.data);
    assert.notEqual(out['id'], doc.id);
  });
});

describe('exclusion', () => {
  test('keeps every field but the named ones', () => {
    const { data: _data, result: _result, ...rest } = makeDoc();
    assert.deepEqual(project({ data: 0, result: 0 }), rest);
    assert.deepEqual(project({ data: false, result: false }), rest);
  });

  test('uuid: 0 leaves uuid out; uuid: 1 changes nothing', () => {
    const { uuid: _uuid, data: _data, ...rest } = makeDoc();
    assert.deepEqual(project({ uuid: 0 }), { ...rest, data: makeDoc().data });
    assert.deepEqual(project({ data: 0, uuid: 0 }), rest);
    assert.deepEqual(project({ data: 0, uuid: 1 }), { uuid: 'u1', ...rest });
  });

  test('an empty projection returns the whole task, as a copy', () => {
    const doc = makeDoc();
    const out = compileProjection({})(doc, undefined);
    assert.deepEqual(out, doc);
    assert.notEqual(out.data, doc.data);
  });

  test('fields keep the document order', () => {
    assert.deepEqual(Object.keys(project({ priority: 0, id: 0, data: 0 })), [
      'uuid', 'operation', 'status', 'createdAt', 'startedAt', 'endedAt', 'result',
    ]);
  });
});

describe('dot paths', () => {
  test('inclusion reaches into objects', () => {
    assert.deepEqual(project({ 'data.file': 1, 'data.size.width': 1, 'result.bytes': 1 }), {
      uuid: 'u1',
      data: { file: 'a.jpg', size: { width: 640 } },
      result: { bytes: 1234 },
    });
  });

  test('exclusion reaches into objects', () => {
    const out = project({ 'data.pages': 0, 'data.size.height': 0, 'result.path': 0 });
    assert.deepEqual(out['data'], { file: 'a.jpg', size: { width: 640 }, tags: ['x', 'y'], count: 3 });
    assert.deepEqual(out['result'], { bytes: 1234 });
    assert.equal(out['status'], 'done');
  });

  test('paths apply to each element of an array (and of nested arrays), as in MongoDB', () => {
    assert.deepEqual(project({ 'data.pages.text': 1 }), {
      uuid: 'u1',
      // 7 is not a document: an inclusion drops it.
      data: { pages: [{ text: 'one' }, [{ text: 'two' }], { text: 'three' }] },
    });
    assert.deepEqual((project({ 'data.pages.text': 0 })['data'] as Record<string, unknown>)['pages'], [{ n: 1 }, 7, [{ n: 2 }], {}]);
  });

  test('inclusion keeps an object it reaches into even when the named field is missing; drops a non-object', () => {
    assert.deepEqual(project({ 'data.missing': 1 }), { uuid: 'u1', data: {} });
    assert.deepEqual(project({ 'data.file.length': 1, 'status.x': 1, 'createdAt.x': 1 }), { uuid: 'u1', data: {} });
    assert.deepEqual(project({ 'nothing.here': 1 }), { uuid: 'u1' });
  });

  test('exclusion leaves a non-object it reaches into as it is', () => {
    const out = project({ 'data.file.length': 0, 'status.x': 0, 'createdAt.x': 0 });
    assert.deepEqual(out, makeDoc());
  });

  test('sibling paths merge', () => {
    assert.deepEqual(project({ 'data.size.width': 1, 'data.size.height': 1, 'data.count': 1 }), {
      uuid: 'u1',
      data: { size: { width: 640, height: 480 }, count: 3 },
    });
  });

  test('a field named __proto__ in the data is an own field of the copy, never its prototype', () => {
    const doc = { ...makeDoc(), data: JSON.parse('{"__proto__": {"polluted": true}, "file": "f"}') as JsonValue };
    for (const projection of [{ 'data.__proto__': 1 }, { 'data.file': 0 }, { data: 1 }]) {
      const data = (compileProjection(projection)(doc, undefined) as unknown as { data: Record<string, unknown> }).data;
      assert.equal(Object.getPrototypeOf(data), Object.prototype);
      assert.ok(Object.hasOwn(data, '__proto__'));
      assert.deepEqual(Object.getOwnPropertyDescriptor(data, '__proto__')?.value, { polluted: true });
    }
    assert.deepEqual(Object.keys(project({ '__proto__.x': 1 })), ['uuid']);
  });
});

describe('only what is kept is copied', () => {
  /** structuredClone throws on a function: a projection that reaches it would throw. */
  function docWithUncloneable(): TaskDoc {
    return { ...makeDoc(), data: { file: 'f', fn: () => 1 } as never, result: { bytes: 1, fn: () => 2 } as never };
  }

  test('an inclusion never clones the fields it leaves out', () => {
    const out = compileProjection({ uuid: 1, status: 1, 'data.file': 1, 'result.bytes': 1 })(docWithUncloneable(), undefined);
    assert.deepEqual(out, { uuid: 'u1', status: 'done', data: { file: 'f' }, result: { bytes: 1 } });
  });

  test('an exclusion never clones the fields it excludes', () => {
    const out = compileProjection({ 'data.fn': 0, 'result.fn': 0 })(docWithUncloneable(), undefined);
    assert.deepEqual(out.data, { file: 'f' });
    assert.deepEqual(out.result, { bytes: 1 });
    assert.deepEqual(compileProjection({ data: 0, result: 0 })(docWithUncloneable(), undefined).status, 'done');
  });

  test('(control) a projection that keeps them does clone them', () => {
    assert.throws(() => compileProjection({ data: 1 })(docWithUncloneable(), undefined), { name: 'DataCloneError' });
    assert.throws(() => compileProjection({ status: 0 })(docWithUncloneable(), undefined), { name: 'DataCloneError' });
  });

  test('the logs are not even selected when the projection leaves them out', () => {
    let calls = 0;
    const logsOf = (): readonly LogEntry[] => {
      calls++;
      return logs;
    };
    compileProjection({ logs: 0 }, { withLogs: true })(makeDoc(), logsOf);
    compileProjection({ status: 1, logs: 0 }, { withLogs: true })(makeDoc(), logsOf);
    assert.equal(calls, 0);
    compileProjection({ status: 1 }, { withLogs: true })(makeDoc(), logsOf);
    assert.equal(calls, 1);
  });
});

describe('logs (present only with withLogs)', () => {
  test('an inclusion keeps them unless logs: 0 (like uuid), as copies', () => {
    const out = project({ status: 1 }, true);
    assert.deepEqual(out, { uuid: 'u1', status: 'done', logs });
    assert.notEqual(out['logs'], logs);
    assert.notEqual((out['logs'] as LogEntry[])[0], logs[0]);
    assert.deepEqual(project({ status: 1, logs: 0 }, true), { uuid: 'u1', status: 'done' });
    assert.deepEqual(project({ status: 1, logs: 1 }, true), { uuid: 'u1', status: 'done', logs });
    assert.deepEqual(project({ logs: 1 }, true), { uuid: 'u1', logs });
    assert.deepEqual(project({ uuid: 0, logs: 1 }, true), { logs });
    assert.deepEqual(project({ uuid: 1, logs: 0 }, true), { uuid: 'u1' });
  });

  test('an exclusion keeps them unless logs: 0; they come last', () => {
    const out = project({ data: 0 }, true);
    assert.deepEqual(out['logs'], logs);
    assert.equal(Object.keys(out).at(-1), 'logs');
    assert.equal('logs' in project({ data: 0, logs: 0 }, true), false);
    assert.equal('logs' in project({ logs: 0 }, true), false);
    assert.equal(project({ logs: 0 }, true)['data'] !== undefined, true);
  });

  test('sub-paths narrow them', () => {
    assert.deepEqual(project({ status: 1, 'logs.message': 1 }, true), {
      uuid: 'u1',
      status: 'done',
      logs: [{ message: 'start' }, { message: 'end' }],
    });
    const out = project({ data: 0, 'logs.data': 0, 'logs.timestamp': 0 }, true);
    assert.deepEqual(out['logs'], [
      { level: 'info', message: 'start' },
      { level: 'debug', message: 'end' },
    ]);
  });

  test('without withLogs there are none, and a projection cannot include them', () => {
    assert.equal('logs' in project({ status: 1 }), false);
    assert.equal('logs' in project({ data: 0 }), false);
    assert.equal('logs' in project({ logs: 0 }), false);
    assert.equal('logs' in project({ 'logs.data': 0 }), false);
    invalidQuery(() => compileProjection({ logs: 1 }), /projection\["logs"\]: logs appear only with withLogs: true/);
    invalidQuery(() => compileProjection({ status: 1, 'logs.message': 1 }), /projection\["logs\.message"\]: logs appear only with withLogs/);
    invalidQuery(() => compileProjection({ data: 0, logs: true }, { withLogs: false }), /projection\["logs"\]/);
  });
});

describe('malformed projections are ERR_INVALID_QUERY naming the key', () => {
  test('not a plain object', () => {
    for (const projection of [null, undefined, 'status', 1, true, [], ['status'], new Date(), new Map(), () => 1]) {
      invalidQuery(() => compileProjection(projection), /^projection must be a plain object/);
    }
    assert.doesNotThrow(() => compileProjection(Object.create(null)));
  });

  test('values other than 0, 1, true, false', () => {
    for (const value of [2, -1, 0.5, NaN, '1', 'include', null, undefined, { $slice: 2 }, [1]]) {
      invalidQuery(() => compileProjection({ status: value }), /^projection\["status"\] must be 1, 0, true or false, got /);
    }
  });

  test('mixing inclusion and exclusion', () => {
    invalidQuery(
      () => compileProjection({ status: 1, data: 0 }),
      /projection mixes inclusion \(projection\["status"\]: 1\) and exclusion \(projection\["data"\]: 0\)/,
    );
    invalidQuery(
      () => compileProjection({ 'data.file': false, 'result.bytes': true }),
      /inclusion \(projection\["result\.bytes"\]: 1\) and exclusion \(projection\["data\.file"\]: 0\)/,
    );
    // uuid and logs are exceptions, but not paths inside logs.
    assert.doesNotThrow(() => compileProjection({ status: 1, uuid: 0, logs: 0 }, { withLogs: true }));
    invalidQuery(() => compileProjection({ status: 1, 'logs.data': 0 }, { withLogs: true }), /projection mixes/);
  });

  test('empty paths and empty segments', () => {
    invalidQuery(() => compileProjection({ '': 1 }), /^projection\[""\]: the path is empty/);
    for (const key of ['data.', '.data', 'data..file', '.']) {
      invalidQuery(() => compileProjection({ [key]: 1 }), new RegExp(`^projection\\[${JSON.stringify(key).replace(/\./g, '\\.')}\\]: the path has an empty segment`));
    }
  });

  test('operators', () => {
    for (const key of ['$', 'data.$', '$slice', 'data.$elemMatch', '$meta', 'data.items.$']) {
      invalidQuery(() => compileProjection({ [key]: 1 }), /projection operators \(\$\w*\) are not supported/);
    }
    // A $ inside a segment is an ordinary field name.
    assert.deepEqual(project({ 'data.a$b': 1 }), { uuid: 'u1', data: {} });
  });

  test('paths inside uuid', () => {
    invalidQuery(() => compileProjection({ 'uuid.x': 1 }), /^projection\["uuid\.x"\]: uuid is a string and has no fields/);
  });

  test('colliding paths, in either order', () => {
    invalidQuery(() => compileProjection({ data: 1, 'data.file': 1 }), /projection\["data\.file"\] collides with projection\["data"\]/);
    invalidQuery(() => compileProjection({ 'data.file': 1, data: 1 }), /projection\["data"\] collides with projection\["data\.file"\]/);
    invalidQuery(() => compileProjection({ 'data.a.b': 0, 'data.a': 0 }), /projection\["data\.a"\] collides with projection\["data\.a\.b"\]/);
    invalidQuery(() => compileProjection({ logs: 1, 'logs.message': 1 }, { withLogs: true }), /projection\["logs"\] collides with projection\["logs\.message"\]/);
    invalidQuery(() => compileProjection({ status: 1, 'logs.message': 1, logs: 0 }, { withLogs: true }), /projection\["logs"\] collides/);
  });
});
