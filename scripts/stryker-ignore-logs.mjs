// A Stryker ignorer (stryker.config.mjs): no mutants in log statements (`this.d.log.info(...)`,
// `log.warn(...)`). What a server logs is for its operator to read, not a contract a unit test
// asserts, so a mutant there would only count as a survivor nobody should kill. Stryker reports
// the mutants it skips as "Ignored", outside the score.
const LEVELS = new Set(['debug', 'info', 'warn', 'error']);

/** True for `log.<level>(...)` and `<anything>.log.<level>(...)`. */
function isLogCall(node) {
  if (node?.type !== 'CallExpression' || node.callee.type !== 'MemberExpression') return false;
  const { object, property } = node.callee;
  if (property.type !== 'Identifier' || !LEVELS.has(property.name)) return false;
  if (object.type === 'Identifier') return object.name === 'log';
  return object.type === 'MemberExpression' && object.property.type === 'Identifier' && object.property.name === 'log';
}

export const strykerPlugins = [
  {
    kind: 'Ignore',
    name: 'log-statements',
    value: {
      shouldIgnore(path) {
        if (path.isExpressionStatement() && isLogCall(path.node.expression)) return 'a log statement: text for operators, not a tested contract';
        return undefined;
      },
    },
  },
];
