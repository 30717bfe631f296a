import { describe, expect, it } from '@jest/globals';
import * as E from 'fp-ts/lib/Either.js';

import { parseJson } from '../src/index.js';

describe('parseJson', () => {
  it('parses JSON', () => {
    expect(parseJson('{"price":71.2,"codes":["WTI_USD"]}')).toEqual(E.right({ price: 71.2, codes: ['WTI_USD'] }));
    expect(parseJson('null')).toEqual(E.right(null));
  });

  it.each([
    ['an unexpected token', '{"key":sk_live_0123456789}'],
    ['an unterminated string', '{"key":"sk_live_0123456789'],
    ['a cut-off body', '{"data":{"key":"sk_live_0123456789"'],
    ['not JSON at all', 'sk_live_0123456789'],
  ])('says where %s is, never what it is', (_case, text) => {
    const parsed = parseJson(text);
    expect(E.isLeft(parsed)).toBe(true);
    const error = (parsed as E.Left<SyntaxError>).left;
    expect(error).toBeInstanceOf(SyntaxError);
    expect(error.message).toMatch(/^not valid JSON( at position \d+)? \(\d+ characters\)$/);
    expect(`${error.message}${error.stack ?? ''}`).not.toContain('sk_live');
  });

  it('keeps the position the engine reported', () => {
    const parsed = parseJson('{"a":"b');
    expect(E.isLeft(parsed) && parsed.left.message).toBe('not valid JSON at position 7 (7 characters)');
  });
});
