// Trunk post-build hook: writes the service worker into the build output with the list of
// the shell's files (and their integrity) it must precache, and a build id derived from them,
// so every shell build that changes a file is a new worker.
//
// It also builds the outbox drain the worker imports for Background Sync (crates/sw-drain: the
// same store, transport and outbox core as the page) into sw/, before listing the files.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const staging = process.env.TRUNK_STAGING_DIR;
const source = process.env.TRUNK_SOURCE_DIR ?? process.cwd();
if (!staging) throw new Error('TRUNK_STAGING_DIR is not set: run this from trunk');

function buildDrain() {
  const release = process.env.TRUNK_PROFILE === 'release';
  const target = process.env.CARGO_TARGET_DIR ?? join(source, 'target');
  const run = (cmd, args) => execFileSync(cmd, args, { cwd: source, stdio: ['ignore', 'inherit', 'inherit'] });
  run('cargo', ['build', '--locked', '-p', 'mfe-sw-drain', '--target', 'wasm32-unknown-unknown', ...(release ? ['--release'] : [])]);
  const wasm = join(target, 'wasm32-unknown-unknown', release ? 'release' : 'debug', 'mfe_sw_drain.wasm');
  const out = join(staging, 'sw');
  mkdirSync(out, { recursive: true });
  run('wasm-bindgen', ['--target', 'web', '--no-typescript', '--out-dir', out, '--out-name', 'outbox-drain', wasm]);
  const bg = join(out, 'outbox-drain_bg.wasm');
  const wasmOpt = join(source, 'node_modules', '.bin', 'wasm-opt');
  if (release && existsSync(wasmOpt)) {
    run(wasmOpt, ['-Oz', '--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-reference-types',
      '--enable-multivalue', '--enable-sign-ext', '--enable-mutable-globals', bg, '-o', `${bg}.opt`]);
    renameSync(`${bg}.opt`, bg);
  }
}
buildDrain();

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

// An incremental build can leave wasm-bindgen's output with extra copies of one `inline_js`
// snippet (inline2.js, inline3.js byte for byte the imported inline1.js) that no glue imports
// but trunk still preloads. Drop such copies, only ever a `.js` file identical to an imported
// snippet beside it, and their preload links: the page does not fetch them, the worker does
// not precache them and the size budget does not count them.
function pruneUnusedSnippetCopies() {
  const all = files(staging);
  const imported = new Set();
  for (const js of all.filter((path) => /\.m?js$/.test(path))) {
    const text = readFileSync(js, 'utf8');
    for (const [, spec] of text.matchAll(/['"]((?:\.{1,2}\/|\/)?[^'"\s]*snippets\/[^'"\s]+)['"]/g)) {
      imported.add(spec.startsWith('/') ? join(staging, spec) : resolve(dirname(js), spec));
    }
  }
  const sameBytes = (a, b) => readFileSync(a).equals(readFileSync(b));
  const copies = all.filter(
    (path) =>
      path.includes(`${sep}snippets${sep}`) &&
      path.endsWith('.js') &&
      !imported.has(path) &&
      [...imported].some((used) => dirname(used) === dirname(path) && existsSync(used) && sameBytes(used, path)),
  );
  if (copies.length === 0) return;
  const indexPath = join(staging, 'index.html');
  let html = readFileSync(indexPath, 'utf8');
  for (const path of copies) {
    rmSync(path);
    const url = `/${relative(staging, path).split(sep).join('/')}`;
    const escaped = url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    html = html.replace(new RegExp(`<link\\b[^>]*\\bhref="${escaped}"[^>]*>`, 'g'), '');
    if (html.includes(`"${url}"`)) throw new Error(`index.html still refers to the dropped copy ${url}`);
  }
  writeFileSync(indexPath, html);
  console.log(`snippets: dropped ${copies.length} unused copies (${copies.map((p) => relative(staging, p)).join(', ')})`);
}
pruneUnusedSnippetCopies();

const entries = files(staging)
  .filter((path) => !path.endsWith(`${sep}sw.js`))
  .map((path) => {
    const bytes = readFileSync(path);
    const url = `/${relative(staging, path).split(sep).join('/')}`;
    const integrity = `sha384-${createHash('sha384').update(bytes).digest('base64')}`;
    return { url, integrity };
  })
  .sort((a, b) => a.url.localeCompare(b.url));
const index = entries.find((e) => e.url === '/index.html');
if (!index) throw new Error('no index.html in the build output');
// The start page is served under "/" too.
entries.push({ url: '/', integrity: index.integrity });

const build = createHash('sha256').update(JSON.stringify(entries)).digest('hex').slice(0, 16);
const template = readFileSync(join(source, 'public', 'sw.js'), 'utf8');
const worker = template
  .replace(/\/\* precache-list \*\/ \[\] \/\* end \*\//, `/* precache-list */ ${JSON.stringify(entries)} /* end */`)
  .replace(/\/\* build-id \*\/ 'dev' \/\* end \*\//, `/* build-id */ '${build}' /* end */`);
if (worker === template) throw new Error('public/sw.js has no precache placeholders');
writeFileSync(join(staging, 'sw.js'), worker);
console.log(`sw.js: ${entries.length} files to precache, build ${build}`);
