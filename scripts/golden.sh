#!/usr/bin/env bash
# The golden check: import the authors' official weights, then classify the golden clips with them
# and show that dfer reproduces the official PyTorch logits. Reads ../shared in place (or $DFER_SHARED).
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${DFER_SHARED:-../shared}"
golden="$shared/golden/official-gca-ial"
if [ ! -f "$golden/weights.safetensors" ]; then
  echo "demo: $golden/weights.safetensors not found; set DFER_SHARED to the folder holding golden/" >&2
  exit 3
fi
[ -f dist/commands/predict.js ] || npm run build
dfer() { node bin/run.js "$@"; }
dfer doctor
dfer import "$golden/weights.safetensors" --preset paper --out runs/official/paper
dfer predict --checkpoint runs/official/paper --input "$golden/case1.safetensors"
node --input-type=module -e "
import { execFileSync } from 'node:child_process';
import { readSafetensors } from './dist/src/model/safetensors.js';
const out = JSON.parse(execFileSync('node', ['bin/run.js', 'predict', '-c', 'runs/official/paper', '-i', '$golden/case1.safetensors', '--json'], { stdio: ['ignore', 'pipe', 'ignore'] }));
const ref = readSafetensors('$golden/case1.safetensors').tensors.get('eval.logits').data;
const ours = out.clips.flatMap((c) => c.logits);
const err = Math.max(...ours.map((v, i) => Math.abs(v - ref[i]))) / Math.max(...Array.from(ref, Math.abs));
console.log('official PyTorch logits reproduced: max relative error ' + err.toExponential(2) + ' (tolerance 1e-4)');
process.exit(err < 1e-4 ? 0 : 1);
"
