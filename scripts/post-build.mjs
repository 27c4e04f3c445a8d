// Trunk post-build hook. It builds the two wasm modules trunk does not build itself, then
// writes the service worker:
//
// - the boot module (crates/boot) into boot/, started by index.html before the shell: it shows
//   the page's app while the shell's much larger module still loads (the shell then takes the
//   app over). Its files are named by their content, so they can be cached for good;
// - the outbox drain the worker imports for Background Sync (crates/sw-drain: the same store,
//   transport and outbox core as the page) into sw/;
// - sw.js, with the list of the shell's files (and their integrity) it must precache, and a
//   build id derived from them, so every shell build that changes a file is a new worker.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';

const staging = process.env.TRUNK_STAGING_DIR;
const source = process.env.TRUNK_SOURCE_DIR ?? process.cwd();
if (!staging) throw new Error('TRUNK_STAGING_DIR is not set: run this from trunk');

const release = process.env.TRUNK_PROFILE === 'release';
const targetDir = process.env.CARGO_TARGET_DIR ?? join(source, 'target');
const run = (cmd, args) => execFileSync(cmd, args, { cwd: source, stdio: ['ignore', 'inherit', 'inherit'] });

// cargo build of one wasm crate, then wasm-bindgen (ES module glue) into `out`, then wasm-opt.
function buildWasm(pkg, out, outName) {
  run('cargo', ['build', '--locked', '-p', pkg, '--target', 'wasm32-unknown-unknown', ...(release ? ['--release'] : [])]);
  const wasm = join(targetDir, 'wasm32-unknown-unknown', release ? 'release' : 'debug', `${pkg.replaceAll('-', '_')}.wasm`);
  mkdirSync(out, { recursive: true });
  run('wasm-bindgen', ['--target', 'web', '--no-typescript', '--out-dir', out, '--out-name', outName, wasm]);
  const bg = join(out, `${outName}_bg.wasm`);
  const wasmOpt = join(source, 'node_modules', '.bin', 'wasm-opt');
  if (release && existsSync(wasmOpt)) {
    run(wasmOpt, ['-Oz', '--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-reference-types',
      '--enable-multivalue', '--enable-sign-ext', '--enable-mutable-globals', bg, '-o', `${bg}.opt`]);
    renameSync(`${bg}.opt`, bg);
  }
}

buildWasm('mfe-sw-drain', join(staging, 'sw'), 'outbox-drain');

// Longest the shell's start waits for the boot module (see buildBoot).
const BOOT_HEAD_START_MS = 2000;

const contentHash = (...parts) => {
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return h.digest('hex').slice(0, 16);
};
const sri = (bytes) => `sha384-${createHash('sha384').update(bytes).digest('base64')}`;

// The boot module, in boot/ as `boot-<hash>.js`, `boot-<hash>_bg.wasm` and its snippets as
// `<name>-<hash>.js` (the glue's imports rewritten): names that change with the content, which
// the region server marks immutable.
function buildBoot() {
  const tmp = join(targetDir, 'boot-bindgen');
  rmSync(tmp, { recursive: true, force: true });
  buildWasm('mfe-boot', tmp, 'boot');
  const out = join(staging, 'boot');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  let glue = readFileSync(join(tmp, 'boot.js'), 'utf8');
  const snippets = existsSync(join(tmp, 'snippets')) ? files(join(tmp, 'snippets')) : [];
  const preloads = [];
  for (const snippet of snippets) {
    const spec = `./${relative(tmp, snippet).split(sep).join('/')}`;
    // wasm-bindgen writes the snippets of every linked crate; the glue imports those it uses.
    if (!glue.includes(spec)) continue;
    const bytes = readFileSync(snippet);
    const name = `${basename(snippet, '.js')}-${contentHash(bytes)}.js`;
    preloads.push({ url: `/boot/${name}`, bytes });
    // Only the import statements: the import object's keys stay the names the wasm asks for.
    for (const quote of [`'`, `"`]) glue = glue.replaceAll(`from ${quote}${spec}${quote}`, `from ${quote}./${name}${quote}`);
    writeFileSync(join(out, name), bytes);
  }
  if (/from ['"][^'"]*\/snippets\//.test(glue)) throw new Error('the boot glue still imports a snippet by its old path');
  const wasm = readFileSync(join(tmp, 'boot_bg.wasm'));
  const stem = `boot-${contentHash(glue, wasm)}`;
  writeFileSync(join(out, `${stem}.js`), glue);
  writeFileSync(join(out, `${stem}_bg.wasm`), wasm);
  const js = `/boot/${stem}.js`;
  const bg = `/boot/${stem}_bg.wasm`;
  // Started from index.html where the marker is: right after the early reads, before the
  // stylesheet, so it does not wait for it. It resolves to the hand-over the shell takes.
  const modulepreload = ({ url, bytes }) =>
    `<link rel="modulepreload" href="${url}" crossorigin="anonymous" integrity="${sri(bytes)}">`;
  const start = [
    // The glue's own imports too: otherwise they are asked for only once the glue is parsed.
    ...[{ url: js, bytes: glue }, ...preloads].map(modulepreload),
    `<link rel="preload" href="${bg}" crossorigin="anonymous" as="fetch" type="application/wasm">`,
    '<script>',
    '  // Copies of the early answers for the boot module: the shell takes the answers.',
    "  window.__mfeBootManifest = window.__mfeEarlyReads['/manifest.json'].then((r) => r.clone()).catch(() => null);",
    "  window.__mfeBootRegions = window.__mfeEarlyReads['/regions.json'].then((r) => r.clone()).catch(() => null);",
    `  window.__mfeBoot = import(${JSON.stringify(js)})`,
    `    .then((boot) => boot.default({ module_or_path: ${JSON.stringify(bg)} }).then(() => boot.boot()))`,
    "    .catch((e) => { console.warn('boot module:', e); return null; });",
    '</script>',
  ].join('\n    ');
  const indexPath = join(staging, 'index.html');
  const marker = /<!-- boot module:[^>]*-->/;
  let html = readFileSync(indexPath, 'utf8');
  if (!marker.test(html)) throw new Error('index.html has no <!-- boot module: … --> marker');
  html = html.replace(marker, start);
  // The shell's module starts once the boot module has shown the app (or stood aside), at
  // most BOOT_HEAD_START_MS later: both start on the one main thread, and the shell's start
  // (instantiation, first render, opening the outbox) would otherwise delay the app's.
  const shellStart = /(\n)(const wasm = await init\()/;
  if (!shellStart.test(html)) throw new Error("trunk's start script has no `const wasm = await init(`");
  html = html.replace(
    shellStart,
    `$1await Promise.race([window.__mfeBoot, new Promise((r) => setTimeout(r, ${BOOT_HEAD_START_MS}))]);$1$2`,
  );
  // Trunk preloads the shell's files; they are wanted only once the app is on screen, so on a
  // slow network they must not take bandwidth from the boot module's.
  html = html.replace(/<link rel="(?:modulepreload|preload)" href="(?!\/boot\/)[^"]*"/g, '$& fetchpriority="low"');
  writeFileSync(indexPath, html);
  console.log(`boot module: ${js}`);
}

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}
buildBoot();

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
