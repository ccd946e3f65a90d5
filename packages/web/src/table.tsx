// The services table, virtualised: only the rows in view (and a few either side) are in the DOM,
// so 10,000 entries render as fast as 30. Rows have one fixed height, which makes the row of a
// scroll position a division.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { EntryStore } from './store.js';
import type { EntryView } from './protocol.js';
import { formatAge, formatLoad } from './format.js';

const ROW_HEIGHT = 28;
const OVERSCAN = 10;

export interface TableProps {
  store: EntryStore;
  /** The store's version: a new one renders again. */
  version: number;
  selected: string | undefined;
  onSelect(name: string): void;
  onOpen(name: string): void;
  /** The server's clock now, for "how long in this state". */
  now: number;
}

export function ServicesTable(props: TableProps) {
  const { store, selected, onSelect, onOpen, now } = props;
  const body = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);

  useEffect(() => {
    const el = body.current;
    if (el === null) return undefined;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    setHeight(el.clientHeight);
    return () => ro.disconnect();
  }, []);

  const total = store.size;
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(total, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const rows = [];
  for (let i = first; i < last; i++) {
    const e = store.at(i);
    if (e !== undefined) rows.push(<Row key={e.name} entry={e} index={i} selected={e.name === selected} now={now} onSelect={onSelect} onOpen={onOpen} />);
  }

  const onKeyDown = (ev: KeyboardEvent) => {
    const at = selected === undefined ? -1 : store.indexOf(selected);
    let next = at;
    if (ev.key === 'ArrowDown') next = Math.min(total - 1, at + 1);
    else if (ev.key === 'ArrowUp') next = Math.max(0, at - 1);
    else if (ev.key === 'Enter' && selected !== undefined) return onOpen(selected);
    else return undefined;
    ev.preventDefault();
    const e = store.at(next);
    if (e === undefined) return undefined;
    onSelect(e.name);
    const el = body.current;
    if (el !== null) {
      const top = next * ROW_HEIGHT;
      if (top < el.scrollTop) el.scrollTop = top;
      else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW_HEIGHT - el.clientHeight;
    }
    return undefined;
  };

  return (
    <div class="table" role="grid" aria-rowcount={total + 1} data-count={total} data-version={props.version}>
      <div class="row head" role="row">
        <span role="columnheader" class="c-name">Name</span>
        <span role="columnheader" class="c-host">Host</span>
        <span role="columnheader" class="c-port">Port</span>
        <span role="columnheader" class="c-state">State</span>
        <span role="columnheader" class="c-load">Load</span>
        <span role="columnheader" class="c-target">Alias target</span>
      </div>
      <div class="body" ref={body} tabIndex={0} onScroll={(ev) => setScrollTop((ev.currentTarget as HTMLDivElement).scrollTop)} onKeyDown={onKeyDown}>
        <div class="spacer" style={{ height: `${total * ROW_HEIGHT}px` }}>
          {rows}
        </div>
        {total === 0 && <p class="empty">No entries match this pattern.</p>}
      </div>
    </div>
  );
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
  if (e.kind === 'alias') {
    return (
      <div class={cls} role="row" aria-selected={selected} data-name={e.name} data-kind="alias" style={style} onClick={select} onDblClick={open}>
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
    <div class={cls} role="row" aria-selected={selected} data-name={e.name} data-kind="service" data-state={e.state} style={style} onClick={select} onDblClick={open}>
      <span role="gridcell" class="c-name" title={e.spec === undefined ? e.name : `${e.name} (auto-start on ${e.spec.host})`}>{e.name}</span>
      <span role="gridcell" class="c-host">{e.host ?? e.spec?.host ?? ''}</span>
      <span role="gridcell" class="c-port">{e.port ?? ''}</span>
      <span role="gridcell" class="c-state" title={e.reason}>
        <span class={`state ${e.state}`}>{e.state}</span> <span class="age">{age}</span>
        {e.reason !== undefined && (e.state === 'failed' || e.state === 'lost') && <span class="reason">{e.reason}</span>}
      </span>
      <span role="gridcell" class="c-load">{formatLoad(e.load)}</span>
      <span role="gridcell" class="c-target" />
    </div>
  );
}
