/**
 * Realistic artifacts of every type, seeded through the API as a Prefect flow would publish
 * them: a flow and a completed run, a report with three versions, tables in both of Prefect's
 * shapes, a link, progress, an image, a result, an unkeyed artifact, and a batch of keys for
 * paging. The screenshots in the README are taken over this data.
 */
import type { UiServer } from './support.ts';

export interface Seeded {
  runId: string;
  report: { ids: string[] }; // oldest first; the last is the latest
  rowsTable: string;
  columnsTable: string;
  link: string;
  progress: string;
  image: string;
  result: string;
  unkeyed: string;
  batchKeys: string[];
}

async function create(server: UiServer, artifact: Record<string, unknown>): Promise<string> {
  const reply = await server.api('POST', '/artifacts/', artifact);
  if (reply.status !== 201) throw new Error(`seed failed: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body.id;
}

const REPORT = (day: number, north: number, south: number) => `# Nightly sales — day ${day}

Revenue closed **${(north + south).toLocaleString('en-US')} USD** across two regions.

## Highlights
- North grew on renewals
- South held steady despite *two* outages
- See the [dashboard](https://grafana.example.com/d/sales) for detail

| region | orders | revenue |
|:-------|-------:|--------:|
| north  | ${Math.round(north / 90)} | ${north.toLocaleString('en-US')} |
| south  | ${Math.round(south / 85)} | ${south.toLocaleString('en-US')} |

\`\`\`sql
select region, count(*), sum(amount) from orders group by region;
\`\`\`
`;

export async function seed(server: UiServer, imageUrl: string): Promise<Seeded> {
  const flow = await server.api('POST', '/flows/', { name: 'nightly-etl' });
  const run = await server.api('POST', '/flow_runs/', { flow_id: flow.body.id, name: 'brave-otter', state: { type: 'RUNNING' }, tags: ['nightly'] });
  const runId: string = run.body.id;
  await server.api('POST', `/flow_runs/${runId}/set_state`, { state: { type: 'COMPLETED' } });
  const onRun = { flow_run_id: runId };

  const batchKeys: string[] = [];
  for (let i = 1; i <= 22; i++) {
    const key = `batch-${String(i).padStart(2, '0')}`;
    batchKeys.push(key);
    await create(server, { key, type: 'progress', data: i * 4, description: `Import batch ${i}` });
  }
  const result = await create(server, { key: 'model-metrics', type: 'result', data: JSON.stringify({ accuracy: 0.931, f1: 0.904, confusion: [[812, 41], [37, 610]] }), description: 'Validation metrics of the churn model' });
  const unkeyed = await create(server, { type: 'markdown', data: '## Scratch notes\n\nNo key: this artifact has no history.', ...onRun });
  const image = await create(server, { key: 'daily-chart', type: 'image', data: imageUrl, description: 'Orders per day, last week', ...onRun });
  const progress = await create(server, { key: 'etl-progress', type: 'progress', data: 42.5, description: 'Rows loaded into the warehouse', ...onRun });
  const link = await create(server, { key: 'sales-dashboard', type: 'link', data: '[Sales dashboard](https://grafana.example.com/d/sales)', description: 'Where the numbers live' });
  const columnsTable = await create(server, {
    key: 'warehouse-stock',
    type: 'table',
    data: { sku: ['A-100', 'B-220', 'C-310'], item: ['Bolts', 'Brackets', 'Cables'], on_hand: [1200, 85, 430], reorder: [false, true, false] },
    description: 'Stock per SKU (a dict of columns)',
  });
  const rowsTable = await create(server, {
    key: 'regional-totals',
    type: 'table',
    data: JSON.stringify([
      { region: 'north', orders: 212, revenue: 19_080, manager: 'Ada Byron' },
      { region: 'south', orders: 180, revenue: 15_300, manager: 'Grace Hopper' },
      { region: 'east', orders: 95, revenue: 8_550, manager: null },
      { region: 'west', orders: 143, revenue: 12_870, manager: 'Alan Turing' },
    ]),
    description: 'Orders and revenue per region (JSON list of rows)',
    metadata_: { owner: 'sales-ops', source: 'warehouse.orders' },
    ...onRun,
  });
  const ids: string[] = [];
  for (const [day, north, south] of [[27, 17_400, 14_950], [28, 18_230, 15_010], [29, 19_080, 15_300]]) {
    ids.push(
      await create(server, {
        key: 'nightly-sales-report',
        type: 'markdown',
        data: REPORT(day, north, south),
        description: `Sales by region, **night ${day}**\n\nPublished by the nightly ETL flow.`,
        metadata_: { owner: 'sales-ops', day: String(day) },
        ...onRun,
      }),
    );
  }
  return { runId, report: { ids }, rowsTable, columnsTable, link, progress, image, result, unkeyed, batchKeys };
}
