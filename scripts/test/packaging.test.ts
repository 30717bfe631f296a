// What users install, tested: every package under packages/ is built once, packed with `pnpm pack`,
// linted (our manifest rules, publint --strict, are-the-types-wrong), installed from its tarball into
// a temporary project without the network, loaded there by plain ESM (`import`) and CommonJS
// (`require`) programs that run its TSDoc examples, and measured against its size budget.
// The work runs in scripts/packaging.mts, in its own Node process: publint and are-the-types-wrong
// are ESM-only, which Jest's CommonJS runtime cannot load. Packages added later are covered as is.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { PackageReport, Report } from '../packaging.mjs';

const repo = join(__dirname, '..', '..');

const names = readdirSync(join(repo, 'packages'))
  .map((dir) => join(repo, 'packages', dir, 'package.json'))
  .filter((file) => existsSync(file))
  .map((file) => JSON.parse(readFileSync(file, 'utf8')) as { name: string; private?: boolean })
  .filter((manifest) => manifest.private !== true)
  .map((manifest) => manifest.name)
  .sort();

let report: Report | undefined;
let output = '';

function found(): Report {
  if (report === undefined) throw new Error(`scripts/packaging.mts wrote no report:\n${output}`);
  return report;
}

function packageReport(name: string): PackageReport {
  const pkg = found().packages.find((p) => p.name === name);
  if (pkg === undefined) throw new Error(`${name} was not packed:\n${found().errors.join('\n')}`);
  return pkg;
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-packaging-report-'));
  const file = join(dir, 'report.json');
  try {
    output = await new Promise<string>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', join(repo, 'scripts', 'packaging.mts'), 'check', '--report', file],
        { cwd: repo, timeout: 14 * 60_000, maxBuffer: 64 << 20, env: { ...process.env, NODE_OPTIONS: '' } },
        (_error, stdout, stderr) => resolve(`${stdout}${stderr}`),
      );
    });
    if (existsSync(file)) report = JSON.parse(readFileSync(file, 'utf8')) as Report;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 15 * 60_000);

describe('packaging', () => {
  it('builds every package, installs the tarballs offline and loads core both ways', () => {
    expect(found().errors.filter((e) => !e.includes('budget'))).toEqual([]);
  });

  it('keeps each entry point within its size budget (min+gzip; core has one)', () => {
    const core = found().sizes.find((row) => row.name === '@bulwark/core' && row.entry === '.');
    expect(core?.budget).toBeGreaterThan(0);
    expect(found().sizes.filter((row) => row.budget !== undefined && row.gzipped > row.budget)).toEqual([]);
  });

  describe.each(names)('%s', (name) => {
    it('packs only dist/ with a clean package.json (no source condition, no workspace ranges)', () => {
      expect(packageReport(name).manifest).toEqual([]);
    });

    it('passes publint --strict', () => {
      expect(packageReport(name).publint).toEqual([]);
    });

    it('passes are-the-types-wrong', () => {
      expect(packageReport(name).attw).toEqual([]);
    });

    it('loads every entry point with import and with require, with the same exports', () => {
      expect(packageReport(name).entries).toEqual([]);
    });

    it.each(['esm', 'cjs'] as const)('runs its TSDoc examples against the tarball as %s', (format) => {
      const runs = packageReport(name).examples[format];
      expect(runs.filter((run) => !run.ok)).toEqual([]);
    });
  });
});
