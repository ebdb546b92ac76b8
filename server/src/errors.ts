/**
 * Domain errors carry a stable code and know nothing of HTTP; `http/errors.ts` maps codes to
 * statuses in one place.
 */
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'MALFORMED_REQUEST',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'EMAIL_TAKEN',
  'INVALID_TRANSITION',
  'ORDER_NOT_CANCELLABLE',
  'ORDER_ALREADY_ASSIGNED',
  'OFFER_EXPIRED',
  'OFFER_NOT_PENDING',
  'LOCATION_REJECTED',
  'IDEMPOTENCY_IN_PROGRESS',
  'IDEMPOTENCY_KEY_REUSED',
  'MERCHANT_CLOSED',
  'MENU_ITEM_UNAVAILABLE',
  'UNKNOWN_MENU_ITEM',
  'UNKNOWN_MERCHANT',
  'OUTSIDE_DELIVERY_AREA',
  'NOT_DELIVERED',
  'ALREADY_RATED',
  'NOTHING_TO_RATE',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'DEPENDENCY_UNAVAILABLE',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string) => new DomainError('NOT_FOUND', `${what} not found`);

/**
 * Errors a dependency raises when it is down or saturated (a pool with no connection to spare
 * in time): the client may retry later, as 503 over HTTP and `UNAVAILABLE` over the WebSocket.
 */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
]);
const UNAVAILABLE_NAMES = new Set(['MaxRetriesPerRequestError', 'OpenBreakerError']);

export function isUnavailable(err: unknown): boolean {
  const { code, name, message } = err as { code?: unknown; name?: unknown; message?: unknown };
  return (
    (typeof code === 'string' &&
      (UNAVAILABLE_CODES.has(code) ||
        code.startsWith('08') ||
        code === '57P01' ||
        code === '57P03')) ||
    (typeof name === 'string' && UNAVAILABLE_NAMES.has(name)) ||
    (typeof message === 'string' &&
      /Connection is closed|connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|PGlite is closed|Cannot use a pool after calling end/i.test(
        message,
      ))
  );
}
