import { describe, expect, it } from '@jest/globals';
import { noop, pipeline } from '@bulwark/core';
import { VirtualClock } from '@bulwark/testkit';
import { Writable } from 'node:stream';
import { pino } from 'pino';

import { instrument, jsonLineLogger, jsonLogs, type Logger } from '../src/index.js';
import { after, breaking, retrying, TimeoutError } from './fixtures.js';

const KEY = 'opa_live_5be1c0ffee42d00d';

function collect(): { lines: string[]; records: () => Record<string, unknown>[]; logger: Logger } {
  const lines: string[] = [];
  return {
    lines,
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    logger: jsonLineLogger(
      (line) => lines.push(line),
      () => 86_400_000,
    ),
  };
}

describe('jsonLogs', () => {
  it('writes a JSON line per failed call and per decision, with the call correlation id', async () => {
    const clock = new VirtualClock();
    const out = collect();
    const policy = instrument(
      retrying(1, 200, clock),
      [jsonLogs({ logger: out.logger, fields: { service: 'prices' } })],
      {
        name: 'oilprice',
        clock,
      },
    );
    await clock
      .run(policy.execute(after(clock, 50, { error: new TimeoutError(50) }), { correlationId: 'req-42' }))
      .catch(() => undefined);
    expect(out.lines.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n'))).toBe(true);
    const records = out.records();
    expect(records.map((r) => [r['level'], r['event'] ?? r['outcome'], r['correlationId']])).toEqual([
      ['info', 'retry', 'req-42'],
      ['warn', 'give-up', 'req-42'],
      ['warn', 'failure', 'req-42'],
    ]);
    expect(records[0]).toMatchObject({
      time: '1970-01-02T00:00:00.000Z',
      msg: 'retry: retry',
      service: 'prices',
      policy: 'oilprice',
      source: 'retry',
      attempt: 1,
      delayMs: 200,
      error: { type: 'Timeout', message: 'timed out after 50 ms', timeoutMs: 50, retryable: true },
    });
    expect(records[2]).toMatchObject({
      msg: 'oilprice failed with Timeout after 300ms',
      outcome: 'failure',
      durationMs: 300,
      attempt: 1,
      error: { type: 'Timeout' },
    });
  });

  it('logs successes only from debug, and drops kinds set to off', async () => {
    const out = collect();
    const quiet = instrument(noop, [jsonLogs({ logger: out.logger })]);
    await quiet.execute(async () => 1);
    expect(out.lines).toEqual([]);
    const verbose = instrument(noop, [jsonLogs({ logger: out.logger, level: 'debug' })], { name: 'db' });
    await verbose.execute(async () => 1, { correlationId: 'r1' });
    expect(out.records()[0]).toMatchObject({ level: 'debug', outcome: 'success', policy: 'db', correlationId: 'r1' });
    const breaker = breaking(1);
    const silenced = instrument(breaker, [
      jsonLogs({ logger: out.logger, levels: { 'state-change': 'off' }, callLevels: { failure: 'error' } }),
    ]);
    await silenced.execute(async () => Promise.reject(new Error('x'))).catch(() => undefined);
    expect(
      out
        .records()
        .slice(1)
        .map((r) => [r['level'], r['event'] ?? r['outcome']]),
    ).toEqual([['error', 'failure']]);
  });

  it('redacts secrets from every line: messages, causes, headers, event fields, static fields', async () => {
    const out = collect();
    const sink = jsonLogs({ logger: out.logger, level: 'debug', redact: { secrets: [KEY] }, fields: { apiKey: KEY } });
    const policy = instrument(pipeline(breaking(1)), [sink], { name: `client ${KEY}` });
    const error = Object.assign(new Error(`401 Unauthorized for Token ${KEY}`), {
      cause: new Error(`GET /v1/prices/latest?api_key=${KEY}`),
      request: { headers: { Authorization: `Token ${KEY}` } },
    });
    await policy.execute(async () => Promise.reject(error), { correlationId: `id-${KEY}` }).catch(() => undefined);
    await policy.execute(async () => 1).catch(() => undefined);
    expect(out.lines.length).toBeGreaterThanOrEqual(3);
    for (const line of out.lines) expect(line).not.toContain(KEY);
    expect(out.lines.join('')).toContain('[REDACTED]');
  });

  it('redacts the secret keys of a thrown value that is not an Error', async () => {
    const out = collect();
    const policy = instrument(noop, [jsonLogs({ logger: out.logger })], { name: 'api' });
    const thrown = {
      status: 401,
      config: { headers: { cookie: 'sid=s3ss10nvalue' }, accessToken: 'ya29.a0AfH6SMBxyz' },
    };
    await policy.execute(async () => Promise.reject(thrown)).catch(() => undefined);
    expect(out.records()[0]).toMatchObject({ outcome: 'failure', error: { type: 'unknown' } });
    expect(out.lines[0]).toContain('[REDACTED]');
    expect(out.lines[0]).not.toContain('s3ss10nvalue');
    expect(out.lines[0]).not.toContain('ya29.a0AfH6SMBxyz');
  });

  it('logs a correlation id that is not a string (a duplicated header read as an array) as text', async () => {
    const out = collect();
    const policy = instrument(noop, [jsonLogs({ logger: out.logger, level: 'debug' })], { name: 'api' });
    const handler = policy.wrap(async (id: string, _headers: Record<string, unknown>) => id, {
      correlationId: (_id, headers) => headers['x-request-id'] as string,
    });
    await expect(handler('1', { 'x-request-id': ['a', 'b'] })).resolves.toBe('1');
    await expect(handler('2', { 'x-request-id': 42 })).resolves.toBe('2');
    expect(out.records().map((r) => r['correlationId'])).toEqual(['a,b', '42']);
  });

  it('fits pino as it is', async () => {
    const chunks: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    const logger = pino({ level: 'debug' }, destination);
    const policy = instrument(noop, [jsonLogs({ logger, level: 'debug' })], { name: 'posthog' });
    await policy.execute(async () => 'ok', { correlationId: 'req-pino' });
    await policy.execute(async () => Promise.reject(new TypeError('bad'))).catch(() => undefined);
    const records = chunks
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records[0]).toMatchObject({
      level: 20,
      msg: expect.stringMatching(/^posthog succeeded in /),
      correlationId: 'req-pino',
    });
    expect(records[1]).toMatchObject({ level: 40, outcome: 'failure', error: { type: 'TypeError', message: 'bad' } });
  });

  it('jsonLineLogger checks its arguments, and writes `time: null` when its clock gives no time', () => {
    expect(() => jsonLineLogger(() => undefined, 5 as never)).toThrow(/`now`/);
    const lines: string[] = [];
    jsonLineLogger(
      (line) => lines.push(line),
      () => Number.NaN,
    ).info({}, 'hello');
    expect(JSON.parse(lines[0] as string)).toEqual({ level: 'info', time: null, msg: 'hello' });
  });

  it('fits console', async () => {
    const logged: unknown[][] = [];
    const fake: Logger = {
      debug: (...args) => logged.push(args),
      info: (...args) => logged.push(args),
      warn: (...args) => logged.push(args),
      error: (...args) => logged.push(args),
    };
    // The type check is the point: console's methods take (record, message).
    const asConsole: Logger = console;
    expect(typeof asConsole.warn).toBe('function');
    await instrument(noop, [jsonLogs({ logger: fake })])
      .execute(async () => Promise.reject(new Error('e')))
      .catch(() => undefined);
    expect(logged[0]?.[1]).toMatch(/^noop failed with Error after /);
  });

  it('rejects bad options, naming them', () => {
    expect(() => jsonLogs({ logger: {} as never })).toThrow(/`logger`/);
    expect(() => jsonLogs({ level: 'loud' as never })).toThrow(/`level`/);
    expect(() => jsonLogs({ levels: { retry: 'loud' as never } })).toThrow(/`levels.retry`/);
    expect(() => jsonLogs({ callLevels: { success: 'loud' as never } })).toThrow(/`callLevels.success`/);
  });
});
