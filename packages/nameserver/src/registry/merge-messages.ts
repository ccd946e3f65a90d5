// What the name server and its snapshot thread (merge-worker.ts) tell each other, one job (one
// snapshot) at a time: its start, the changed names' lines in batches, the tables, then the end;
// back comes the file's size, or why there is none.

export type ToMerger =
  | {
    t: 'start';
    job: number;
    /** The data directory, and the new snapshot's index. */
    dir: string;
    index: number;
    /** The snapshot file before (its path and index), copied from. */
    base: string;
    baseIndex: number;
    head: string;
    nameCount: number;
  }
  | { t: 'changed'; job: number; names: string[]; lines: (string | undefined)[] }
  | { t: 'changed-end'; job: number }
  | { t: 'tables'; job: number; text: string }
  | { t: 'end'; job: number };

export type FromMerger =
  | { t: 'done'; job: number; bytes: number }
  /** `name` and `code` as the error had them (a StorageError's code, or a system call's errno). */
  | { t: 'failed'; job: number; name: string; message: string; code?: string };
