/** Codecs the tests share. */

import * as t from 'io-ts';

/** A codec that changes what it decodes (a numeric string to a number), so io-ts copies the objects around it. */
export const NumberFromString = new t.Type<number, string, unknown>(
  'NumberFromString',
  (u): u is number => typeof u === 'number',
  (u, c) =>
    typeof u === 'string' && u.trim() !== '' && !Number.isNaN(Number(u)) ? t.success(Number(u)) : t.failure(u, c),
  String,
);
