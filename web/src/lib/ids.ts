/** A fresh idempotency key: a UUID, within the server's 8-64 `[A-Za-z0-9_\-:.]` rule. */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}
