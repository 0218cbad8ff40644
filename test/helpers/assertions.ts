import assert from 'node:assert/strict';

/** For `assert.rejects`/`assert.throws`: the error is an Error with this `code`; `more` checks the rest. */
export function rejectsWith(code: string, more?: (error: Error & { code?: unknown; cause?: unknown }) => void) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof Error, 'rejects with an Error');
    assert.equal((error as { code?: unknown }).code, code);
    more?.(error as Error & { code?: unknown; cause?: unknown });
    return true;
  };
}
