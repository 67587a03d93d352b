import { expect, test } from 'bun:test';
import { renderTable, type Column } from '../../src/cli/table.ts';

type Row = { id: string; key: string; text: string };
const columns: Column<Row>[] = [
  { header: 'ID', value: (r) => r.id, fixed: true },
  { header: 'KEY', value: (r) => r.key },
  { header: 'TEXT', value: (r) => r.text, flexible: true },
];
const rows: Row[] = [
  { id: '0f8fad5b-d9cb-469f-a165-70867728950e', key: 'nightly-sales-report', text: 'line one\nline two, which is rather long indeed' },
  { id: '7c9e6679-7425-40de-944b-e07fc1f90ae7', key: 'k', text: '' },
];

test('without a width nothing is cut; values become one line; columns line up', () => {
  const lines = renderTable(rows, columns, undefined).trimEnd().split('\n');
  expect(lines[0]).toBe('ID                                    KEY                   TEXT');
  expect(lines[1]).toBe('0f8fad5b-d9cb-469f-a165-70867728950e  nightly-sales-report  line one line two, which is rather long indeed');
  expect(lines[2]).toBe('7c9e6679-7425-40de-944b-e07fc1f90ae7  k');
});

test('a narrow terminal cuts the flexible column first, then others, never the id', () => {
  const at70 = renderTable(rows, columns, 70).trimEnd().split('\n');
  for (const line of at70) expect([...line].length).toBeLessThanOrEqual(70);
  expect(at70[1]).toBe('0f8fad5b-d9cb-469f-a165-70867728950e  nightly-sales-report  line one…');
  // Too narrow for the flexible column alone: it stops at 8 characters and the key gives way.
  const at60 = renderTable(rows, columns, 60).trimEnd().split('\n');
  expect(at60[1]).toBe('0f8fad5b-d9cb-469f-a165-70867728950e  nightly-sal…  line on…');
  // Narrower than the ids themselves: they stay whole.
  expect(renderTable(rows, columns, 20).split('\n')[1]).toStartWith('0f8fad5b-d9cb-469f-a165-70867728950e ');
});

test('wide characters (CJK, emoji) count as two columns: later columns stay in line, cuts fit', () => {
  const wide: Row[] = [
    { id: '0f8fad5b-d9cb-469f-a165-70867728950e', key: '日本語の説明 🎉', text: 'after' },
    { id: '7c9e6679-7425-40de-944b-e07fc1f90ae7', key: 'plain', text: 'after' },
  ];
  const lines = renderTable(wide, columns, undefined).trimEnd().split('\n');
  const textColumn = (line: string) => Bun.stringWidth(line.slice(0, line.lastIndexOf('after')));
  expect(textColumn(lines[1])).toBe(textColumn(lines[2]));
  expect(lines[2]).toBe('7c9e6679-7425-40de-944b-e07fc1f90ae7  plain            after');
  // Cut to fit a narrow terminal, a wide key still fits its column.
  for (const line of renderTable(wide, columns, 56).trimEnd().split('\n')) expect(Bun.stringWidth(line)).toBeLessThanOrEqual(56);
});
