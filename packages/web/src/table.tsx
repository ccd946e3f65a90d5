// The services table, virtualised: only the rows in view (and a few either side) are in the DOM,
// so 10,000 entries render as fast as 30. Rows have one fixed height, which makes the row of a
// scroll position a division.
//
// The grid is one scroll container, in both directions: the header row sticks to its top and
// scrolls sideways with the rows, so the columns stay under their headers at any width, and a
// narrow window scrolls the table rather than cutting columns off. The grid itself takes focus
// (it is what scrolls); the selected row is its active descendant.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { EntryStore } from './store.js';
import type { FilterStatus } from './filter.js';
import type { EntryView, ServiceView } from './protocol.js';
import { formatAge, formatLoad } from './format.js';

const ROW_HEIGHT = 28;
const OVERSCAN = 10;

export interface TableProps {
  store: EntryStore;
  /** The store's version: a new one renders again. */
  version: number;
  /** Which pattern the table shows, if any yet, and why the last one was refused. */
  filter: FilterStatus;
  selected: string | undefined;
  onSelect(name: string): void;
  onOpen(name: string): void;
  /** The server's clock now, for "how long in this state". */
  now: number;
}

/** What the table says instead of rows: before the first answer, after a refusal, or when nothing matches. */
type TableStatus = 'loading' | 'refused' | 'empty' | 'rows';

function tableStatus(filter: FilterStatus, total: number): TableStatus {
  if (filter.shown === undefined) return filter.error === undefined ? 'loading' : 'refused';
  return total === 0 ? 'empty' : 'rows';
}

export function ServicesTable(props: TableProps) {
  const { store, filter, selected, onSelect, onOpen, now } = props;
  const grid = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);

  useEffect(() => {
    const el = grid.current;
    if (el === null) return undefined;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    setHeight(el.clientHeight);
    return () => ro.disconnect();
  }, []);

  const total = store.size;
  // The sticky header covers the top row height of the viewport; the rows start below it.
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(total, Math.ceil((scrollTop + height - ROW_HEIGHT) / ROW_HEIGHT) + OVERSCAN);
  const rows = [];
  let activeId: string | undefined;
  for (let i = first; i < last; i++) {
    const e = store.at(i);
    if (e === undefined) continue;
    const isSelected = e.name === selected;
    // Only a row in the DOM can be the active descendant; scrolled away, the grid itself is.
    if (isSelected) activeId = rowId(i);
    rows.push(<Row key={e.name} entry={e} index={i} selected={isSelected} now={now} onSelect={onSelect} onOpen={onOpen} />);
  }

  const onKeyDown = (ev: KeyboardEvent) => {
    const el = grid.current;
    const page = el === null ? 1 : Math.max(1, Math.floor((el.clientHeight - ROW_HEIGHT) / ROW_HEIGHT) - 1);
    const at = selected === undefined ? -1 : store.indexOf(selected);
    let next: number;
    switch (ev.key) {
      case 'ArrowDown': next = at + 1; break;
      case 'ArrowUp': next = at - 1; break;
      case 'PageDown': next = at + page; break;
      case 'PageUp': next = at - page; break;
      case 'Home': next = 0; break;
      case 'End': next = total - 1; break;
      case 'Enter':
        if (selected !== undefined) onOpen(selected);
        return;
      default:
        // ArrowLeft and ArrowRight are left to the browser: they scroll a narrow table sideways.
        return;
    }
    ev.preventDefault();
    const e = store.at(Math.min(total - 1, Math.max(0, next)));
    if (e === undefined) return;
    onSelect(e.name);
    if (el !== null) scrollRowIntoView(el, store.indexOf(e.name));
  };

  const status = tableStatus(filter, total);
  return (
    <div class="table" data-count={total} data-version={props.version}>
      <div
        class="grid" role="grid" aria-label="Services" aria-rowcount={total + 1} aria-busy={status === 'loading' || filter.busy}
        aria-activedescendant={activeId} tabIndex={0} ref={grid}
        onScroll={(ev) => setScrollTop((ev.currentTarget as HTMLDivElement).scrollTop)} onKeyDown={onKeyDown}
      >
        <div class="row head" role="row" aria-rowindex={1}>
          <span role="columnheader" class="c-name">Name</span>
          <span role="columnheader" class="c-host">Host</span>
          <span role="columnheader" class="c-port">Port</span>
          <span role="columnheader" class="c-state">State</span>
          <span role="columnheader" class="c-load">Load</span>
          <span role="columnheader" class="c-target">Alias target</span>
        </div>
        <div class="spacer" style={{ height: `${total * ROW_HEIGHT}px` }}>
          {rows}
        </div>
      </div>
      {/* Outside the grid (a grid holds only rows), and always in the DOM, so that a screen
          reader announces "loading" turning into "no entries" or into the rows. */}
      <p class="table-status" role="status" data-testid="table-status" data-status={status}>
        {status === 'loading' && 'Loading entries…'}
        {status === 'refused' && 'No entries loaded: the server refused the filter (its answer is beside the Service box).'}
        {status === 'empty' && `No entries match ${filter.shown ?? ''}.`}
      </p>
    </div>
  );
}

function rowId(index: number): string {
  return `services-row-${index}`;
}

/** Scrolls the grid so that row `index` is in view below the sticky header. */
function scrollRowIntoView(el: HTMLElement, index: number): void {
  const top = index * ROW_HEIGHT;
  const visible = el.clientHeight - ROW_HEIGHT;
  if (top < el.scrollTop) el.scrollTop = top;
  else if (top + ROW_HEIGHT > el.scrollTop + visible) el.scrollTop = top + ROW_HEIGHT - visible;
}

interface RowProps {
  entry: EntryView;
  index: number;
  selected: boolean;
  now: number;
  onSelect(name: string): void;
  onOpen(name: string): void;
}

function Row({ entry: e, index, selected, now, onSelect, onOpen }: RowProps) {
  const cls = `row${selected ? ' selected' : ''}${index % 2 === 1 ? ' odd' : ''}`;
  const style = { transform: `translateY(${index * ROW_HEIGHT}px)` };
  const age = formatAge(now - e.since);
  const select = () => onSelect(e.name);
  const open = () => onOpen(e.name);
  const common = { id: rowId(index), class: cls, role: 'row' as const, 'aria-rowindex': index + 2, 'aria-selected': selected, 'data-name': e.name, style, onClick: select, onDblClick: open };
  if (e.kind === 'alias') {
    return (
      <div {...common} data-kind="alias">
        <span role="gridcell" class="c-name" title={e.name}>{e.name}</span>
        <span role="gridcell" class="c-host" />
        <span role="gridcell" class="c-port" />
        <span role="gridcell" class="c-state"><span class="state alias">alias</span> <span class="age">{age}</span></span>
        <span role="gridcell" class="c-load" />
        <span role="gridcell" class="c-target" title={e.target}>{e.target}</span>
      </div>
    );
  }
  return (
    <div {...common} data-kind="service" data-state={e.state}>
      <span role="gridcell" class="c-name" title={e.spec === undefined ? e.name : `${e.name} (auto-start on ${specHosts(e.spec)})`}>{e.name}</span>
      <span role="gridcell" class="c-host" title={e.launchedOn === undefined ? undefined : `launched on ${e.launchedOn}`}>{e.host ?? e.launchedOn ?? (e.spec === undefined ? '' : specHosts(e.spec))}</span>
      <span role="gridcell" class="c-port">{e.port ?? ''}</span>
      <span role="gridcell" class="c-state" title={e.reason}>
        <span class={`state ${e.state}`}>{e.state}</span> <span class="age">{age}</span>
        {e.reason !== undefined && (e.state === 'failed' || e.state === 'lost' || e.state === 'unhealthy') && <span class="reason">{e.reason}</span>}
      </span>
      <span role="gridcell" class="c-load">{formatLoad(e.load)}</span>
      <span role="gridcell" class="c-target" />
    </div>
  );
}

/** Where a launch spec may run: its host, or its list of hosts and patterns. */
function specHosts(spec: NonNullable<ServiceView['spec']>): string {
  return spec.host ?? (spec.hosts ?? []).join(', ');
}
