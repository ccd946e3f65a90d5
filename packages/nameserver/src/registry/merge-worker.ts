// The thread a snapshot made from the one before is written on (merge-thread.ts starts it): it
// reads the file before, checks it against its CRC as it goes, copies the unchanged lines, puts in
// the changed ones the name server sends it, and writes, fsyncs and renames the new file. At a
// million names that pass is ~6 µs of CPU a write (read, scan, two CRCs, copies, writes), which
// on the event loop was a tenth of what a write cost; here it runs on the second core.
import { parentPort } from 'node:worker_threads';
import { readSnapshotBody } from '../storage/snapshot-body.js';
import { writeSnapshotStream } from '../storage/snapshot-stream.js';
import { mergeLines, type ChangedLines } from './snapshot-merge.js';
import type { FromMerger, ToMerger } from './merge-messages.js';

const port = parentPort;
if (port === null) throw new Error('merge-worker.js runs as a worker thread (merge-thread.ts starts it)');

/** The current job's messages after its start, waiting to be read. */
class Inbox {
  private readonly queued: ToMerger[] = [];
  private wake: (() => void) | undefined;

  put(m: ToMerger): void {
    this.queued.push(m);
    this.wake?.();
    this.wake = undefined;
  }

  async take(): Promise<ToMerger> {
    while (this.queued.length === 0) await new Promise<void>((r) => (this.wake = r));
    return this.queued.shift() as ToMerger;
  }
}

let inbox: { job: number; box: Inbox } | undefined;

port.on('message', (m: ToMerger) => {
  if (m.t === 'start') {
    const box = new Inbox();
    inbox = { job: m.job, box };
    void run(m, box);
  } else if (inbox?.job === m.job) inbox.box.put(m);
});

async function run(job: Extract<ToMerger, { t: 'start' }>, box: Inbox): Promise<void> {
  let reply: FromMerger;
  try {
    async function* changed(): AsyncGenerator<ChangedLines> {
      for (;;) {
        const m = await box.take();
        if (m.t === 'changed-end') return;
        if (m.t !== 'changed') throw new Error(`the snapshot thread got ${m.t} among the changed names`);
        yield { names: m.names, lines: m.lines };
      }
    }
    async function* tables(): AsyncGenerator<string> {
      for (;;) {
        const m = await box.take();
        if (m.t === 'end') return;
        if (m.t !== 'tables') throw new Error(`the snapshot thread got ${m.t} among the tables`);
        yield m.text;
      }
    }
    const lines = mergeLines({ head: job.head, nameCount: job.nameCount, changed: changed(), tables }, readSnapshotBody(job.base, job.baseIndex));
    const bytes = await writeSnapshotStream(job.dir, job.index, lines);
    reply = { t: 'done', job: job.job, bytes };
  } catch (err) {
    const e: Error & { code?: unknown } = err instanceof Error ? err : new Error(String(err));
    reply = { t: 'failed', job: job.job, name: e.name, message: e.message, ...(typeof e.code === 'string' ? { code: e.code } : {}) };
  }
  if (inbox?.box === box) inbox = undefined;
  port?.postMessage(reply);
}
