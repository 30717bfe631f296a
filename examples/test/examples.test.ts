// Every program in examples/src runs here as a user would run it (tsx, ESM), and must exit 0.
// The examples check their own results with node:assert, so running them is testing them.
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');
const examples = readdirSync(join(root, 'src')).filter((file) => file.endsWith('.ts'));

function runExample(file: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--conditions=@bulwark/source', join('src', file)],
      { cwd: root, timeout: 60_000, env: { ...process.env, NODE_NO_WARNINGS: '1' } },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : Number(error.code ?? 1), output: `${stdout}${stderr}` }),
    );
  });
}

describe('examples', () => {
  it('has examples', () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  it.each(examples)(
    '%s runs and exits 0',
    async (file) => {
      const { code, output } = await runExample(file);
      if (code !== 0) throw new Error(`${file} exited with ${code}:\n${output}`);
    },
    60_000,
  );
});
