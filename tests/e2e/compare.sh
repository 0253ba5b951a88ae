#!/usr/bin/env bash
# e2e: `sam3 compare` on the tiny fixture model: a precision against itself is identical; int8 against f32 is within
# the int8 gates of docs/precision.md (cosine >= 0.999, |Δprob| <= 0.03); the JSON report's fields; bad options.
# $1 = the sam3 binary; run from the repository root.
set -u
SAM3="$1"
GOLDEN="${SAM3_GOLDEN_DIR:-../shared/golden}"
TINY_PT="$GOLDEN/tiny/sam3_random.pt"
TINY_CFG="$GOLDEN/tiny/config.json"
IMG="$GOLDEN/images/groceries.jpg"
. "$(dirname "$0")/lib/common.sh"  # fail, ok, bad, check, has
cmp_() { "$SAM3" compare -m "$TINY_PT" --config "$TINY_CFG" -i "$IMG" -t child -t "paper bag" --threads 2 "$@"; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# 1. f32 against f32: the same computation, bit for bit.
out=$(cmp_ --dtype f32 --dtype f32 --threshold 0.05 --json 2>/dev/null); rc=$?
check "f32 vs f32 rc" 0 $rc
check "f32 vs f32 identical" "1.0 0.0 0 1.0 0.0" \
  "$(field "' '.join(str(d['summary'][k]) for k in ['min_cosine','max_prob_delta','kept_differ','min_mask_iou','max_box_delta_px'])" <<<"$out")"
check "report names both precisions" "f32 f32" "$(field "d['a']['precision'] + ' ' + d['b']['precision']" <<<"$out")"
check "one entry per image and prompt" "1 2" "$(field "str(len(d['images'])) + ' ' + str(len(d['images'][0]['prompts']))" <<<"$out")"

# 2. int8 against f32: within the int8 gates.
out=$(cmp_ --dtype f32 --dtype int8 --threshold 0.05 --json 2>/dev/null); rc=$?
check "f32 vs int8 rc" 0 $rc
check "int8 precision" "int8" "$(field "d['b']['precision']" <<<"$out")"
check "int8 within the gates" "True" \
  "$(field "d['summary']['min_cosine'] >= 0.999 and 0 < d['summary']['max_prob_delta'] <= 0.03" <<<"$out")"

# 3. The text report ends with a summary line.
out=$(cmp_ --dtype f32 --dtype int8 2>/dev/null); rc=$?
check "text rc" 0 $rc
grep -q "^summary: min cosine" <<<"$out" && ok "text summary" || bad "text summary"

# 4. Boxes as in `sam3 segment`: a box joins the -t before it; boxes-only prompts read "visual"; partly outside is
#    clipped; the report lists the boxes.
out=$("$SAM3" compare -m "$TINY_PT" --config "$TINY_CFG" -i "$IMG" -t child --box 100,50,300,400 --neg-box -20,0,60,80 \
      --dtype f32 --dtype f32 --threads 2 --json 2>/dev/null); rc=$?
check "boxes rc" 0 $rc
check "boxes in the report" "child 2 True False" \
  "$(field "' '.join(str(x) for x in [d['images'][0]['prompts'][0]['text'], len(d['images'][0]['prompts'][0]['boxes'])] + [b['positive'] for b in d['images'][0]['prompts'][0]['boxes']])" <<<"$out")"
check "boxes f32 vs f32 identical" "0.0 0" "$(field "str(d['summary']['max_prob_delta']) + ' ' + str(d['summary']['kept_differ'])" <<<"$out")"
out=$("$SAM3" compare -m "$TINY_PT" --config "$TINY_CFG" -i "$IMG" --box 100,50,300,400 --dtype f32 --dtype f32 \
      --threads 2 --json 2>/dev/null); rc=$?
check "boxes-only rc" 0 $rc
check "boxes-only prompt reads visual" "visual" "$(field "d['images'][0]['prompts'][0]['text']" <<<"$out")"
"$SAM3" compare -m "$TINY_PT" --config "$TINY_CFG" -i "$IMG" -t child --box 5000,0,6000,10 >/dev/null 2>&1; rc=$?
check "box wholly outside rc" 1 $rc
"$SAM3" compare -m "$TINY_PT" --config "$TINY_CFG" -i "$IMG" -t child --box 10,10,5,20 >/dev/null 2>&1; rc=$?
check "degenerate box rc" 1 $rc
"$SAM3" compare -m "$TINY_PT" -i "$IMG" >/dev/null 2>&1
check "no prompt rc" 2 $?

# 5. Bad options: exit 2 with a message.
"$SAM3" compare -m "$TINY_PT" -m "$TINY_PT" -m "$TINY_PT" -i "$IMG" -t child >/dev/null 2>&1
check "three models rc" 2 $?
"$SAM3" compare -m "$TINY_PT" -i "$IMG" -t child --dtype fp16 >/dev/null 2>&1
check "unknown dtype rc" 2 $?
"$SAM3" compare -m "$TINY_PT" --config "$TINY_CFG" -i "$GOLDEN/nope.jpg" -t child >/dev/null 2>&1
rc=$?; [ $rc -ne 0 ] && ok "missing image fails ($rc)" || bad "missing image fails"

exit $fail
