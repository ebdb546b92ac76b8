import { DomainError } from '../errors.ts';

/** Keyset pagination: the cursor is the (created_at, id) of the last row, opaque to clients. */
export function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.toISOString()}|${id}`).toString('base64url');
}

export function decodeCursor(
  cursor: string | undefined,
): { createdAt: string; id: string } | undefined {
  if (!cursor) return undefined;
  const [createdAt, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  if (!createdAt || !id || Number.isNaN(Date.parse(createdAt)) || !uuid.test(id)) {
    throw new DomainError('VALIDATION_FAILED', 'cursor is not one this server gave out');
  }
  return { createdAt, id };
}
