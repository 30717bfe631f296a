// Pings Redis once before the tests and records the answer for `redisTestsEnabled()`.
// Under CI=true a missing Redis fails the run; elsewhere Redis tests are skipped with one line.
import { pingRedis, redisUrl } from '../packages/testkit/src/redis';

export default async function globalSetup(): Promise<void> {
  const url = redisUrl();
  const up = await pingRedis(url, 1500);
  process.env['BULWARK_REDIS'] = up ? 'up' : 'down';
  if (up) return;
  const where = url.replace(/\/\/[^@/]*@/, '//***@');
  if (process.env['CI'] === 'true') {
    throw new Error(`Redis does not answer at ${where}, and CI needs it (.ci/run starts it).`);
  }
  console.log(
    `\n[bulwark] Redis does not answer at ${where}: tests that need Redis are skipped. Start redis-server or set REDIS_URL.\n`,
  );
}
