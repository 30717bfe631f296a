import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';

import { healthReport, hideSecrets, jsonLogs, metrics, redactor } from '../src/index.js';
import { MAX_TEXT_LENGTH } from '../src/redact.js';
import { TimeoutError } from './fixtures.js';

const KEY = 'opa_live_7f3a9c2e4b1d8f6a';
const REDACTED_TEXT = '[REDACTED]';

describe('redactor', () => {
  const redact = redactor({ secrets: ['hunter2-correct-horse'] });

  it.each([
    ['Authorization: Token 9f8e7d6c5b4a39281706', 'Authorization: Token [REDACTED]'],
    ['authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig', 'authorization: Bearer [REDACTED]'],
    ['Authorization: Basic dXNlcjpwYXNzd29yZA==', 'Authorization: Basic [REDACTED]'],
    [
      'GET https://api.example.com/v1/prices?api_key=abc123&code=BRENT',
      'GET https://api.example.com/v1/prices?api_key=[REDACTED]&code=BRENT',
    ],
    ['?personal_api_key=xyz987654&limit=5', '?personal_api_key=[REDACTED]&limit=5'],
    ['{"api_key": "phc_abcdefghijk", "event": "x"}', '{"api_key": "[REDACTED]", "event": "x"}'],
    ['password=swordfish;', 'password=[REDACTED];'],
    [`401 for ${KEY}`, '401 for [REDACTED]'],
    ['key phx_0123456789abcdef rejected', 'key [REDACTED] rejected'],
    ['sk-proj-abcdefghijklmnop1234', '[REDACTED]'],
    ['token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln here', 'token [REDACTED] here'],
    ['redis://default:s3cret@10.0.0.5:6379', 'redis://default:[REDACTED]@10.0.0.5:6379'],
    ['the password is hunter2-correct-horse', 'the password is [REDACTED]'],
    ['encoded hunter2-correct-horse%21 stays', 'encoded [REDACTED]%21 stays'],
  ])('redacts %j', (input, expected) => {
    expect(redact.text(input)).toBe(expected);
  });

  it.each([
    'the token bucket refilled 10 tokens',
    'Bearer of bad news',
    'retry after 1500 ms (attempt 2 of 3)',
    'circuit open: 5 consecutive failures',
    'BrokenCircuit: the circuit is open',
  ])('leaves %j alone', (input) => {
    expect(redact.text(input)).toBe(input);
  });

  it('replaces the values of keys that name secrets, at any depth, and copies the rest', () => {
    const circular: Record<string, unknown> = { name: 'a' };
    circular['self'] = circular;
    expect(
      redact.value({
        headers: { Authorization: 'Token abc', 'x-api-key': 'k', accept: 'json' },
        query: { api_key: 'k', code: 'WTI' },
        nested: [{ password: 'p', refreshToken: 't', tokens: 5 }],
        circular,
        when: new Date(0),
        big: 10n,
        nan: Number.NaN,
        fn: () => 1,
      }),
    ).toEqual({
      headers: { Authorization: '[REDACTED]', 'x-api-key': '[REDACTED]', accept: 'json' },
      query: { api_key: '[REDACTED]', code: 'WTI' },
      nested: [{ password: '[REDACTED]', refreshToken: '[REDACTED]', tokens: 5 }],
      circular: { name: 'a', self: '[Circular]' },
      when: '1970-01-01T00:00:00.000Z',
      big: '10',
      nan: 'NaN',
    });
  });

  it('turns errors into records: tag, redacted message, fields, cause, stack', () => {
    const cause = new Error(`request to /prices?api_key=${KEY} failed`);
    const error = Object.assign(new TimeoutError(15_000), { cause, headers: { authorization: `Token ${KEY}` } });
    const record = redact.error(error);
    expect(record).toMatchObject({
      type: 'Timeout',
      message: 'timed out after 15000 ms',
      timeoutMs: 15_000,
      retryable: true,
      headers: { authorization: '[REDACTED]' },
      cause: { type: 'Error', message: 'request to /prices?api_key=[REDACTED] failed' },
    });
    expect(JSON.stringify(record)).not.toContain(KEY);
    expect(typeof record['stack']).toBe('string');
    expect(redactor({ errorStacks: false }).error(error)['stack']).toBeUndefined();
    expect(redact.error('plain string thrown')).toEqual({ type: 'unknown', message: 'plain string thrown' });
  });

  it('hides the secret keys of a thrown value that is not an Error (a plain object, an fp-ts Left)', () => {
    const thrown = {
      status: 401,
      config: {
        headers: { cookie: 'sid=s3ss10nvalue' },
        accessToken: 'ya29.a0AfH6SMBxyz',
        secret_key: 'sup3rs3cr3t',
        privateKey: 'pk-0123456789',
      },
    };
    const left = { _tag: 'Left', left: { reason: 'denied', session_token: 'sess-0123456789' } };
    const plain = redact.error(thrown);
    expect(plain.type).toBe('unknown');
    expect(JSON.parse(plain.message)).toEqual({
      status: 401,
      config: {
        headers: { cookie: '[REDACTED]' },
        accessToken: '[REDACTED]',
        secret_key: '[REDACTED]',
        privateKey: '[REDACTED]',
      },
    });
    const tagged = redact.error(left);
    expect(tagged.type).toBe('Left');
    expect(JSON.parse(tagged.message)).toEqual({
      _tag: 'Left',
      left: { reason: 'denied', session_token: '[REDACTED]' },
    });
    for (const secret of ['s3ss10nvalue', 'ya29.a0AfH6SMBxyz', 'sup3rs3cr3t', 'pk-0123456789', 'sess-0123456789']) {
      expect(JSON.stringify([plain, tagged])).not.toContain(secret);
    }
  });

  it.each([
    [
      'GET https://api.example.com/v1/me?accessToken=ya29secretvalue&x=1',
      'GET https://api.example.com/v1/me?accessToken=[REDACTED]&x=1',
    ],
    ['?secret_key=sup3rs3cr3t&page=2', '?secret_key=[REDACTED]&page=2'],
    ['?privateKey=pk-0123456789', '?privateKey=[REDACTED]'],
    ['?session_token=abcdef123&sessionToken=abcdef456', '?session_token=[REDACTED]&sessionToken=[REDACTED]'],
    ['client-secret: abc123def', 'client-secret: [REDACTED]'],
  ])('redacts %j, whose key the object walk treats as secret too', (input, expected) => {
    expect(redact.text(input)).toBe(expected);
  });

  it('does not take a text another rule redacted for a token on a second pass', () => {
    const once = redact.text('Token redis://u:;p4ss@habcdefgh12');
    expect(once).toBe('Token redis://u:[REDACTED]@habcdefgh12');
    expect(redact.text(once)).toBe(once);
  });

  it('never lets a configured secret through, and is idempotent', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 4, maxLength: 20 }), fc.string(), fc.string(), (secret, before, after) => {
        const r = redactor({ secrets: [secret] });
        const once = r.text(`${before}${secret}${after}`);
        expect(once.includes(secret)).toBe(false);
        expect(r.text(once)).toBe(once);
      }),
    );
  });

  it('hides the start of a configured secret where a text was cut short', () => {
    const key = 'hunter2-correct-horse';
    // A message built from the first 30 characters of a body that echoed the key: its start leaks.
    const cut = `upstream said: invalid key ${key}`.slice(0, 36);
    expect(cut).toContain(key.slice(0, 9));
    expect(redact.text(cut)).toBe('upstream said: invalid key [REDACTED]');
    expect(redact.text(`${cut}… (more)`)).toBe('upstream said: invalid key [REDACTED]… (more)');
    expect(redact.text(`${key.slice(0, 8)}...`)).toBe('[REDACTED]...');
    // Too short a start to tell anything, or not where a text was cut: kept.
    expect(redact.text(`id ${key.slice(0, 5)}`)).toBe(`id ${key.slice(0, 5)}`);
    expect(redact.text(`${key.slice(0, 9)} and more`)).toBe(`${key.slice(0, 9)} and more`);
  });

  it('leaves no start of 6 or more characters of a secret at a cut, and stays idempotent', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 7, maxLength: 30 }),
        fc.string(),
        fc.nat(),
        fc.boolean(),
        (secret, before, at, ellipsis) => {
          fc.pre(!REDACTED_TEXT.includes(secret));
          const length = 6 + (at % (secret.length - 6));
          const text = `${before}${secret.slice(0, length)}${ellipsis ? '…' : ''}`;
          const once = hideSecrets(text, [secret]);
          expect(once.endsWith(`${secret.slice(0, length)}${ellipsis ? '…' : ''}`)).toBe(false);
          expect(hideSecrets(once, [secret])).toBe(once);
        },
      ),
    );
  });

  it.each([
    ['a JWT start repeated', 'eyJ-'],
    ['URL schemes with no host', 'a://b:'],
    ['dotted words', 'a.'],
    ['key prefixes', 'sk-a'],
  ])(
    'redacts 1 MB of %s, and 20 texts just under the limit, within 2 s (the quadratic rules took minutes)',
    (_name, unit) => {
      const hostile = unit.repeat(Math.ceil(1_048_576 / unit.length));
      const started = performance.now();
      const out = redact.text(hostile);
      // And the rules themselves, on texts just short enough to be read whole, 20 times over.
      for (let i = 0; i < 20; i++) redact.text(hostile.slice(0, MAX_TEXT_LENGTH));
      // Generous, so a slow machine passes: the quadratic patterns took minutes on the megabyte, and
      // half a second or more on each of the shorter texts.
      expect(performance.now() - started).toBeLessThan(2000);
      expect(out.length).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
    },
  );

  it('bounds the time an error carrying a hostile body costs', () => {
    const error = Object.assign(new Error('Request failed with status 502'), {
      response: { status: 502, body: 'eyJ-'.repeat(262_144) },
    });
    const started = performance.now();
    const record = redact.error(error);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(JSON.stringify(record).length).toBeLessThan(2 * MAX_TEXT_LENGTH);
  });

  it('cuts a long text after hiding its secrets, leaving no part of one at the cut, and stays idempotent', () => {
    const secret = 'hunter2-correct-horse';
    const bearer = 'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA';
    const shapes = [secret, `Bearer ${bearer}`, `?api_key=${bearer}&x=1`, `"password": "${bearer}"`];
    fc.assert(
      fc.property(
        fc.constantFrom(...shapes),
        fc.integer({ min: MAX_TEXT_LENGTH - 80, max: MAX_TEXT_LENGTH + 10 }),
        fc.constantFrom('x', ' ', 'ab,', '"'),
        (shape, at, filler) => {
          const before = filler.repeat(Math.ceil(at / filler.length)).slice(0, at);
          const long = `${before}${shape}${'y'.repeat(MAX_TEXT_LENGTH)}`;
          const once = redact.text(long);
          expect(once.length).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
          expect(once).toContain(`${long.length} characters`);
          for (const hidden of [secret, bearer]) expect(once).not.toContain(hidden.slice(0, 6));
          expect(redact.text(once)).toBe(once);
        },
      ),
    );
  });

  it.each([/^(?:apikey|token)$/gi, /^(?:apikey|token)$/iy])(
    'hides every value of a `keys` RegExp with state (%s), in objects and error fields alike',
    (keys) => {
      const r = redactor({ keys });
      const tokens = ['aaaa1', 'bbbb2', 'cccc3', 'dddd4'];
      const copied = JSON.stringify(r.value(tokens.map((token) => ({ token }))));
      const error = Object.assign(new Error('x'), { token: 'eeee5', apiKey: 'ffff6' });
      const recorded = JSON.stringify([r.error(error), r.error(error)]);
      for (const token of [...tokens, 'eeee5', 'ffff6']) expect(copied + recorded).not.toContain(token);
      // The caller's RegExp is left as it was given.
      expect(keys.lastIndex).toBe(0);
      expect(keys.flags).toMatch(/[gy]/);
    },
  );

  it('reads a value that is not a string as its text, and never throws on it', () => {
    const text = redact.text as (value: unknown) => string;
    expect(text(42)).toBe('42');
    expect(text(['a', 'b'])).toBe('a,b');
    expect(text(['api_key=s3cr3t-value'])).toBe('api_key=[REDACTED]');
    expect(text(undefined)).toBe('undefined');
    expect(text(Symbol('id'))).toBe('Symbol(id)');
    expect(text(Object.create(null))).toBe('[object Object]');
  });

  it('adds secrets found at run time', () => {
    const r = redactor();
    r.addSecret('late-secret-value');
    expect(r.text('x late-secret-value y')).toBe('x [REDACTED] y');
  });

  it('rejects bad options, naming them', () => {
    expect(() => redactor({ secrets: ['abc'] })).toThrow(/`secrets`/);
    expect(() => redactor({ secrets: 'abcd' as never })).toThrow(/`secrets`/);
    expect(() => redactor({ patterns: [/x/] })).toThrow(/`patterns`/);
    expect(() => redactor({ keys: 'token' as never })).toThrow(/`keys`/);
    expect(redactor({ patterns: [/internal-\d+/g], replacement: '***' }).text('host internal-42')).toBe('host ***');
  });

  it('names a sink’s `redact` option, and the options inside it, by where they were given', () => {
    expect(() => metrics({ redact: null as never })).toThrow(/`redact` to be an object/);
    expect(() => jsonLogs({ redact: (() => undefined) as never })).toThrow(/`redact` to be an object/);
    expect(() => healthReport([], { redact: { secrets: ['abc'] } })).toThrow(/`redact\.secrets`/);
    expect(() => healthReport([], { clock: {} as never })).toThrow(/`clock`/);
  });
});
