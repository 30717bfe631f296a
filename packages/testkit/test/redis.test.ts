import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pingRedis, redisTestsEnabled, redisUrl, startPrivateRedis, uniquePrefix } from '@bulwark/testkit';
import { createClient } from 'redis';

const describeRedis = redisTestsEnabled() ? describe : describe.skip;

describeRedis('the shared Redis', () => {
  const client = createClient({ url: redisUrl() });
  const prefix = uniquePrefix('round-trip');

  beforeAll(async () => {
    await client.connect();
  });
  afterAll(async () => {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(keys);
    client.destroy();
  });

  it('stores and reads back a value under a unique prefix, with a TTL', async () => {
    await client.set(`${prefix}greeting`, 'hello', { expiration: { type: 'PX', value: 60_000 } });
    expect(await client.get(`${prefix}greeting`)).toBe('hello');
    const ttl = await client.pTTL(`${prefix}greeting`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });
});

describeRedis('a private redis-server', () => {
  it('can be stopped and started again without touching the shared one', async () => {
    const redis = await startPrivateRedis();
    try {
      expect(await pingRedis(redis.url)).toBe(true);
      await redis.stop();
      expect(await pingRedis(redis.url, 300)).toBe(false);
      expect(await pingRedis(redisUrl())).toBe(true);
      await redis.start();
      expect(await pingRedis(redis.url)).toBe(true);
    } finally {
      await redis.stop();
    }
  });
});
