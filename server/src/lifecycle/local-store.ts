import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { assertKey, type ObjectInfo, type ObjectStore, type PutBody } from './store.ts';

const TMP_SUFFIX = '.part';

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

async function fsync(path: string, flags: 'r' | 'r+'): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Objects as files under `root` (embedded mode: `data/archive`). A put writes a temporary file,
 * flushes it to disk and renames it into place, so a reader sees the old object or the whole new
 * one, and an object that `put` reported written survives a crash.
 */
export function createLocalStore(root: string): ObjectStore {
  const pathOf = (key: string) => {
    assertKey(key);
    return join(root, ...key.split('/'));
  };

  async function walk(dir: string, out: ObjectInfo[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full, out);
      else if (entry.isFile() && !entry.name.endsWith(TMP_SUFFIX)) {
        out.push({ key: relative(root, full).split(sep).join('/'), size: (await stat(full)).size });
      }
    }
  }

  return {
    kind: 'local',
    location: root,
    async put(key: string, body: PutBody) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.${randomBytes(6).toString('hex')}${TMP_SUFFIX}`;
      try {
        if (body instanceof Uint8Array) {
          const handle = await open(tmp, 'w');
          try {
            await handle.writeFile(body);
            await handle.sync();
          } finally {
            await handle.close();
          }
        } else {
          await copyFile(body.file, tmp);
          await fsync(tmp, 'r+');
        }
        await rename(tmp, path);
        await fsync(dirname(path), 'r');
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    },
    async get(key: string): Promise<Readable | null> {
      try {
        const handle = await open(pathOf(key), 'r');
        return handle.createReadStream();
      } catch (err) {
        if (isMissing(err)) return null;
        throw err;
      }
    },
    async head(key: string) {
      try {
        const info = await stat(pathOf(key));
        return info.isFile() ? { key, size: info.size } : null;
      } catch (err) {
        if (isMissing(err)) return null;
        throw err;
      }
    },
    async list(prefix: string) {
      // Walk only the folder the prefix names; filter the rest by string prefix.
      const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
      if (folder) assertKey(folder);
      const out: ObjectInfo[] = [];
      await walk(folder ? join(root, ...folder.split('/')) : root, out);
      return out.filter((o) => o.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : 1));
    },
    async delete(key: string) {
      try {
        await unlink(pathOf(key));
      } catch (err) {
        if (!isMissing(err)) throw err;
      }
    },
  };
}
