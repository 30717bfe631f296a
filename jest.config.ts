import type { Config } from 'jest';

// Tests import workspace packages from their TypeScript sources: the "@bulwark/source" export
// condition points each package at src/, and swc strips types (tsc -b is the type gate).
const config: Config = {
  testEnvironment: 'node',
  testEnvironmentOptions: { customExportConditions: ['@bulwark/source', 'node', 'node-addons'] },
  roots: ['<rootDir>/packages', '<rootDir>/examples', '<rootDir>/scripts', '<rootDir>/reliability', '<rootDir>/bench'],
  testMatch: ['**/test/**/*.test.ts', '**/examples/**/*.test.ts'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  // Sources import siblings as './x.js' (NodeNext); Jest resolves them to './x.ts'.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/\\.tsbuild/'],
  clearMocks: true,
  globalSetup: '<rootDir>/scripts/jest-global-setup.ts',
};

export default config;
