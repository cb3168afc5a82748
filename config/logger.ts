import pino, { type Logger } from 'pino';

/** Structured JSON logs. Secrets and link tokens never reach a logger; headers that carry them are redacted. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'secret', '*.secret'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
