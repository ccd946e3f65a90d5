// The name server logs as every dpns daemon does; the logger itself lives in @dpns/protocol.
export { createLogger } from '@dpns/protocol';
export type { Logger, LoggerOptions, LogLevel } from '@dpns/protocol';
