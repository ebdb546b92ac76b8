import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { assertKey, type ObjectInfo, type ObjectStore, type PutBody } from './store.ts';

export interface S3StoreOptions {
  bucket: string;
  region: string;
  /** MinIO or another S3-compatible service, e.g. http://minio:9000; unset for AWS itself. */
  endpoint?: string;
  /** Bucket in the path (`/bucket/key`) rather than the host name: what MinIO expects. */
  forcePathStyle: boolean;
  /** Unset: the SDK's default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Keys per ListObjectsV2 page (tests use a small one to exercise paging). */
  listPageSize?: number;
}

const notFound = (err: unknown) =>
  err instanceof S3ServiceException &&
  (err.$metadata.httpStatusCode === 404 || err.name === 'NoSuchKey' || err.name === 'NotFound');

/** The archive store on any S3 API through `@aws-sdk/client-s3`. */
export function createS3Store(opts: S3StoreOptions): ObjectStore {
  const client = new S3Client({
    region: opts.region,
    forcePathStyle: opts.forcePathStyle,
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    // Plain bodies with Content-Length: S3-compatible services (older MinIO among them) do not
    // all accept the SDK's newer default of aws-chunked uploads with trailing CRC checksums.
    // Integrity is ours to check anyway: every archive is read back and its sha256 compared.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = opts.bucket;

  return {
    kind: 's3',
    location: `s3://${Bucket}${opts.endpoint ? ` at ${opts.endpoint}` : ''}`,
    async put(key: string, body: PutBody, contentType = 'application/octet-stream') {
      assertKey(key);
      if (body instanceof Uint8Array) {
        await client.send(
          new PutObjectCommand({
            Bucket,
            Key: key,
            Body: body,
            ContentLength: body.byteLength,
            ContentType: contentType,
          }),
        );
        return;
      }
      const { size } = await stat(body.file);
      await client.send(
        new PutObjectCommand({
          Bucket,
          Key: key,
          Body: createReadStream(body.file),
          ContentLength: size,
          ContentType: contentType,
        }),
      );
    },
    async get(key: string) {
      assertKey(key);
      try {
        const res = await client.send(new GetObjectCommand({ Bucket, Key: key }));
        if (!res.Body) return Readable.from([]);
        return res.Body as Readable;
      } catch (err) {
        if (notFound(err)) return null;
        throw err;
      }
    },
    async head(key: string) {
      assertKey(key);
      try {
        const res = await client.send(new HeadObjectCommand({ Bucket, Key: key }));
        return { key, size: res.ContentLength ?? 0 };
      } catch (err) {
        if (notFound(err)) return null;
        throw err;
      }
    },
    async list(prefix: string) {
      const out: ObjectInfo[] = [];
      let token: string | undefined;
      do {
        const res = await client.send(
          new ListObjectsV2Command({
            Bucket,
            Prefix: prefix,
            ContinuationToken: token,
            ...(opts.listPageSize ? { MaxKeys: opts.listPageSize } : {}),
          }),
        );
        for (const o of res.Contents ?? []) {
          if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0 });
        }
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
      return out.sort((a, b) => (a.key < b.key ? -1 : 1));
    },
    async delete(key: string) {
      assertKey(key);
      await client.send(new DeleteObjectCommand({ Bucket, Key: key }));
    },
  };
}
