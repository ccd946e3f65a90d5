// Writing systemd units: what the daemons' install commands share.

/**
 * One ExecStart word: bare when it is plainly safe, else double-quoted. `%` (specifiers) and
 * `$` (variable expansion) are doubled either way, so a path is taken literally.
 */
export function quoteExecArg(arg: string): string {
  const literal = arg.replaceAll('%', '%%').replaceAll('$', '$$$$');
  if (/^[A-Za-z0-9_@%+=:,./$-]+$/.test(literal)) return literal;
  return `"${literal.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}
