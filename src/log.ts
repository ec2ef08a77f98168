import { pino, destination, stdTimeFunctions, type Logger, type DestinationStream } from "pino";

export type { Logger };

/**
 * Structured JSON logs. Sensitive values never reach a logger: callers log names and
 * references, and these paths are redacted in case an object slips through whole.
 */
const REDACT = ["*.value", "*.data", "*.stringData", "*.token", "*.password", "env[*].value", "*.env[*].value"];

export function createLogger(options: { name: string; level?: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level ?? process.env.KTF_LOG_LEVEL ?? "info",
      base: { component: options.name },
      redact: { paths: REDACT, censor: "[redacted]" },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? destination({ fd: 2, sync: true }),
  );
}

/** A logger that drops everything, for tests and library callers that want silence. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
