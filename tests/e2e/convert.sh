#!/usr/bin/env bash
# e2e: `sam3 convert` on the tiny fixture checkpoint: bf16 / int8 / f16 files are written, `sam3 info` reports and
# validates them, they give the same results as converting the checkpoint at load (sam3 compare: identical; sam3
# segment: the same JSON), the load line names them, and the precisions they cannot give, bad options and bad inputs
# are errors. $1 = the sam3 binary; run from the repository root.
set -u
SAM3="$1"
GOLDEN="${SAM3_GOLDEN_DIR:-../shared/golden}"
TINY_PT="$GOLDEN/tiny/sam3_random.pt"
TINY_CFG="$GOLDEN/tiny/config.json"
IMG="$GOLDEN/images/groceries.jpg"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/lib/common.sh"  # fail, ok, bad, check, has
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# 1. Convert to each storage dtype.
for d in bf16 int8 f16; do
  out=$("$SAM3" convert -m "$TINY_PT" --config "$TINY_CFG" --dtype $d -o "$TMP/tiny_$d.safetensors" 2>&1); rc=$?
  check "convert $d rc" 0 $rc
  has "convert $d summary" "config 'tiny'" "$out"
done
check "f16 file is about half the checkpoint" "True" \
  "$(python3 -c "import os; print(os.path.getsize('$TMP/tiny_f16.safetensors') < 0.55 * os.path.getsize('$TINY_PT'))")"

# 2. sam3 info: storage, scheme, source, strict validation against the stored config (no --config needed).
out=$("$SAM3" info "$TMP/tiny_int8.safetensors"); rc=$?
check "info int8 rc" 0 $rc
has "info names the storage" "converted int8 safetensors" "$out"
has "info stored config" "config:      tiny (stored in the file)" "$out"
has "info format line" "format:      sam3 convert, version 1, storage int8, from $TINY_PT" "$out"
has "info parameters" "parameters:  4,497,742 " "$out"
has "info dtypes" "dtypes     F32 316, I8 16" "$out"
has "info validation" "validation:  OK" "$out"
out=$("$SAM3" info "$TMP/tiny_bf16.safetensors" --config "$TINY_CFG"); rc=$?
check "info bf16 with the same --config rc" 0 $rc
err=$("$SAM3" info "$TMP/tiny_bf16.safetensors" 2>&1 >/dev/null --config "$GOLDEN/tiny_pvs/config.json"); rc=$?
check "info with another config rc" 1 $rc
has "info names the disagreement" "disagrees with the config stored in the file" "$err"

# 3. Same results as converting at load: sam3 compare says identical.
for d in bf16 int8; do
  out=$("$SAM3" compare -m "$TINY_PT" -m "$TMP/tiny_$d.safetensors" --config "$TINY_CFG" --dtype $d --dtype $d \
        -i "$IMG" -t child -t "paper bag" --threshold 0.05 --threads 2 --json 2>/dev/null); rc=$?
  check "compare pt vs converted $d rc" 0 $rc
  check "converted $d identical" "1.0 0.0 0 1.0 0.0" \
    "$(field "' '.join(str(d['summary'][k]) for k in ['min_cosine','max_prob_delta','kept_differ','min_mask_iou','max_box_delta_px'])" <<<"$out")"
done

# 4. sam3 segment: the same JSON (but the model path) and the load line names the file's storage; auto runs the
#    file's precision (f16: f32).
strip() { python3 -c "
import json,sys
def s(o):
    if isinstance(o, dict): return {k: s(v) for k, v in o.items() if k not in ('timings', 'path') and not k.endswith('_ms')}
    if isinstance(o, list): return [s(x) for x in o]
    return o
print(json.dumps(s(json.load(open(sys.argv[1]))), sort_keys=True))" "$1"; }
"$SAM3" segment -m "$TINY_PT" --config "$TINY_CFG" --dtype int8 -i "$IMG" -t child --threshold 0.05 -o "$TMP/a.json" >/dev/null 2>&1
err=$("$SAM3" segment -m "$TMP/tiny_int8.safetensors" -i "$IMG" -t child --threshold 0.05 -o "$TMP/b.json" 2>&1 >/dev/null); rc=$?
check "segment converted rc" 0 $rc
has "load line names the storage" "int8 precision (" "$err"
has "load line names the file" "weights: converted int8 (sam3 convert)" "$err"
check "segment JSON identical" "$(strip "$TMP/a.json")" "$(strip "$TMP/b.json")"
err=$("$SAM3" segment -m "$TMP/tiny_f16.safetensors" -i "$IMG" -t child -o "$TMP/c.json" 2>&1 >/dev/null); rc=$?
check "segment f16 rc" 0 $rc
has "f16 runs f32 by default" "f32 precision (" "$err"

# 5. Precisions a file cannot give, bad options, bad inputs.
err=$("$SAM3" segment -m "$TMP/tiny_bf16.safetensors" --dtype f32 -i "$IMG" -t child 2>&1 >/dev/null); rc=$?
check "bf16 file with --dtype f32 rc" 1 $rc
has "says what it runs" "it runs --dtype bf16 (or auto), not f32" "$err"
"$SAM3" convert -m "$TINY_PT" --config "$TINY_CFG" --dtype fp16 -o "$TMP/x.safetensors" >/dev/null 2>&1
check "unknown dtype rc" 2 $?
"$SAM3" convert -m "$TINY_PT" --config "$TINY_CFG" -o "$TMP/x.safetensors" >/dev/null 2>&1
check "missing --dtype rc" 2 $?
err=$("$SAM3" convert -m "$TMP/tiny_bf16.safetensors" --dtype int8 -o "$TMP/x.safetensors" 2>&1); rc=$?
check "converting a converted file rc" 1 $rc
has "already converted" "is already converted (to bf16)" "$err"
err=$("$SAM3" convert -m "$TINY_PT" --dtype bf16 -o "$TMP/x.safetensors" 2>&1); rc=$?
check "wrong config rc" 1 $rc
has "config mismatch listed" "does not match config 'sam3'" "$err"
cp "$TINY_PT" "$TMP/in.pt"
err=$("$SAM3" convert -m "$TMP/in.pt" --config "$TINY_CFG" --dtype bf16 -o "$TMP/in.pt" 2>&1); rc=$?
check "output over the input rc" 1 $rc
has "output is the input" "is the input" "$err"
err=$("$SAM3" convert -m "$TMP/nope.pt" --config "$TINY_CFG" --dtype bf16 -o "$TMP/x.safetensors" 2>&1); rc=$?
check "missing input rc" 1 $rc
has "missing input named" "nope.pt" "$err"
head -c 4096 "$TMP/tiny_int8.safetensors" >"$TMP/truncated.safetensors"
err=$("$SAM3" info "$TMP/truncated.safetensors" 2>&1); rc=$?
check "truncated file rc" 1 $rc
has "truncated file named" "malformed safetensors file '$TMP/truncated.safetensors'" "$err"
[ ! -e "$TMP/x.safetensors" ] && ok "nothing written on errors" || bad "nothing written on errors"

exit $fail
