import { STATUSES, type Overview } from './overview-queries.js';

/** One chart of the overview, as the table it is drawn from. */
export interface ChartTable {
  id: string;
  title: string;
  kind: 'line' | 'bar' | 'stacked';
  labelHeading: string;
  columns: string[];
  rows: { label: string; values: (number | string)[] }[];
}

const blank = (n: number | null) => (n === null ? '' : n);

/** The overview's charts, each a table first (readable without JavaScript). */
export function overviewCharts(o: Overview): ChartTable[] {
  const days = o.days;
  const table = (id: string, title: string, kind: ChartTable['kind'], columns: string[], values: (d: (typeof days)[number]) => (number | string)[]): ChartTable => ({
    id,
    title,
    kind,
    labelHeading: 'Day',
    columns,
    rows: days.map((d) => ({ label: d.day, values: values(d) })),
  });
  return [
    table('status', 'Subscribers by status', 'line', [...STATUSES], (d) => STATUSES.map((s) => d.status[s])),
    table('signups', 'Signups, confirmations and unsubscribes per day', 'bar', ['signups', 'confirmations', 'unsubscribes'], (d) => [d.signups, d.confirmations, d.unsubscribes]),
    {
      id: 'runs',
      title: 'Digests per run (latest 10)',
      kind: 'stacked',
      labelHeading: 'Run',
      columns: ['sent', 'skipped', 'failed'],
      rows: [...o.runs].reverse().map((r) => ({ label: r.runAt, values: [r.sent, r.skipped, r.failed] })),
    },
    table('digests', 'Digests sent, skipped and failed per day', 'stacked', ['sent', 'skipped', 'failed'], (d) => [d.sent, d.skipped, d.failed]),
    table('rates', 'Bounces and complaints per 1,000 digests sent', 'line', ['bounces per 1,000', 'complaints per 1,000'], (d) => [blank(d.bounceRate), blank(d.complaintRate)]),
    table('papers', 'Papers ingested per source per day', 'stacked', o.sources.length ? o.sources : ['(none yet)'], (d) => (o.sources.length ? o.sources.map((s) => d.papers[s] ?? 0) : [0])),
  ];
}
