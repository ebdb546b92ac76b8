import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DomainError, isUnavailable, type ErrorCode } from '../errors.ts';

const STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  MALFORMED_REQUEST: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  EMAIL_TAKEN: 409,
  INVALID_TRANSITION: 409,
  ORDER_NOT_CANCELLABLE: 409,
  ORDER_ALREADY_ASSIGNED: 409,
  OFFER_EXPIRED: 409,
  OFFER_NOT_PENDING: 409,
  LOCATION_REJECTED: 422,
  IDEMPOTENCY_IN_PROGRESS: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  MERCHANT_CLOSED: 422,
  MENU_ITEM_UNAVAILABLE: 422,
  UNKNOWN_MENU_ITEM: 422,
  UNKNOWN_MERCHANT: 422,
  OUTSIDE_DELIVERY_AREA: 422,
  NOT_DELIVERED: 409,
  ALREADY_RATED: 409,
  NOTHING_TO_RATE: 422,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  DEPENDENCY_UNAVAILABLE: 503,
  INTERNAL: 500,
};

export function statusOf(code: ErrorCode): number {
  return STATUS[code];
}

export function errorBody(code: string, message: string, details?: Record<string, unknown>) {
  return { error: { code, message, ...(details ? { details } : {}) } };
}

/**
 * Errors Fastify's router raises before any route or hook runs (a malformed percent-encoding,
 * a path parameter over 100 characters): the API error shape instead of Fastify's own, and
 * without echoing the offending URL back.
 */
export function frameworkErrorHandler(
  err: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
  void reply
    .code(tooLong ? 414 : 400)
    .header('x-content-type-options', 'nosniff')
    .send(
      errorBody(
        'MALFORMED_REQUEST',
        tooLong ? 'A path segment is too long' : 'The URL is not validly encoded',
      ),
    );
}

export function registerErrorHandler(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .send(errorBody('NOT_FOUND', `Route ${request.method} ${request.url} not found`));
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof DomainError) {
      return reply.code(statusOf(err.code)).send(errorBody(err.code, err.message, err.details));
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = err.validation.map((v) => ({
        path: `${err.validationContext ?? 'request'}${v.instancePath.replaceAll('/', '.')}`.replace(
          /\.$/,
          '',
        ),
        message: v.message ?? 'invalid',
      }));
      const first = issues[0];
      const message = first ? `${first.path}: ${first.message}` : 'Invalid request';
      return reply.code(400).send(errorBody('VALIDATION_FAILED', message, { issues }));
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send(errorBody('PAYLOAD_TOO_LARGE', 'Request body is too large'));
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      // Fastify's own client errors: bad JSON, wrong content type, empty body.
      return reply.code(err.statusCode).send(errorBody('MALFORMED_REQUEST', err.message));
    }
    if (isUnavailable(err)) {
      request.log.warn({ err }, 'dependency unavailable');
      return reply
        .code(503)
        .header('retry-after', '5')
        .send(errorBody('DEPENDENCY_UNAVAILABLE', 'A dependency is unavailable, retry shortly'));
    }
    request.log.error({ err }, 'unhandled error');
    return reply.code(500).send(errorBody('INTERNAL', `Internal error (request ${request.id})`));
  });
}
