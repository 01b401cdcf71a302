/** The HTML pages' sortable tables (inspect, diff and fleet pages). */

export interface Column<T> {
  title: string;
  cell: (row: T) => string;
  /** Sort key; absent: the column does not sort. */
  key?: (row: T) => number | string;
  num?: true;
}

/** A table whose sortable headers sort it (a second click reverses). */
export function sortable<T>(el: HTMLElement, rows: T[], columns: Column<T>[]): void {
  let by = -1;
  let desc = true;
  const render = () => {
    const sorted = by < 0 ? rows : [...rows].sort((x, y) => {
      const kx = columns[by].key!(x), ky = columns[by].key!(y);
      const c = kx < ky ? -1 : kx > ky ? 1 : 0;
      return desc ? -c : c;
    });
    const head = columns
      .map((c, i) => `<th${c.key ? ` class="sort${i === by ? (desc ? ' desc' : ' asc') : ''}" data-col="${i}"` : ''}${c.num ? ' data-num' : ''}>${c.title}</th>`)
      .join('');
    const body = sorted.map((r) => `<tr>${columns.map((c) => `<td${c.num ? ' class="num"' : ''}>${c.cell(r)}</td>`).join('')}</tr>`).join('');
    el.innerHTML = `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
  };
  el.addEventListener('click', (e) => {
    const th = (e.target as HTMLElement).closest<HTMLElement>('th[data-col]');
    if (!th) return;
    const i = Number(th.dataset.col);
    desc = i === by ? !desc : true;
    by = i;
    render();
  });
  render();
}
