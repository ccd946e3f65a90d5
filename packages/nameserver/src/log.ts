// The name server logs as every dpns daemon does; the logger itself lives in @dpns/node-kit.
export { createLogger } from '@dpns/node-kit';
export type { Logger, LoggerOptions, LogLevel } from '@dpns/node-kit';
