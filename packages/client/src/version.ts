// The version this build reports in --version (the package's version; the release checks they agree).
export const VERSION = '0.1.0';
