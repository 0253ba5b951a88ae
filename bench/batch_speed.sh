#!/usr/bin/env bash
# sam3.cpp — the speed goals of `sam3 batch` and sam3.dask (docs/batch.md), measured, not asserted:
#   1. `sam3 batch` adds at most 5% over the sum of its images' encode + prompt times (its own accounting, and a
#      cross-check against `sam3 segment` run image by image);
#   2. sam3.dask with 2 workers x 1 thread reaches >= 1.7x the throughput of 1 worker on a 2-core machine.
# Usage: bench/batch_speed.sh [MODEL CONFIG]   (default: a random checkpoint of bench/batch_medium.json, about 1-2 s
# per image on 2 threads, written to /tmp). Run from the repository root after scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
SAM3=build/sam3
PY=/usr/bin/python3
MODEL="${1:-/tmp/sam3_batch_medium.pt}"
CONFIG="${2:-bench/batch_medium.json}"
N="${SAM3_BENCH_IMAGES:-8}"
TEXTS=(-t person -t "paper bag")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
[ -f "$MODEL" ] || "$SAM3" make-random-checkpoint --config "$CONFIG" -o "$MODEL" >/dev/null
GOLDEN="${SAM3_GOLDEN_DIR:-../shared/golden}"
mkdir -p "$WORK/imgs"
for k in $(seq 1 "$N"); do  # alternate the two fixture pictures (1280x720, 800x534)
  if [ $((k % 2)) -eq 0 ]; then src="$GOLDEN/images/test_image.jpg"; else src="$GOLDEN/images/groceries.jpg"; fi
  cp "$src" "$WORK/imgs/img$k.jpg"
done
echo "model $MODEL ($CONFIG), $N images, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== 1. sam3 batch --threads 2: time on top of encode + prompts"
OMP_WAIT_POLICY=passive "$SAM3" batch -m "$MODEL" --config "$CONFIG" -i "$WORK/imgs" "${TEXTS[@]}" --threads 2 \
  -o "$WORK/out" 2>&1 | grep -E "this run|images:" || true
sum=0
for f in "$WORK"/imgs/*.jpg; do
  OMP_WAIT_POLICY=passive "$SAM3" segment -m "$MODEL" --config "$CONFIG" -i "$f" "${TEXTS[@]}" --threads 2 \
    -o "$WORK/seg.json" >/dev/null 2>&1
  ms=$(tr -d ' \n' < "$WORK/seg.json" | grep -o '"timings_ms":{"load[^}]*}' | tail -1 |
       sed 's/.*"encode":\([0-9.e+-]*\),"segment":\([0-9.e+-]*\).*/\1 \2/' | awk '{ print $1 + $2 }')
  sum=$(awk -v a="$sum" -v b="$ms" 'BEGIN { print a + b }')
done
echo "cross-check: sam3 segment image by image: encode + segment summed = $(awk -v s="$sum" 'BEGIN { printf "%.2f", s / 1000 }') s"

echo "== 2. sam3.dask: 1 worker vs 2 workers, 1 thread each"
OMP_WAIT_POLICY=passive PYTHONPATH=build/python "$PY" bench/dask_speed.py "$MODEL" "$CONFIG" "$WORK/imgs" person "paper bag"
