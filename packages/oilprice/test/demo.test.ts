// The README's first command runs this demo: it must run from a fresh clone, end with the
// side-by-side table and write a self-contained HTML report, with figures from the run itself.
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = join(__dirname, '..', '..', '..');

describe('demo', () => {
  it('runs a short workload twice and reports both runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-demo-'));
    const out = join(dir, 'report.html');
    try {
      const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
        execFile(
          process.execPath,
          ['scripts/demo.mjs', '--duration', '40', '--rate', '5', '--speed', '20', '--seed', '3', '--out', out],
          { cwd: repo, timeout: 120_000, env: { ...process.env, OILPRICEAPI_KEY: '', NODE_NO_WARNINGS: '1' } },
          (error, stdout, stderr) =>
            resolve({ code: error === null ? 0 : Number(error.code ?? 1), output: `${stdout}${stderr}` }),
        );
      });
      if (code !== 0) throw new Error(`the demo exited with ${code}:\n${output}`);
      // 40 simulated seconds at 5 calls a second: 200 calls in each run.
      expect(output).toMatch(/^calls\s+200\s+200$/m);
      expect(output).toMatch(/^latency p99\s+\S+ m?s\s+\S+ m?s$/m);
      expect(output).toMatch(/^breaker trips\s+\d+\s+\d+$/m);
      const html = readFileSync(out, 'utf8');
      expect(html).toContain('<svg');
      expect(html).toContain('Latency distribution');
      expect(html).toContain('Breaker state over time');
      // Self-contained: nothing to fetch when viewed.
      expect(html).not.toMatch(/<(script|link|img)\b[^>]*(src|href)=/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
