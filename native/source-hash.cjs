// Fingerprint of the native sources (src/*.cc and src/*.h, sorted by name), compiled into the addon by binding.gyp.
// At load time dfer computes the same fingerprint (src/native/addon.ts) and refuses a build older than its sources.
// Usage: node source-hash.cjs [dir]   (dir defaults to this file's folder)
const { createHash } = require('node:crypto');
const { readdirSync, readFileSync } = require('node:fs');
const path = require('node:path');

function sourceHash(dir) {
  const src = path.join(dir, 'src');
  const h = createHash('sha256');
  for (const f of readdirSync(src).filter((n) => /\.(cc|h)$/.test(n)).sort()) h.update(`${f}\0`).update(readFileSync(path.join(src, f))).update('\0');
  return h.digest('hex').slice(0, 16);
}

module.exports = { sourceHash };
if (require.main === module) process.stdout.write(sourceHash(process.argv[2] ?? __dirname));
