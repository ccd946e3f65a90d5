// The version this build reports in its hello and --version.
export const VERSION = '0.1.0';
