// Builds the front-end into static/dist/ (run from anywhere: `npm run build`).
//
//   static/src/embed.js         -> dist/embed.js               fixed URL (/embed.js), ≤ 2 KB gzipped
//   <folder>/widget.js          -> dist/widgets/<name>-HASH.js  IIFE with socket.io-client bundled
//   <folder>/widget.css         -> dist/widgets/<name>-HASH.css (may @import "socialads-base.css")
//     for every installed activity, wherever its package lives (static/widgets.mjs asks Python)
//   static/src/admin/admin.{js,css} -> dist/admin-HASH.{js,css}  the brand admin
//   dist/manifest.json          logical name -> file, e.g. "widgets/pledge.js" -> "widgets/pledge-AB12CD34.js"
//
// Every output gets precompressed .gz and .br siblings so the server never compresses on the fly.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import * as esbuild from 'esbuild';
import { installedWidgets, widgetEntries } from './widgets.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'static', 'dist');
const EMBED_GZ_BUDGET = 2048;

const rel = (file) => path.relative(DIST, path.resolve(ROOT, file)).split(path.sep).join('/');

rmSync(DIST, { recursive: true, force: true });
mkdirSync(DIST, { recursive: true });

const common = { absWorkingDir: ROOT, minify: true, logLevel: 'warning', metafile: true };
const manifest = {};

// The loader: tiny and dependency-free, nothing to bundle.
await esbuild.build({
  ...common,
  entryPoints: ['static/src/embed.js'],
  outfile: 'static/dist/embed.js',
  format: 'iife',
  target: 'es2017',
  platform: 'browser',
});
manifest['embed.js'] = 'embed.js';

// The widget document's only first-paint script: frame height, then the live code on view.
const boot = await esbuild.build({
  ...common,
  entryPoints: ['static/src/boot.js'],
  outdir: 'static/dist',
  entryNames: '[name]-[hash]',
  format: 'iife',
  target: 'es2017',
  platform: 'browser',
});
for (const [file, output] of Object.entries(boot.metafile.outputs)) {
  if (output.entryPoint) manifest['boot.js'] = rel(file);
}

const widgets = installedWidgets(ROOT);

/** Map each built entry point back to its widget name for the manifest. */
function record(result, ext) {
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    if (!output.entryPoint || !file.endsWith(ext)) continue;
    const name = path.basename(file, ext).replace(/-[A-Z0-9]{8}$/, ''); // entryNames: [name]-[hash]
    manifest[`widgets/${name}${ext}`] = rel(file);
  }
}

if (widgets.length) {
  const entries = (file) => widgetEntries(widgets, file);
  // Widgets outside this repo (third-party packages) import the core by these names, and may
  // import any package of our node_modules.
  const output = {
    outdir: 'static/dist/widgets',
    entryNames: '[name]-[hash]',
    nodePaths: [path.join(ROOT, 'node_modules')],
    alias: {
      'socialads-live': path.join(ROOT, 'static', 'src', 'live.js'),
      'socialads-base.css': path.join(ROOT, 'static', 'src', 'base.css'),
    },
  };

  record(
    await esbuild.build({
      ...common,
      ...output,
      entryPoints: entries('widget.js'),
      bundle: true,
      format: 'iife',
      target: 'es2019',
      platform: 'browser',
    }),
    '.js',
  );

  const styles = entries('widget.css');
  if (styles.length) {
    record(
      await esbuild.build({
        ...common,
        ...output,
        entryPoints: styles,
        bundle: true,
        target: ['chrome90', 'firefox90', 'safari14', 'edge90'],
      }),
      '.css',
    );
  }
}

// The brand admin: its own script (with uPlot for charts) and stylesheet, never loaded by widgets.
const admin = await esbuild.build({
  ...common,
  entryPoints: ['static/src/admin/admin.js', 'static/src/admin/admin.css'],
  outdir: 'static/dist',
  entryNames: '[name]-[hash]',
  bundle: true,
  format: 'iife',
  target: 'es2019',
  platform: 'browser',
});
for (const [file, output] of Object.entries(admin.metafile.outputs)) {
  if (output.entryPoint) manifest[path.basename(output.entryPoint)] = rel(file);
}

const sorted = Object.fromEntries(Object.entries(manifest).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(path.join(DIST, 'manifest.json'), `${JSON.stringify(sorted, null, 2)}\n`);

// Precompress every output, and print what the browser actually downloads.
const rows = [];
for (const file of [...Object.values(sorted), 'manifest.json']) {
  const full = path.join(DIST, file);
  const raw = readFileSync(full);
  const gz = zlib.gzipSync(raw, { level: 9 });
  const br = zlib.brotliCompressSync(raw, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  });
  writeFileSync(`${full}.gz`, gz);
  writeFileSync(`${full}.br`, br);
  rows.push({ file, raw: raw.length, gz: gz.length, br: br.length });
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`.padStart(9);
const width = Math.max(...rows.map((r) => r.file.length));
console.log(`${'static/dist/'.padEnd(width)}       raw       gzip     brotli`);
for (const r of rows) console.log(`${r.file.padEnd(width)} ${kb(r.raw)}  ${kb(r.gz)}  ${kb(r.br)}`);

const embed = rows.find((r) => r.file === 'embed.js');
console.log(`embed.js: ${embed.gz} bytes gzipped (budget ${EMBED_GZ_BUDGET})`);
if (embed.gz > EMBED_GZ_BUDGET) {
  console.error('embed.js is over its budget: keep the loader tiny.');
  process.exit(1);
}
