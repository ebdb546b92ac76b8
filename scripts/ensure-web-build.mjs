#!/usr/bin/env node
// Builds the web app before `npm start` when its build is missing or older than its sources,
// so a fresh clone serves the app after `npm install && npm start`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('../web/', import.meta.url));
const built = path.join(web, 'dist', 'index.html');
const sources = ['src', 'public', 'index.html', 'vite.config.ts', 'package.json'].map((p) =>
  path.join(web, p),
);

/** The newest modification time under `p` (a file or a folder). */
function newest(p) {
  if (!existsSync(p)) return 0;
  const stat = statSync(p);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const entry of readdirSync(p)) latest = Math.max(latest, newest(path.join(p, entry)));
  return latest;
}

const builtAt = existsSync(built) ? statSync(built).mtimeMs : 0;
const changedAt = Math.max(...sources.map(newest));

if (builtAt >= changedAt) {
  console.log('web app build is up to date (web/dist)');
  process.exit(0);
}
console.log(
  builtAt ? 'web app sources changed: rebuilding web/dist' : 'building the web app (web/dist)',
);
const result = spawnSync('npm', ['run', 'build', '-w', 'web'], {
  stdio: 'inherit',
  cwd: fileURLToPath(new URL('..', import.meta.url)),
});
if (result.status !== 0) {
  // The server still starts: it explains at / how to build the app.
  console.error('web app build failed; the server starts without it');
}
