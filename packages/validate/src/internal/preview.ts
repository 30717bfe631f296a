/**
 * Short, bounded renderings of untrusted values for messages and reports.
 *
 * The work done is bounded by the length asked for, not by the size of the value: a 100 MB array
 * costs what a short one does. Getters that throw and values that cannot be printed are rendered
 * as a placeholder instead of failing the caller.
 *
 * @module
 */

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** A property name as it would appear after a dot, or quoted when it could not. */
export function renderKey(key: string, maxLength: number): string {
  return IDENTIFIER.test(key) && key.length <= maxLength ? key : quote(key, maxLength);
}

/** A JSON-quoted string, cut to about `maxLength` characters with an ellipsis. */
export function quote(value: string, maxLength: number): string {
  return value.length > maxLength ? `${JSON.stringify(value.slice(0, maxLength))}…` : JSON.stringify(value);
}

/**
 * Renders `value` in at most about `maxLength` characters: JSON-like, nested containers cut short
 * with `…`.
 */
export function preview(value: unknown, maxLength = 60): string {
  const out: string[] = [];
  const budget = { left: Math.max(8, maxLength) };
  write(value, out, budget, 0);
  const text = out.join('');
  return text.length > maxLength + 1 ? `${text.slice(0, maxLength)}…` : text;
}

interface Budget {
  left: number;
}

function push(out: string[], budget: Budget, text: string): void {
  out.push(text);
  budget.left -= text.length;
}

function write(value: unknown, out: string[], budget: Budget, depth: number): void {
  switch (typeof value) {
    case 'string':
      return push(out, budget, quote(value, Math.max(4, budget.left - 2)));
    case 'number':
    case 'boolean':
      return push(out, budget, String(value));
    case 'bigint':
      return push(out, budget, `${value}n`);
    case 'undefined':
      return push(out, budget, 'undefined');
    case 'symbol':
      return push(out, budget, value.toString());
    case 'function':
      return push(out, budget, value.name === '' ? '[function]' : `[function ${value.name}]`);
  }
  if (value === null) return push(out, budget, 'null');
  try {
    if (value instanceof Date)
      return push(out, budget, Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString());
    if (depth >= 2) return push(out, budget, Array.isArray(value) ? '[…]' : '{…}');
    if (Array.isArray(value)) {
      push(out, budget, '[');
      for (let i = 0; i < value.length; i++) {
        if (budget.left <= 0) return push(out, budget, `… ${value.length - i} more]`);
        if (i > 0) push(out, budget, ', ');
        write(value[i], out, budget, depth + 1);
      }
      return push(out, budget, ']');
    }
    push(out, budget, '{');
    let first = true;
    // for…in stops as soon as the budget is spent; Object.keys would list every key of a huge object first.
    for (const key in value) {
      if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
      if (budget.left <= 0) return push(out, budget, '…}');
      if (!first) push(out, budget, ', ');
      first = false;
      push(out, budget, `${renderKey(key, 20)}: `);
      write((value as Record<string, unknown>)[key], out, budget, depth + 1);
    }
    return push(out, budget, '}');
  } catch {
    return push(out, budget, '[unreadable]');
  }
}

/** `value` with a word for its kind, for messages: `"72.5" (string)`, `null`, `an array`. */
export function describeActual(value: unknown, maxLength: number): string {
  if (value === null || value === undefined) return String(value);
  const kind = Array.isArray(value) ? 'array' : typeof value;
  return `${preview(value, maxLength)} (${kind})`;
}
