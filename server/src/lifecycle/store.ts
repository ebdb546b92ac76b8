import type { Readable } from 'node:stream';

/**
 * The object-store port archives go through: an S3 bucket (MinIO or any S3 API) in production,
 * a local folder in embedded mode. Keys are `/`-separated paths such as
 * `orders/2025-01/<set>/orders.csv.gz`.
 */
export interface ObjectInfo {
  key: string;
  size: number;
}

/** Bytes in memory, or a file to stream from (large exports never sit in memory whole). */
export type PutBody = Uint8Array | { file: string };

export interface ObjectStore {
  readonly kind: 's3' | 'local';
  /** Where objects go, for logs and the CLI (never a secret). */
  readonly location: string;
  /** Writes the whole object, replacing one under the same key; durable once it resolves. */
  put(key: string, body: PutBody, contentType?: string): Promise<void>;
  /** The object's bytes as a stream, or null when there is no such key. */
  get(key: string): Promise<Readable | null>;
  head(key: string): Promise<ObjectInfo | null>;
  /** Every object whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Removes the object; resolves as well when it is already gone. */
  delete(key: string): Promise<void>;
}

const KEY = /^[A-Za-z0-9_.=-]+(\/[A-Za-z0-9_.=-]+)*$/;

/** Keys are plain relative paths: no `..`, no empty segment, no leading slash. */
export function assertKey(key: string): void {
  if (!KEY.test(key) || key.split('/').some((part) => part === '.' || part === '..')) {
    throw new Error(`invalid object key: ${JSON.stringify(key)}`);
  }
}

/** Reads a whole (small) object, e.g. a manifest; null when it does not exist. */
export async function readObject(store: ObjectStore, key: string): Promise<Buffer | null> {
  const stream = await store.get(key);
  if (!stream) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
