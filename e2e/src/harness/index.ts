// The e2e harness: real processes, temporary directories, and teardown that leaves nothing behind.
export { startServerProcess } from './server.js';
export type { ServerProcess, StartServerOptions } from './server.js';
export { runCli, spawnCli } from './cli.js';
export type { CliOptions, CliResult, CliProcess } from './cli.js';
export { makeTempDir, removeTempDirs } from './tmp.js';
export { trackChild, killChild, killChildren } from './children.js';
export type { ExitInfo } from './children.js';
export { LineLog } from './lines.js';
export type { LineMatcher } from './lines.js';
export { REPO_ROOT, NAMESERVER_BIN, CLI_BIN, FIXTURES_DIR, LAUNCHD_BIN, ECHO_SERVICE } from './paths.js';
export { startAgentProcess } from './agent.js';
export type { AgentProcess, StartAgentOptions } from './agent.js';
export { spawnFixture } from './fixture.js';
export type { FixtureProcess } from './fixture.js';
export { teardown } from './teardown.js';
export { createTestNet, netnsUnavailable } from './netns.js';
export type { TestNet, TestHost } from './netns.js';
