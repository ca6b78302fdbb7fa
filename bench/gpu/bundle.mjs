#!/usr/bin/env node
// Packs what bench/gpu/run.sh needs on a GPU machine that has no npm registry and no Node.js, into .gpu/ (ignored by
// git; the device tool carries it): a Node binary (xz), esbuild bundles of bench/gpu/check.ts, bench/throughput.ts and
// bench/profile.ts (tfjs included), the wasm backend's .wasm files, the `webgpu` package's dawn.node, and Debian's
// Vulkan loader (libvulkan1) to unpack there. About 35 MB with the repository; the device tool sends at most 64 MiB.
//
//   node bench/gpu/bundle.mjs        (then: the device tool runs `bash bench/gpu/run.sh` with carry ['.gpu'])
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = join(ROOT, '.gpu');
const entries = { check: 'bench/gpu/check.ts', bench: 'bench/throughput.ts', profile: 'bench/profile.ts' };

for (const f of existsSync(OUT) ? readdirSync(OUT).filter((f) => f.endsWith('.mjs')) : []) rmSync(join(OUT, f));
mkdirSync(join(OUT, 'entries'), { recursive: true });
for (const [name, src] of Object.entries(entries)) {
  // Each bundle first points the wasm backend at the .wasm files beside it, then runs the script.
  writeFileSync(
    join(OUT, 'entries', `${name}.mjs`),
    `import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';\nsetWasmPaths(new URL('./wasm/', import.meta.url).pathname);\nawait import(${JSON.stringify(join(ROOT, src))});\n`,
  );
}
await build({
  entryPoints: Object.keys(entries).map((n) => ({ in: join(OUT, 'entries', `${n}.mjs`), out: n })),
  outdir: OUT,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true, // the three share tfjs and dfer's core in one chunk
  chunkNames: '[name]-[hash]', // beside the entries: import.meta.url's folder stays .gpu/, as bench/ is for the sources
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // CommonJS inside an ESM bundle needs a real `require`, and the wasm backend's loader `__dirname`.
  banner: {
    js: [
      "import { createRequire as __dferRequire } from 'node:module';",
      "import { fileURLToPath as __dferPath } from 'node:url';",
      "import { dirname as __dferDirname } from 'node:path';",
      'const require = __dferRequire(import.meta.url);',
      'const __filename = __dferPath(import.meta.url);',
      'const __dirname = __dferDirname(__filename);',
    ].join(' '),
  },
  // dawn.node is loaded by the webgpu package from beside it; the optional TensorFlow bindings are absent there.
  external: ['webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'tsx', 'sharp'],
  logLevel: 'warning',
});
rmSync(join(OUT, 'entries'), { recursive: true, force: true });

const wasmDir = join(ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
mkdirSync(join(OUT, 'wasm'), { recursive: true });
for (const f of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'))) cpSync(join(wasmDir, f), join(OUT, 'wasm', f));

const webgpu = join(ROOT, 'node_modules', 'webgpu');
const dest = join(OUT, 'node_modules', 'webgpu');
rmSync(dest, { recursive: true, force: true });
for (const f of ['package.json', 'index.js']) cpSync(join(webgpu, f), join(dest, f));
// dawn.node is 21 MB, 5 MB as xz; run.sh unpacks it.
mkdirSync(join(dest, 'dist', 'linux-x64'), { recursive: true });
execFileSync('sh', [
  '-c',
  `xz -T0 -9 -c "${join(webgpu, 'dist', 'linux-x64', 'dawn.node')}" > "${join(dest, 'dist', 'linux-x64', 'dawn.node.xz')}"`,
]);

const nodeXz = join(OUT, 'node.xz');
if (!existsSync(nodeXz) || statSync(nodeXz).mtimeMs < statSync(process.execPath).mtimeMs) {
  execFileSync('sh', ['-c', `xz -T0 -9 -c "${process.execPath}" > "${nodeXz}"`]);
}
const debs = join(OUT, 'deb');
if (!existsSync(debs) || !readdirSync(debs).some((f) => f.startsWith('libvulkan1'))) {
  mkdirSync(debs, { recursive: true });
  // The amd64 package whatever this machine is, with its own package lists (as the device README shows).
  const o = ['-oAPT::Architecture=amd64', '-oAPT::Architectures=amd64', '-oDir::State::Lists=/tmp/dfer-apt-amd64'];
  mkdirSync('/tmp/dfer-apt-amd64/partial', { recursive: true });
  execFileSync('apt-get', [...o, 'update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', [...o, 'download', 'libvulkan1'], { cwd: debs, stdio: 'inherit' });
}
const du = execFileSync('du', ['-sh', OUT], { encoding: 'utf8' }).trim();
console.log(`bench/gpu: packed ${du} (node ${process.version})`);
