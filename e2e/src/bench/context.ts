// What every scenario gets: the configuration, and where its rows go.
import type { BenchConfig } from './args.js';
import { isAborting } from './lifecycle.js';
import type { LoadResult } from './loadgen.js';
import { status, summary, type Row } from './report.js';

export class BenchContext {
  readonly rows: Row[] = [];
  /** Lines a scenario prints after the table (the growth table). */
  readonly extra: string[] = [];

  constructor(readonly cfg: BenchConfig) {}

  /** Records a row and prints its status line (not while a signal is stopping the run: its figures are cut short). */
  add(row: Row): Row {
    if (isAborting()) return row;
    this.rows.push(row);
    status(summary(row));
    return row;
  }

  /** The row recorded under `key`, if that shape ran. */
  get(key: string): Row | undefined {
    return this.rows.find((r) => r.key === key);
  }

  /** The measured figures of a closed loop, as row fields. */
  measured(res: LoadResult): Pick<Row, 'opsPerSec' | 'p50Ms' | 'p99Ms' | 'errors' | 'serverCpuPct' | 'clientCpuPct'> {
    return {
      opsPerSec: res.opsPerSec, p50Ms: res.latency.quantile(0.5), p99Ms: res.latency.quantile(0.99), errors: res.errors,
      serverCpuPct: res.serverCpuPct, clientCpuPct: res.clientCpuPct,
    };
  }

  /** "64 in flight / 8 conns". */
  shape(inFlight: number, conns: number): string {
    return `${inFlight} in flight / ${conns} conn${conns === 1 ? '' : 's'}`;
  }
}
