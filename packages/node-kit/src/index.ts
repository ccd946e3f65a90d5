// @dpns/node-kit: what the dpns programs share that only runs in Node (files, the process, the
// single executable, native crypto). The wire contract itself is @dpns/protocol, which runs anywhere.
export { createLogger } from './log.js';
export type { Logger, LoggerOptions, LogLevel } from './log.js';
export { ConfigError, readConfigFile, parseHostPort, formatHostPort, settingNonEmpty, settingInt, settingOneOf } from './config-file.js';
export { fsyncDir, fsyncDirSync } from './fsync-dir.js';
export { replaceFileDurably } from './replace-file.js';
export type { ReplaceOptions } from './replace-file.js';
export { PRIVATE_KEY_BEGIN, PRIVATE_KEY_END, formatPrivateKeyFile, parsePrivateKeyFile, mentionsPrivateKey } from './key-file.js';
export { quoteExecArg } from './systemd.js';
export { COMMAND_NAMES, isSingleExecutable, embeddedFile, singleExecutableCommand } from './single-executable.js';
export { nativeEd25519, nativeSigningKeyFromSeed } from './native-ed25519.js';
export { nativeHmacSha256, nativeX25519 } from './native-x25519.js';
