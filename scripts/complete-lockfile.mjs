#!/usr/bin/env node
// Adds lockfile entries for optional platform binaries that this machine's npm registry mirror
// does not serve (macOS/Windows builds of node-llama-cpp and msgpackr-extract). npm records only
// the packages it could resolve, and `npm ci` then refuses the lockfile as out of sync. The added
// entries carry `os`/`cpu`, so npm skips them on Linux without fetching anything.
// Run after `npm install` changes package-lock.json: `node scripts/complete-lockfile.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';

const lockPath = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const platformOf = (name) => {
  const rules = [
    [/darwin-arm64|mac-arm64/, ['darwin', 'arm64']],
    [/darwin-x64|mac-x64/, ['darwin', 'x64']],
    [/win32-x64|win-x64/, ['win32', 'x64']],
    [/win-arm64|win32-arm64/, ['win32', 'arm64']],
    [/linux-riscv64/, ['linux', 'riscv64']],
    [/linux-arm64/, ['linux', 'arm64']],
    [/linux-armv7l|linux-arm$/, ['linux', 'arm']],
  ];
  for (const [pattern, platform] of rules) if (pattern.test(name)) return platform;
  return undefined;
};

let added = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (lock.packages[key]) continue;
    const platform = platformOf(name);
    if (!platform) {
      console.warn(
        `complete-lockfile: ${name} (needed by ${path || 'the root'}) is missing and not a known platform package`,
      );
      continue;
    }
    lock.packages[key] = { version, cpu: [platform[1]], license: 'MIT', optional: true, os: [platform[0]] };
    added += 1;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
writeFileSync(lockPath, JSON.stringify(lock, null, 2) + '\n');
console.log(`complete-lockfile: added ${added} platform entries`);
