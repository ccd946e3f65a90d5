// The growth scenario's picture: one small panel per figure against the registry size (log
// scale), rendered to SVG by ECharts' server-side renderer (no browser, no DOM).
import * as echarts from 'echarts';

/** One measured size. */
export interface GrowthPoint {
  names: number;
  writesPerSec: number;
  /** The server's CPU time per durable write, µs: unlike writes/s, hardly moved by other work on the machine. */
  cpuUsPerWrite: number;
  /**
   * The same writes and finds against a second server holding the smallest size, measured in
   * slices alternating with this size's (one run, one machine state: the targets' ratios are
   * taken against these). NaN when the run measured one size only.
   */
  reference: { writesPerSec: number; cpuUsPerWrite: number; findP99Ms: number };
  /** Writes and finds answered with an error in the measured windows: when many, the figures above are not the server's. */
  errors: number;
  findP99Ms: number;
  /** RSS 2 s after the fill: with the fill's garbage, which V8 keeps until it is at rest. */
  rssMB: number;
  /** RSS after the server sat idle for the rest period (V8's memory reducer has run by then): what the names themselves hold. */
  rssRestMB: number;
  /** RSS 2 s after the kill -9 restart: the same registry read back from the data directory. */
  rssRestartMB: number;
  dataDirMB: number;
  restartMs: number;
  /** The same restart as the release binary runs the server (one esbuild bundle, node_modules inside): NaN when it could not be built. */
  restartBundleMs: number;
}

interface Panel {
  title: string;
  pick: (p: GrowthPoint) => number;
  /** A target line, where the issue sets one that does not depend on the smallest size. */
  target?: (names: number) => number | undefined;
  /** A second figure of the same kind, drawn dashed (left out where it is NaN). */
  also?: (p: GrowthPoint) => number;
}

const PANELS: Panel[] = [
  { title: 'durable advertise, writes/s (dashed: the first size, same slices)', pick: (p) => p.writesPerSec, also: (p) => p.reference.writesPerSec },
  { title: 'server CPU per write, µs (dashed: the first size, same slices)', pick: (p) => p.cpuUsPerWrite, also: (p) => p.reference.cpuUsPerWrite },
  { title: 'find p99, ms (one client; dashed: the first size, same slices)', pick: (p) => p.findP99Ms, also: (p) => p.reference.findP99Ms },
  { title: 'RSS at rest, MiB (dashed: 2 s after the fill)', pick: (p) => p.rssRestMB, also: (p) => p.rssMB, target: (n) => (n >= 1_000_000 ? 500 / 1.048576 : undefined) },
  { title: 'data directory, MiB', pick: (p) => p.dataDirMB },
  {
    title: 'kill -9 → answering, ms (dashed: release bundle)', pick: (p) => p.restartMs, also: (p) => p.restartBundleMs,
    target: (n) => (n === 100_000 ? 500 : n === 1_000_000 ? 2000 : undefined),
  },
];

const WIDTH = 960;
const HEIGHT = 600;
const COLS = 3;

/** The SVG text of the chart for `points` (smallest size first); `caption` goes under the title. */
export function growthChartSvg(points: readonly GrowthPoint[], caption: string): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: WIDTH, height: HEIGHT });
  const cellW = (WIDTH - 40) / COLS;
  const cellH = (HEIGHT - 90) / 2;
  const grids = PANELS.map((_, k) => ({
    left: 20 + (k % COLS) * cellW + 55, top: 70 + Math.floor(k / COLS) * cellH + 40, width: cellW - 85, height: cellH - 85,
  }));
  chart.setOption({
    animation: false,
    backgroundColor: '#fff',
    title: [
      { text: 'dpns costs as the registry grows', subtext: caption, left: 'center', top: 4, textStyle: { fontSize: 15 }, subtextStyle: { fontSize: 11 } },
      ...PANELS.map((p, k) => ({ text: p.title, left: (grids[k]?.left ?? 0) - 40, top: (grids[k]?.top ?? 0) - 24, textStyle: { fontSize: 12 } })),
    ],
    grid: grids,
    xAxis: PANELS.map((_, k) => ({
      type: 'log', gridIndex: k, name: 'names', nameLocation: 'middle', nameGap: 22, logBase: 10,
      min: (v: { min: number }) => 10 ** Math.floor(Math.log10(v.min)), max: (v: { max: number }) => 10 ** Math.ceil(Math.log10(v.max)),
      axisLabel: { formatter: (v: number) => (v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : String(v)) },
    })),
    yAxis: PANELS.map((_, k) => ({ type: 'value', gridIndex: k, min: 0, splitLine: { lineStyle: { color: '#eee' } } })),
    series: PANELS.flatMap((p, k) => {
      const line = {
        type: 'line', xAxisIndex: k, yAxisIndex: k, symbolSize: 7, color: '#3366aa',
        label: { show: true, fontSize: 10, formatter: (x: { value: [number, number] }) => fmt(x.value[1]) },
        data: points.map((pt) => [pt.names, p.pick(pt)]),
      };
      const also = p.also;
      const dashed = also === undefined ? [] : [{
        ...line, color: '#33aa66', lineStyle: { type: 'dashed' }, label: { ...line.label, position: 'bottom' },
        data: points.filter((pt) => Number.isFinite(also(pt))).map((pt) => [pt.names, also(pt)]),
      }];
      const t = p.target;
      const targets = t === undefined ? [] : points.flatMap((pt) => {
        const y = t(pt.names);
        return y === undefined ? [] : [[pt.names, y]];
      });
      return targets.length === 0 ? [line, ...dashed] : [line, ...dashed, {
        type: 'scatter', xAxisIndex: k, yAxisIndex: k, symbol: 'rect', symbolSize: [14, 2], color: '#cc3333', data: targets,
      }];
    }),
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return `${svg}\n`;
}

function fmt(v: number): string {
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}
