// Deep freezing of what a module is handed: its registry entries, changes and query answers.
// They are the child's own copies (decoded from its pipe); freezing makes a write throw instead
// of quietly changing the module's view of the registry.

/** Freezes `v` and everything reachable from it; returns `v`. */
export function deepFreeze<T>(v: T): T {
  if (typeof v !== 'object' || v === null || Object.isFrozen(v)) return v;
  Object.freeze(v);
  for (const child of Object.values(v as object)) deepFreeze(child);
  return v;
}
