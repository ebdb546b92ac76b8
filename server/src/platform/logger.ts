import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from '../config.ts';

/** Query parameters that must never be logged, should a client put a secret in a URL. */
const SECRET_PARAM = /([?&](?:token|access_token|sid|session|password)=)[^&#]*/gi;

const censor = (value: unknown, path: readonly (string | symbol)[]): unknown =>
  path[0] === 'req' && path.at(-1) === 'url' && typeof value === 'string'
    ? value.replace(SECRET_PARAM, '$1[redacted]')
    : '[redacted]';

/** Tokens, passwords and cookies never reach the logs. */
export function createLogger(
  config: Pick<Config, 'logLevel' | 'instanceId'>,
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { instance: config.instanceId },
      redact: {
        paths: [
          'req.url',
          'req.headers.authorization',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
          '*.token',
          '*.password',
        ],
        censor,
      },
    },
    destination,
  );
}
