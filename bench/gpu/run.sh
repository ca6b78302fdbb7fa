#!/usr/bin/env bash
# The GPU check, in one go, on a machine with a GPU and no npm registry (e.g. the H100 a session may be lent):
#   1. correctness: dfer's WebGPU path against wasm at the paper preset's shapes (bench/gpu/check.ts);
#   2. speed: clips/s of webgpu next to PyTorch on the same GPU (float32 with TF32 off and on), peak GPU memory
#      (bench/throughput.ts);
#   3. a profile of the top WebGPU kernels of a paper-preset training step at batch 40 (bench/profile.ts).
# Everything it runs comes from .gpu/, made here by `node bench/gpu/bundle.mjs` (a Node binary, the bundles, dawn.node,
# Debian's Vulkan loader). Results go to $OUT (default /tmp/dfer-gpu): check.json, bench-*.jsonl, profile.jsonl,
# their logs, and result.json, which gathers them. Aim: under 5 minutes on an H100.
#
#   bash bench/gpu/run.sh           the full plan
#   bash bench/gpu/run.sh --quick   the small preset only, webgpu only (to try it on lavapipe)
set -uo pipefail
cd "$(dirname "$0")/../.."
G=.gpu
OUT=${OUT:-/tmp/dfer-gpu}
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
mkdir -p "$OUT"
[ -f $G/bench.mjs ] || { echo "bench/gpu/run.sh: $G/ is missing: run 'node bench/gpu/bundle.mjs' first" >&2; exit 2; }
T=$(mktemp -d)
started=$(date +%s)
log() { echo "[$(( $(date +%s) - started ))s] $*" | tee -a "$OUT/run.log" >&2; }

# Node: the machine's own when it is 20 or newer, else the one packed.
if command -v node >/dev/null 2>&1 && node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then
  NODE=$(command -v node)
else
  xz -dc $G/node.xz > "$T/node" && chmod +x "$T/node" && NODE="$T/node"
fi
DAWN=$G/node_modules/webgpu/dist/linux-x64/dawn.node
[ -f $DAWN ] || xz -dc $DAWN.xz > $DAWN
# The Vulkan loader: Dawn opens libvulkan.so.1; the NVIDIA driver brings the ICD but not always the loader.
if ! ldconfig -p | grep -q 'libvulkan.so.1'; then
  for f in $G/deb/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
if [ -z "${VK_DRIVER_FILES:-}" ] && [ ! -e /usr/share/vulkan/icd.d/nvidia_icd.json ] && [ ! -e /etc/vulkan/icd.d/nvidia_icd.json ] &&
  [ -e /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
log "node $("$NODE" --version), VK_DRIVER_FILES=${VK_DRIVER_FILES:-default}"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$OUT/gpu.txt" 2>&1

# 1. Correctness.
log "check: webgpu against wasm"
if [ $QUICK = 1 ]; then check_args=(--preset small); check_limit=240; else check_args=(--preset paper); check_limit=60; fi
timeout $check_limit "$NODE" $G/check.mjs "${check_args[@]}" --out "$OUT/check.json" > /dev/null 2> "$OUT/check.log"
log "check: exit $? ($(grep -o '"ok": [a-z]*' "$OUT/check.json" 2>/dev/null | tail -1))"

# 2. Speed, next to PyTorch on the same GPU when it has CUDA. Three runs, most important first, each with its own time
#    limit (the benchmark prints its lines when a run ends): paper-preset training (batch 8 and the paper's 40), the
#    small preset, paper-preset inference.
backends=webgpu
if [ $QUICK = 0 ] && python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  backends=webgpu,pytorch-cuda,pytorch-cuda-tf32
fi
bench() { # name, time limit, flags...
  local name=$1 limit=$2; shift 2
  log "bench $name: $backends $*"
  timeout "$limit" "$NODE" $G/bench.mjs --backends $backends "$@" --json > "$OUT/bench-$name.jsonl" 2> "$OUT/bench-$name.log"
  log "bench $name: exit $?"
}
if [ $QUICK = 1 ]; then
  bench small 120 --presets small --batch 2 --steps 2 --warmup 1
else
  bench paper-train 120 --presets paper --modes train --steps 3 --warmup 1 --budget 8
  bench small 60 --presets small --steps 3 --warmup 1 --budget 5
  bench paper-infer 40 --presets paper --modes infer --steps 3 --warmup 1 --budget 5
fi

# 3. Where a WebGPU training step goes (kernel times from timestamp queries, where the adapter has them).
if [ $QUICK = 1 ]; then prof=(--preset small --batch 2); else prof=(--preset paper --batch 40); fi
timeout 40 "$NODE" $G/profile.mjs --backend webgpu --mode train "${prof[@]}" --json > "$OUT/profile.jsonl" 2> "$OUT/profile.log"
log "profile: exit $?"

# One file with everything.
"$NODE" -e '
const fs = require("fs"); const out = process.argv[1];
const read = (f) => { try { return fs.readFileSync(`${out}/${f}`, "utf8"); } catch { return null; } };
const lines = (f) => (read(f) ?? "").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
const result = { gpu: (read("gpu.txt") ?? "").trim() || null, check: JSON.parse(read("check.json") ?? "null"),
  bench: fs.readdirSync(out).filter((f) => /^bench-.*\.jsonl$/.test(f)).flatMap(lines), profile: lines("profile.jsonl").slice(0, 25), log: (read("run.log") ?? "").trim().split("\n") };
fs.writeFileSync(`${out}/result.json`, JSON.stringify(result, null, 1));
' "$OUT"
log "done: $OUT/result.json"
rm -rf "$T"
