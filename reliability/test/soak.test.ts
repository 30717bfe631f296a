// The soak run's short version (`pnpm soak --quick`: 50,000 calls through the stack with failures and
// aborts mixed in), run as CI runs it: in a process of its own, with --expose-gc. It must pass its own
// checks (every call settled as planned, nothing left in flight, heap growth under 5 MB).
import { expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

it('soaks 50,000 calls without a leak or a stray outcome (pnpm soak --quick)', async () => {
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve) => {
      execFile(
        process.execPath,
        ['--expose-gc', '--import', 'tsx', '--conditions=@bulwark/source', 'src/soak.ts', '--quick'],
        { cwd: root, timeout: 120_000 },
        (error, out, err) =>
          resolve({ code: error === null ? 0 : (error.code as number | null), stdout: out, stderr: err }),
      );
    },
  );
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  expect(stdout).toMatch(/settled: 49,000 ok, 500 failed, 500 aborted, 0 refused by a policy, 0 unexpected/);
  expect(stdout).toMatch(/calls\/s/);
  expect(stdout).toMatch(/heap after GC: .* \(limit \+5\.00 MB\)/);
}, 120_000);
