import type { Config } from '../config.ts';
import { createLocalStore } from './local-store.ts';
import type { ObjectStore } from './store.ts';

/**
 * The archive store the configuration names: S3 (MinIO, AWS, any S3 API) when
 * ARCHIVE_S3_BUCKET is set, else the local folder ARCHIVE_DIR (default `data/archive`), else
 * none (DATA_DIR=memory without ARCHIVE_DIR): jobs that archive then fail and say so.
 */
export async function createArchiveStore(config: Config): Promise<ObjectStore | null> {
  const { s3, dir } = config.archive;
  // The AWS SDK is loaded only when S3 is configured.
  if (s3) return (await import('./s3-store.ts')).createS3Store(s3);
  if (dir) return createLocalStore(dir);
  return null;
}
