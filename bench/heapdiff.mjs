// Compares two Chrome heap snapshots (e.g. the memory row's BENCH_HEAP halfway and end
// snapshots) and prints what grew between them, grouped by node type and constructor name:
// count and self size, largest growth first.
//
//   node bench/heapdiff.mjs BEFORE.heapsnapshot AFTER.heapsnapshot [rows]

import { readFileSync } from 'node:fs';

function groups(file) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  const meta = snap.snapshot.meta;
  const fields = meta.node_fields;
  const types = meta.node_types[0];
  const width = fields.length;
  const at = (name) => fields.indexOf(name);
  const [iType, iName, iSize] = [at('type'), at('name'), at('self_size')];
  const out = new Map();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]];
    let name = snap.strings[snap.nodes[i + iName]];
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '(string)';
    if (name.length > 80) name = name.slice(0, 77) + '...';
    const key = `${type} ${name}`;
    const g = out.get(key) || { count: 0, size: 0 };
    g.count += 1;
    g.size += snap.nodes[i + iSize];
    out.set(key, g);
  }
  return out;
}

const [beforeFile, afterFile, rowsArg] = process.argv.slice(2);
if (!beforeFile || !afterFile) {
  console.error('usage: node bench/heapdiff.mjs BEFORE.heapsnapshot AFTER.heapsnapshot [rows]');
  process.exit(2);
}
const before = groups(beforeFile);
const after = groups(afterFile);
const rows = [];
for (const [key, a] of after) {
  const b = before.get(key) || { count: 0, size: 0 };
  if (a.size !== b.size || a.count !== b.count) rows.push({ key, count: a.count - b.count, size: a.size - b.size });
}
for (const [key, b] of before) if (!after.has(key)) rows.push({ key, count: -b.count, size: -b.size });
rows.sort((x, y) => y.size - x.size);
const total = rows.reduce((t, r) => t + r.size, 0);
console.log(`growth ${total} bytes in ${rows.length} groups`);
for (const r of rows.slice(0, Number(rowsArg) || 30)) {
  console.log(`${String(r.size).padStart(10)} ${String(r.count).padStart(7)}  ${r.key}`);
}
