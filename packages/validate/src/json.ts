/**
 * Parsing a body as JSON without letting its text into the error.
 *
 * @module
 */

import * as E from 'fp-ts/lib/Either.js';

/**
 * Parses `text` as JSON. On failure the error says where the text stopped being JSON, never what
 * was there: the engine's own message quotes the text around the fault (`Unexpected token 'a',
 * "{"key":abc…"`), and an untrusted body may hold a secret, or a fragment of one too short to be
 * recognised and redacted, at that very place.
 *
 * @example
 * ```ts
 * import * as E from 'fp-ts/lib/Either.js';
 * assert.deepEqual(parseJson('{"price":71.2}'), E.right({ price: 71.2 }));
 * const bad = parseJson('{"key":sk_live_123}');
 * assert.ok(E.isLeft(bad) && bad.left.message === 'not valid JSON (19 characters)');
 * assert.ok(E.isLeft(bad) && !bad.left.message.includes('sk_live'));
 * ```
 *
 * @category destructors
 * @since 0.1.0
 */
export function parseJson(text: string): E.Either<SyntaxError, unknown> {
  try {
    return E.right(JSON.parse(text) as unknown);
  } catch (error) {
    const at = /at position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
    return E.left(
      new SyntaxError(`not valid JSON${at !== undefined ? ` at position ${at}` : ''} (${text.length} characters)`),
    );
  }
}
