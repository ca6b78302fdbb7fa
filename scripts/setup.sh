#!/usr/bin/env bash
# dfer's first command on a fresh machine (`npm run setup`): the system packages the main job wants, the npm packages
# (whose install builds the native CPU engine), then the demo.
#   - Debian/Ubuntu: installs what is missing of g++ make python3 (node-gyp), libdnnl-dev (the native engine, ten
#     times faster than wasm) and ffmpeg (video input), with apt-get as root or through passwordless sudo.
#   - Anywhere else, or without the rights: says in one line what it could not install and what that costs, and goes on
#     (dfer then trains on WebAssembly).
# DFER_SETUP_DRY_RUN=1 prints the commands instead of running them; DFER_SETUP_DEMO=0 stops before the demo.
set -euo pipefail
cd "$(dirname "$0")/.."

run() {
  if [ "${DFER_SETUP_DRY_RUN:-0}" = 1 ]; then echo "+ $*"; else "$@"; fi
}
say() { echo "dfer setup: $*"; }

need=()
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v make >/dev/null 2>&1 || need+=(make)
command -v python3 >/dev/null 2>&1 || need+=(python3)
[ -f /usr/include/oneapi/dnnl/dnnl.hpp ] || need+=(libdnnl-dev)
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)

if [ ${#need[@]} -eq 0 ]; then
  say "system packages: all present (compiler, oneDNN, ffmpeg)"
elif ! command -v apt-get >/dev/null 2>&1; then
  say "cannot install ${need[*]}: no apt-get here; install them with your package manager for the native engine (10x faster than wasm) and video input; going on without them"
else
  sudo=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo=(sudo); else sudo=(none); fi
  fi
  if [ "${sudo[*]}" = none ]; then
    say "cannot install ${need[*]}: not root and no passwordless sudo; run: sudo apt-get install -y ${need[*]} (then npm run build:native); going on without them"
  else
    say "installing ${need[*]} with apt-get"
    run "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    run "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
  fi
fi

# npm ci builds dist/ and, when oneDNN is there, the native engine (scripts/build-native.mjs says why when it cannot).
run npm ci --no-audit --no-fund
if [ "${DFER_SETUP_DRY_RUN:-0}" != 1 ]; then
  engine=$(node --input-type=module -e "import('./dist/src/native/addon.js').then((m) => { const s = m.nativeStatus(); console.log(s.available ? 'native CPU engine: ' + s.detail : 'native CPU engine unavailable (' + s.detail + '): dfer will train on wasm, about ten times slower'); })")
  say "$engine"
fi
if [ "${DFER_SETUP_DEMO:-1}" != 0 ]; then run npm run demo; fi
