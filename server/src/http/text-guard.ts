import type { FastifyInstance } from 'fastify';
import { DomainError } from '../errors.ts';

/**
 * PostgreSQL text cannot hold a NUL character, and an unpaired UTF-16 surrogate cannot be
 * encoded as UTF-8 (it would be stored as U+FFFD, not as sent). Such strings are refused with
 * 400 before validation, wherever they are (path, query, body, object keys), so none reaches a
 * query and every text that is accepted is stored and returned exactly as sent.
 */
const NUL = '\u0000';
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const MAX_DEPTH = 32;

const unstorable = (text: string) => text.includes(NUL) || text.search(LONE_SURROGATE) >= 0;
/** The key as it can be shown in the error message. */
const printable = (key: string) => key.replaceAll(NUL, '\uFFFD').replace(LONE_SURROGATE, '\uFFFD');

function findUnstorable(value: unknown, path: string, depth: number): string | null {
  if (typeof value === 'string') return unstorable(value) ? path : null;
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) return null;
  for (const [key, item] of Object.entries(value)) {
    const at = `${path}.${printable(key)}`;
    if (unstorable(key)) return at;
    const found = findUnstorable(item, at, depth + 1);
    if (found) return found;
  }
  return null;
}

export function registerTextGuard(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const parts = { params: request.params, querystring: request.query, body: request.body };
    for (const [part, value] of Object.entries(parts)) {
      const path = findUnstorable(value, part, 0);
      if (!path) continue;
      const message = 'text may not contain NUL characters or unpaired surrogates';
      throw new DomainError('VALIDATION_FAILED', `${path}: ${message}`, {
        issues: [{ path, message }],
      });
    }
  });
}
