// @dpns/nameserver: the daemon, for embedding in tests, benchmarks and other programs.
export { startNameServer } from './start.js';
export type { StartOptions, RunningNameServer } from './start.js';
export { NameServer } from './server.js';
export type { NameServerOptions, ServerState } from './server.js';
export { loadConfig, ConfigError } from './config.js';
export type { ServerConfig } from './config.js';
export { SERVER_SETTINGS } from './settings.js';
export type { ServerSettings } from './settings.js';
export { createLogger } from './log.js';
export type { Logger, LogLevel } from './log.js';
export { VERSION } from './version.js';
// The cluster key never travels; tests that check the wire need it to know what to look for.
export { deriveClusterKey } from './cluster/peer-link.js';
export { renderUnit, UNIT_NAME, DATA_DIR } from './unit.js';
export type { UnitOptions } from './unit.js';
export { EMBEDDED_WEB, filesInDir } from './web/assets.js';
