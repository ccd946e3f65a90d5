/**
 * The release's program (multicall.ts and all it imports, in one script): the file beside the
 * loader (loader.ts) in a release folder, and its key among the single binary's embedded files.
 */
export const PROGRAM_FILE = 'dpns-program.cjs';
