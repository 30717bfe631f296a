/* global module */
// pnpm hooks (pnpm >= 10.28). See docs/adr/0002-packaging.md.
//
// In the workspace, each package's "exports" lead with the "@bulwark/source" condition, which points
// at src/*.ts so that tests, tsx and tsc use the sources without a build. A published package has no
// src/ and its users must never pick that condition, so `pnpm pack` and `pnpm publish` drop it from
// the packed package.json here, for every package, with the fields that only mean something in this
// repository ("scripts", "devDependencies"), and refuse to pack a package whose manifest still points
// anywhere but dist/. (pnpm itself rewrites "workspace:^" ranges to real versions when packing.)
//
// Changing this file changes its checksum in pnpm-lock.yaml: run `npx -y pnpm@10 install` after.

const SOURCE_CONDITION = '@bulwark/source';

/** `exports` without the source condition, at any depth. */
function withoutSourceCondition(value) {
  if (Array.isArray(value)) return value.map(withoutSourceCondition);
  if (value === null || typeof value !== 'object') return value;
  const result = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key !== SOURCE_CONDITION) result[key] = withoutSourceCondition(inner);
  }
  return result;
}

/** Every file path a manifest's entry fields and export targets name, with where it was found. */
function targets(pkg) {
  const found = [];
  for (const field of ['main', 'module', 'types', 'typings']) {
    if (typeof pkg[field] === 'string') found.push([field, pkg[field]]);
  }
  const walk = (value, where) => {
    if (typeof value === 'string') found.push([where, value]);
    else if (Array.isArray(value)) value.forEach((inner, i) => walk(inner, `${where}[${i}]`));
    else if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) walk(inner, `${where}.${JSON.stringify(key)}`);
    }
  };
  walk(pkg.exports, 'exports');
  return found;
}

function beforePacking(pkg) {
  if (pkg.exports !== undefined) pkg.exports = withoutSourceCondition(pkg.exports);
  delete pkg.scripts;
  delete pkg.devDependencies;
  const outside = targets(pkg).filter(([, path]) => !path.startsWith('./dist/') && path !== './package.json');
  if (outside.length > 0) {
    const list = outside.map(([where, path]) => `${where} -> ${path}`).join(', ');
    throw new Error(`${pkg.name}: a published package.json may only point into ./dist/, found ${list}`);
  }
  return pkg;
}

module.exports = { hooks: { beforePacking } };
