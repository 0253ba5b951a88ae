#!/usr/bin/env bash
# bench/precision_table.sh CHECKPOINT [THREADS]: `sam3 bench` once per precision (f32, bf16, int8) on a full-size
# checkpoint (`sam3 make-random-checkpoint -o /tmp/full.pt`), then the README's performance table (markdown) with
# the CPU model, its ISA and the load average (RUNS=N: best of N encodes and prompts). Every ratio is to a rate
# measured in the same run: read those, and run it on a quiet machine (the load average is printed). The raw outputs
# stay in $OUT (default /tmp/sam3-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
CKPT="${1:?usage: bench/precision_table.sh CHECKPOINT [THREADS]}"
THREADS="${2:-2}"
OUT="${OUT:-/tmp/sam3-bench}"
mkdir -p "$OUT"
if [ -z "${RENDER_ONLY:-}" ]; then  # RENDER_ONLY=1: only print the table from the outputs already in $OUT
  for d in f32 bf16 int8; do
    OMP_WAIT_POLICY=passive build/sam3 bench -m "$CKPT" --threads "$THREADS" --dtype "$d" --runs "${RUNS:-1}" \
      >"$OUT/$d.txt" 2>"$OUT/$d.err"
  done
fi
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
isa=$(sed -n 's/^sam3 bench: .*(\(.*\)).*/\1/p' "$OUT/f32.err" | head -1)
echo "Measured $(date -u +%Y-%m-%d) on $cpu ($(nproc) CPUs${isa:+, $isa}), $THREADS threads, full-size random checkpoint."
echo
echo "| precision | matmul rate (GFLOP/s) | load | encode | encode / FLOP time at that rate | prompt (text cached, 1 box) | prompt / FLOP time | 8 prompts / 1 | peak RSS | load avg |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for d in f32 bf16 int8; do
  f="$OUT/$d.txt"
  awk -v d="$d" '
    /^load average \(1 min\) at start/ { la = $7 }
    /^matmul 5184x4736x1024/ && $3 == d {  # measured before and again after the encode: the higher one is used
      r = ($0 ~ /emulated/) ? $(NF-5) : $(NF-1); if ($0 ~ /emulated/) emu = " (emulated)"
      if (r + 0 > best + 0) best = r; rate = best emu }
    /^checkpoint load:/ { load = $3 " s" }
    /^  total / && !enc { enc = $2 " s"; }
    /^goal: .* encode <=/ { match($0, /encode = [0-9.]+ x/); er = substr($0, RSTART + 9, RLENGTH - 11) "x" }
    /peak RSS:/ { rss = $(NF-1) " GiB" }
    /^goal: a prompt/ { match($0, /\(([0-9.]+) s = ([0-9.]+) x/); split(substr($0, RSTART + 1, RLENGTH - 1), p, " ");
                        pt = p[1] " s"; pr = p[4] "x" }
    /^goal: 8 prompts/ { match($0, /s = [0-9.]+ x/); e8 = substr($0, RSTART + 4, RLENGTH - 6) "x" }
    END { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", d, rate, load, enc, er, pt, pr, e8, rss, la }
  ' "$f"
done
