import { pino, type Logger } from 'pino';
import type { Config } from '../config.ts';

/** Tokens and cookies never reach the logs. */
export function createLogger(config: Pick<Config, 'logLevel' | 'instanceId'>): Logger {
  return pino({
    level: config.logLevel,
    base: { instance: config.instanceId },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        '*.token',
        '*.password',
      ],
      censor: '[redacted]',
    },
  });
}
