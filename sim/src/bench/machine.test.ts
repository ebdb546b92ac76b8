import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERVER_NODE_FLAGS } from './machine.ts';

const read = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');

describe('SERVER_NODE_FLAGS', () => {
  it('are the flags `npm start` and the Dockerfile run the server with', () => {
    const start = (JSON.parse(read('server/package.json')) as { scripts: { start: string } })
      .scripts.start;
    const cmd = /^CMD (\[.*\])$/m.exec(read('Dockerfile'))?.[1];
    expect(cmd).toBeDefined();
    const docker = JSON.parse(cmd!) as string[];
    for (const flag of SERVER_NODE_FLAGS) {
      expect(start.split(/\s+/)).toContain(flag);
      expect(docker).toContain(flag);
    }
    expect(SERVER_NODE_FLAGS.length).toBeGreaterThan(0);
  });
});
