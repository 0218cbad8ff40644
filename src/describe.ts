/**
 * A value's description for an error message. It never throws: a hostile
 * value (`Object.create(null)`, a throwing `toString`, a symbol) must not turn
 * a validation error into a bare TypeError.
 */
export function describeValue(value: unknown): string {
  try {
    if (typeof value === 'string') return JSON.stringify(value);
    if (typeof value === 'symbol') return value.toString();
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** An error's message for another error's message, whatever a hostile error put there. */
export function describeError(error: unknown): string {
  let message: unknown;
  try {
    message = (error as { message?: unknown } | null)?.message;
  } catch {
    return 'unreadable message';
  }
  if (typeof message === 'string') return message;
  return describeValue(error instanceof Error ? message : error);
}
