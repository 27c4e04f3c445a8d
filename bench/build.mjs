// Builds the two comparison systems (adapted from the anchors harness) with esbuild into the
// bench-only CDN folder that the region simulator serves, so both sides of every comparison
// come from the same server with the same cache headers:
//
//   <out>/wb/index.html, page.js, sw.js        Workbox background-sync page + service worker
//   <out>/spa/app/index.html                   single-spa root page (native import map)
//   <out>/apps/spa-anchor/1.0.0/...            root config, single-spa, React, react-dom and the
//                                              React micro app, under a versioned /apps/ path:
//                                              immutable, exactly like the shell's own apps
//
// React ships CommonJS only, so the shared ES modules are generated wrappers that re-export
// every property of the CommonJS module; react-dom's own require('react') is pointed at the
// shared react.js (through the import map): exactly one React at run time.

import path from 'node:path';
import { mkdir, rm, copyFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SRC = path.join(HERE, 'src');
export const SPA_BASE = '/apps/spa-anchor/1.0.0';

process.env.NODE_ENV = 'production';
const require = createRequire(import.meta.url);

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
function exportNames(specifier, skip = new Set()) {
  return Object.keys(require(specifier)).filter((k) => IDENT.test(k) && k !== 'default' && !skip.has(k));
}

const reactNames = exportNames('react');
const reactDomNames = exportNames('react-dom');
const reactDomClientNames = exportNames('react-dom/client', new Set(reactDomNames));

const virtual = {
  'react-entry': ["import R from 'react';", 'export default R;', `export const { ${reactNames.join(', ')} } = R;`].join('\n'),
  'react-dom-entry': [
    "import RD from 'react-dom';",
    "import RDC from 'react-dom/client';",
    'export default RD;',
    `export const { ${reactDomNames.join(', ')} } = RD;`,
    `export const { ${reactDomClientNames.join(', ')} } = RDC;`,
  ].join('\n'),
  'shared-react-shim': `export { default, ${reactNames.join(', ')} } from 'shared:react';`,
  'single-spa-entry': "export * from 'single-spa';",
};

const virtualPlugin = {
  name: 'bench-virtual',
  setup(build) {
    build.onResolve({ filter: /^virtual:/ }, (args) => ({ path: args.path.slice('virtual:'.length), namespace: 'virtual' }));
    build.onLoad({ filter: /.*/, namespace: 'virtual' }, (args) => ({ contents: virtual[args.path], resolveDir: HERE, loader: 'js' }));
    build.onResolve({ filter: /^shared:/ }, (args) => ({ path: args.path.slice('shared:'.length), external: true }));
  },
};

const reactDomSharesReact = {
  name: 'react-dom-shares-react',
  setup(build) {
    build.onResolve({ filter: /^react$/ }, () => ({ path: 'shared-react-shim', namespace: 'virtual' }));
  },
};

const common = {
  bundle: true,
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  target: ['chrome120'],
  define: { 'process.env.NODE_ENV': '"production"' },
  conditions: ['production'],
  logLevel: 'warning',
  metafile: true,
};

/** Builds into `out` (the bench CDN folder); returns { path (URL) -> bytes } of the outputs. */
export async function build(out) {
  const spaDir = path.join(out, ...SPA_BASE.split('/').filter(Boolean));
  await rm(path.join(out, 'wb'), { recursive: true, force: true });
  await rm(path.join(out, 'spa'), { recursive: true, force: true });
  await rm(spaDir, { recursive: true, force: true });
  await mkdir(path.join(out, 'wb'), { recursive: true });
  await mkdir(path.join(out, 'spa', 'app'), { recursive: true });
  await mkdir(path.join(spaDir, 'lib'), { recursive: true });
  await mkdir(path.join(spaDir, 'apps'), { recursive: true });

  await copyFile(path.join(SRC, 'wb', 'index.html'), path.join(out, 'wb', 'index.html'));
  await copyFile(path.join(SRC, 'spa', 'index.html'), path.join(out, 'spa', 'app', 'index.html'));

  const results = await Promise.all([
    esbuild.build({ ...common, entryPoints: [path.join(SRC, 'wb', 'sw.js')], outfile: path.join(out, 'wb', 'sw.js'), format: 'iife' }),
    esbuild.build({ ...common, entryPoints: [path.join(SRC, 'wb', 'page.js')], outfile: path.join(out, 'wb', 'page.js'), format: 'esm' }),
    esbuild.build({ ...common, entryPoints: { 'single-spa': 'virtual:single-spa-entry' }, outdir: path.join(spaDir, 'lib'), format: 'esm', plugins: [virtualPlugin] }),
    esbuild.build({ ...common, entryPoints: { react: 'virtual:react-entry' }, outdir: path.join(spaDir, 'lib'), format: 'esm', plugins: [virtualPlugin] }),
    esbuild.build({
      ...common,
      entryPoints: { 'react-dom': 'virtual:react-dom-entry' },
      outdir: path.join(spaDir, 'lib'),
      format: 'esm',
      plugins: [reactDomSharesReact, virtualPlugin],
    }),
    esbuild.build({
      ...common,
      entryPoints: [path.join(SRC, 'spa', 'root-config.js')],
      outfile: path.join(spaDir, 'root-config.js'),
      format: 'esm',
      external: ['single-spa', `${SPA_BASE}/apps/*`],
    }),
    esbuild.build({
      ...common,
      entryPoints: [path.join(SRC, 'spa', 'app', 'orders.jsx')],
      outfile: path.join(spaDir, 'apps', 'orders.js'),
      format: 'esm',
      jsx: 'transform',
      jsxFactory: 'React.createElement',
      jsxFragment: 'React.Fragment',
      external: ['react', 'react-dom', 'react-dom/client'],
    }),
  ]);
  const outputs = {};
  for (const r of results) {
    for (const [file, info] of Object.entries(r.metafile.outputs)) {
      outputs['/' + path.relative(out, path.resolve(process.cwd(), file)).split(path.sep).join('/')] = info.bytes;
    }
  }
  return outputs;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const out = path.resolve(process.argv[2] || 'var/bench/cdn');
  build(out).then(
    (o) => console.log(JSON.stringify(o, null, 2)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
