// The README's main command. The demo itself (the oil-price client against a faulty fake server,
// bare and with Bulwark's default pipeline, side by side) lives in @bulwark/oilprice; until that
// package exists this says so and exits cleanly.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const demo = new URL('../packages/oilprice/demo/main.ts', import.meta.url);
if (!existsSync(demo)) {
  console.log('The Bulwark demo arrives with @bulwark/oilprice. Meanwhile: `npx -y pnpm@10 test` runs every test.');
  process.exit(0);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--conditions=@bulwark/source', demo.pathname, ...process.argv.slice(2)],
  {
    stdio: 'inherit',
  },
);
process.exit(result.status ?? 1);
