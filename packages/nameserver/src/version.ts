// The version this build reports in `hello` and --version.
export const VERSION = '0.1.0';
