// @dpns/launchd: the launch agent as a library, for tests and harnesses that run it in-process.
export { LaunchAgent } from './server.js';
export type { LaunchAgentOptions, AgentState } from './server.js';
export { loadConfig, ConfigError } from './config.js';
export type { AgentConfig } from './config.js';
export { AGENT_SETTINGS } from './settings.js';
export type { AgentSettings } from './settings.js';
export { install } from './install.js';
export type { InstallOptions } from './install.js';
export { renderUnit, UNIT_NAME, UNIT_STATE_DIR } from './unit.js';
export { INSTALL_DEFAULTS, starterConfig } from './install.js';
export { VERSION } from './version.js';
