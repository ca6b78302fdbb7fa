#!/usr/bin/env node
// Build dfer's native CPU engine (native/ -> native/build/Release/dfer_native.node) with node-gyp, when oneDNN is
// installed. Runs as the package's "install" script, so `npm ci` builds it; without oneDNN it prints how to enable
// the fast path and exits 0 (dfer then runs on wasm). `npm run build:native` runs it by hand.
//
//   DFER_NATIVE=0         skip the build
//   DFER_NATIVE=require   fail (exit 1) instead of skipping when the engine cannot be built (CI uses this)
//   --dir <path>          build another copy of native/ (for parallel work; load it with DFER_NATIVE_ADDON)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dirFlag = process.argv.indexOf('--dir');
const dir = dirFlag > 0 ? path.resolve(process.argv[dirFlag + 1]) : path.join(ROOT, 'native');
const mode = process.env.DFER_NATIVE ?? 'auto';
const HEADER = '/usr/include/oneapi/dnnl/dnnl.hpp';
const say = (msg) => process.stderr.write(`dfer native engine: ${msg}\n`);

function giveUp(why) {
  if (mode === 'require') {
    say(`${why}; DFER_NATIVE=require, failing`);
    process.exit(1);
  }
  say(
    `${why}; skipped, dfer will use the wasm backend (to enable: apt-get install libdnnl-dev, then npm run build:native)`,
  );
  process.exit(0);
}

if (mode === '0') {
  say('skipped (DFER_NATIVE=0)');
  process.exit(0);
}
if (!existsSync(HEADER)) giveUp(`oneDNN not found (${HEADER})`);

// npm passes its bundled node-gyp to lifecycle scripts; by hand, use the one next to npm.
const candidates = [
  process.env.npm_config_node_gyp,
  path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
].filter(Boolean);
const nodeGyp = candidates.find((p) => existsSync(p));
if (!nodeGyp) giveUp('node-gyp not found');

const args = [nodeGyp, 'rebuild', '--directory', dir];
// Node's headers: npm's configured nodedir, else the system's (Debian/NodeSource install them under /usr).
const nodedir = process.env.npm_config_nodedir || (existsSync('/usr/include/node/node_api.h') ? '/usr' : '');
if (nodedir) args.push(`--nodedir=${nodedir}`);
say(`building in ${path.relative(ROOT, dir) || dir} ...`);
const t0 = Date.now();
const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
if (r.status !== 0) {
  const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`
    .split('\n')
    .filter((l) => /error|Error|ERR/.test(l))
    .slice(0, 8)
    .join('\n');
  process.stderr.write(`${tail}\n`);
  giveUp(`build failed (exit ${r.status})`);
}
say(
  `built in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${path.join(path.relative(ROOT, dir) || dir, 'build/Release/dfer_native.node')}`,
);
