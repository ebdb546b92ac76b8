import { ErrorBody } from '@delivery/contracts';
import { useSession } from '../stores/session.ts';

/** Anything with zod's `parse`: the response schemas of `@delivery/contracts`. */
export interface Schema<T> {
  parse(data: unknown): T;
}

/**
 * A failed API call. `message` is the server's own message (`{error:{message}}`), meant for
 * the user; `code` is the stable machine code (`MERCHANT_CLOSED`, `NETWORK_ERROR`, ...).
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  /** True when the request may never have reached the server (retry with the same key). */
  get isNetwork(): boolean {
    return this.status === 0;
  }
}

export const API_BASE = '/api/v1';

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface ApiResponse<T> {
  data: T;
  status: number;
  headers: Headers;
}

function urlOf(path: string, query: RequestOptions['query']): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const qs = params.toString();
  return `${API_BASE}${path}${qs ? `?${qs}` : ''}`;
}

async function errorFrom(res: Response): Promise<ApiError> {
  let json: unknown = null;
  try {
    json = await res.json();
  } catch {
    // Not JSON (a proxy's error page, an empty body): fall through to a generic message.
  }
  const parsed = ErrorBody.safeParse(json);
  if (parsed.success) {
    const { code, message, details } = parsed.data.error;
    const retryAfter = res.headers.get('retry-after');
    const hint = res.status === 429 && retryAfter ? ` (retry in ${retryAfter} s)` : '';
    return new ApiError(res.status, code, message + hint, details);
  }
  return new ApiError(res.status, `HTTP_${res.status}`, `The server answered ${res.status}.`);
}

/** One call to the public API, with the session's bearer token and the cookie. */
export async function send<T>(
  path: string,
  schema: Schema<T> | null,
  opts: RequestOptions = {},
): Promise<ApiResponse<T>> {
  const token = useSession.getState().token;
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;

  let res: Response;
  try {
    res = await fetch(urlOf(path, opts.query), {
      method: opts.method ?? 'GET',
      headers,
      credentials: 'include',
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(
      0,
      'NETWORK_ERROR',
      'Cannot reach the server. Check your connection and try again.',
    );
  }

  if (!res.ok) {
    const error = await errorFrom(res);
    // A token the server no longer knows (expired, revoked): the user has to sign in again.
    if (error.status === 401 && token && useSession.getState().token === token) {
      useSession.getState().signOut();
    }
    throw error;
  }
  if (res.status === 204 || schema === null) {
    return { data: undefined as T, status: res.status, headers: res.headers };
  }
  const json: unknown = await res.json();
  try {
    return { data: schema.parse(json), status: res.status, headers: res.headers };
  } catch (err) {
    const issue = (err as { issues?: { path: PropertyKey[]; message: string }[] }).issues?.[0];
    const where = issue ? ` (${issue.path.map(String).join('.')}: ${issue.message})` : '';
    throw new ApiError(
      res.status,
      'BAD_RESPONSE',
      `The server's answer to ${opts.method ?? 'GET'} ${path} did not match the API contract${where}.`,
    );
  }
}

export async function request<T>(
  path: string,
  schema: Schema<T> | null,
  opts: RequestOptions = {},
): Promise<T> {
  return (await send(path, schema, opts)).data;
}

/** The message to show for any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return 'Something went wrong.';
}
