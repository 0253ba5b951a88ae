#!/usr/bin/env bash
# e2e: `sam3 pick` on the tiny_pvs fixture model: a single click (3 masks), the refinement chain through
# --logits-out / --mask-logits (the fixture's case 5), a box, --embedding made by `sam3 encode --pick-features`,
# --overlay, and bad input (exit codes and messages). Areas and IoUs are compared with manifest_pvs.json's values
# (areas within 8 pixels, IoUs within 1e-5, as tests/module/test_pick.cpp). $1 = the sam3 binary; run from the
# repo root.
set -u
SAM3="$1"
GOLDEN="${SAM3_GOLDEN_DIR:-../shared/golden}"
PT="$GOLDEN/tiny_pvs/sam3_pvs_random.pt"
CFG="$GOLDEN/tiny_pvs/config.json"
IMG="$GOLDEN/images/test_image.jpg"  # 1280x720
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/lib/common.sh"  # fail, ok, bad, check, has
near() {  # near NAME A B TOL
  if awk -v a="$2" -v b="$3" -v t="$4" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; then ok "$1 ($2 ~ $3)";
  else bad "$1: $2 vs $3 (tol $4)"; fi
}
pick() { "$SAM3" pick -m "$PT" --config "$CFG" --dtype f32 --threads 2 "$@"; }
# field NAME FILE: the values of "NAME": in a pretty-printed result, one per line.
field() { grep -o "\"$1\": [-0-9.e]*" "$2" | awk '{ print $2 }'; }

# 1. One click: 3 masks, the manifest's IoUs and pixel counts (test_image case 1).
pick -i "$IMG" --point 470,420 -o "$TMP/c1.json" --logits-out "$TMP/c1.st" --overlay "$TMP/c1.png" > "$TMP/c1.txt" 2>&1 \
  || bad "case 1 exit code"
set -- $(field score "$TMP/c1.json")
near "case 1 iou 0" "${1:-x}" 0.42642489 1e-5
near "case 1 iou 1" "${2:-x}" 0.61995661 1e-5
near "case 1 iou 2" "${3:-x}" 0.33414510 1e-5
set -- $(field area "$TMP/c1.json")
near "case 1 area 0" "${1:-x}" 828174 8
near "case 1 area 1" "${2:-x}" 587932 8
near "case 1 area 2" "${3:-x}" 437234 8
has "schema" '"schema": "sam3.segment/1"' "$(cat "$TMP/c1.json")"
has "COCO RLE mask" '"counts":' "$(cat "$TMP/c1.json")"
has "best" '"best": 1' "$(cat "$TMP/c1.json")"
[ -s "$TMP/c1.png" ] && ok "overlay written" || bad "overlay written"
[ -s "$TMP/c1.st" ] && ok "logits written" || bad "logits written"

# 2. Refinement (case 5): the best mask's logits + a second positive click -> one mask.
pick -i "$IMG" --point 470,420 --point 440,560 --mask-logits "$TMP/c1.st" -o "$TMP/c5.json" > /dev/null 2>&1 \
  || bad "case 5 exit code"
near "case 5 iou" "$(field score "$TMP/c5.json")" 0.70842141 1e-5
near "case 5 area" "$(field area "$TMP/c5.json")" 629190 8
# F:k picks mask k explicitly (k = 1 is the best here: same result).
pick -i "$IMG" --point 470,420 --point 440,560 --mask-logits "$TMP/c1.st:1" -o "$TMP/c5b.json" > /dev/null 2>&1
near "case 5 via :1" "$(field score "$TMP/c5b.json")" 0.70842141 1e-5

# 3. A box only (case 3), from an embedding saved with the interactive features.
"$SAM3" encode -m "$PT" --config "$CFG" --dtype f32 -i "$IMG" -o "$TMP/emb.safetensors" --pick-features --threads 2 \
  > /dev/null 2>&1 || bad "encode --pick-features"
pick --embedding "$TMP/emb.safetensors" --box 360,280,493,662 -o "$TMP/c3.json" > /dev/null 2>&1 \
  || bad "case 3 exit code"
near "case 3 iou" "$(field score "$TMP/c3.json")" 0.59902769 1e-5
near "case 3 area" "$(field area "$TMP/c3.json")" 518019 8

# 4. Bad input: exit 1 with a message naming the problem; usage errors exit 2.
out=$(pick -i "$IMG" --point 1470,420 2>&1); rc=$?
[ $rc -eq 1 ] && ok "outside point exits 1" || bad "outside point exits 1 (got $rc)"
has "outside point message" "outside the 1280x720 image" "$out"
out=$(pick -i "$IMG" --point 1,2,3 2>&1); rc=$?
[ $rc -eq 1 ] && ok "bad point exits 1" || bad "bad point exits 1 (got $rc)"
out=$(pick -i "$IMG" --box 50,50,40,60 2>&1); rc=$?
has "degenerate box message" "degenerate" "$out"
out=$(pick -i "$IMG" 2>&1); rc=$?
[ $rc -eq 2 ] && ok "no prompt exits 2" || bad "no prompt exits 2 (got $rc)"
out=$(pick -i "$IMG" --point 1,2 --multimask --single 2>&1); rc=$?
[ $rc -eq 2 ] && ok "--multimask --single exits 2" || bad "--multimask --single exits 2 (got $rc)"
out=$(pick -i "$IMG" --point 1,2 --mask-logits "$TMP/c1.json" 2>&1); rc=$?
[ $rc -eq 1 ] && ok "bad logits file exits 1" || bad "bad logits file exits 1 (got $rc)"
out=$("$SAM3" pick -m "$GOLDEN/tiny/sam3_random.pt" --config "$GOLDEN/tiny/config.json" -i "$IMG" --point 1,2 2>&1); rc=$?
[ $rc -eq 1 ] && ok "no interactive weights exits 1" || bad "no interactive weights exits 1 (got $rc)"
has "no interactive weights message" "no interactive weights" "$out"

exit $fail
