/**
 * Before the browser tests: say in one line why they are skipped when there is no Chromium;
 * otherwise build the web app when its build is missing or older than its sources (the server
 * under test serves `web/dist`, as `npm start` does).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export default function setup(): void {
  if (!existsSync(chromium)) {
    console.log(
      `Browser tests skipped: no Chromium at ${chromium} (install it with "apt-get install -y chromium", or set CHROMIUM_PATH).`,
    );
    return;
  }
  const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'ensure-web-build.mjs')], {
    cwd: root,
    encoding: 'utf8',
    // A production build whatever the test runner set.
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const output = `${build.stdout}${build.stderr}`;
  if (build.status !== 0 || /build failed/.test(output)) {
    throw new Error(`Could not build the web app for the browser tests:\n${output}`);
  }
  if (!existsSync(path.join(root, 'web', 'dist', 'index.html'))) {
    throw new Error('The web app build (web/dist/index.html) is missing after building it.');
  }
}
