#!/usr/bin/env bash
# e2e: `sam3 segment` on the tiny fixture model: text / text+boxes / boxes-only / several prompts, the JSON result
# (its COCO RLE masks decoded back here, in awk, and compared with the fixture's final.masks_packbits; scores with
# final.scores), -o -, --overlay, --semantic, --embedding, and bad input. $1 = the sam3 binary; run from the repo root.
set -u
SAM3="$1"
GOLDEN="${SAM3_GOLDEN_DIR:-../shared/golden}"
TINY_PT="$GOLDEN/tiny/sam3_random.pt"
TINY_CFG="$GOLDEN/tiny/config.json"
IMG="$GOLDEN/images/test_image.jpg"  # 1280x720
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/lib/common.sh"  # fail, ok, bad, check, has
le() {  # le NAME A B: A <= B (numbers)
  if awk -v a="$2" -v b="$3" 'BEGIN { exit !(a <= b) }'; then ok "$1 ($2 <= $3)"; else bad "$1: $2 > $3"; fi
}
seg() { "$SAM3" segment -m "$TINY_PT" --config "$TINY_CFG" --dtype f32 --threads 2 "$@"; }

# ---- fixture access: safetensors header, a tensor's byte range, its bytes as numbers --------------------------
header() { n=$(od -An -t u8 -N 8 "$1" | tr -d ' '); dd if="$1" bs=1 skip=8 count="$n" 2>/dev/null; }
data_start() { echo $(( $(od -An -t u8 -N 8 "$1" | tr -d ' ') + 8 )); }
offsets() {  # offsets FILE NAME -> "begin end" (relative to the data section)
  header "$1" | grep -o "\"$2\":{[^}]*}" | grep -o '"data_offsets":\[[0-9]*,[0-9]*\]' | grep -o '[0-9][0-9]*' | tr '\n' ' '
}
# fixture_floats FILE NAME: the F32 tensor's values, one per line.
fixture_floats() {
  set -- "$1" "$2" $(offsets "$1" "$2")
  od -An -v -t f4 -j $(( $(data_start "$1") + $3 )) -N $(( $4 - $3 )) "$1" | tr -s ' ' '\n' | grep -v '^$'
}
# fixture_mask_bytes FILE ROW PIXELS: row ROW of final.masks_packbits as decimal bytes, one per line.
fixture_mask_bytes() {
  local row=$(( ($3 + 7) / 8 ))
  set -- "$1" "$2" "$3" $(offsets "$1" final.masks_packbits)
  od -An -v -t u1 -j $(( $(data_start "$1") + $4 + $2 * row )) -N "$row" "$1" | tr -s ' ' '\n' | grep -v '^$'
}
# mask_diff BYTES_FILE COUNTS H W: decodes the COCO compressed RLE string (pycocotools rleFrString, column-major
# runs starting with zeros) and prints how many pixels differ from the numpy-packbits row-major mask in BYTES_FILE.
mask_diff() {
  awk -v s="$2" -v H="$3" -v W="$4" '
    BEGIN { for (i = 48; i < 128; ++i) ord[sprintf("%c", i)] = i }
    NR == FNR { b = $1; for (k = 7; k >= 0; --k) { ref[n++] = int(b / 2 ^ k) % 2 } next }
    END {
      m = 0; p = 1; L = length(s)
      while (p <= L) {
        x = 0; k = 0; more = 1
        while (more) {
          c = ord[substr(s, p, 1)] - 48; x += (c % 32) * 32 ^ k; more = int(c / 32) % 2; ++p; ++k
          if (!more && int(c / 16) % 2) x -= 32 ^ k
        }
        if (m > 2) x += cnt[m - 2]
        cnt[m++] = x
      }
      pos = 0; diff = 0
      for (r = 0; r < m; ++r) {
        v = r % 2
        for (j = 0; j < cnt[r]; ++j) { y = pos % H; xx = int(pos / H); if (ref[y * W + xx] != v) ++diff; ++pos }
      }
      if (pos != H * W) { print "bad-length " pos; exit }
      print diff
    }' "$1"
}
json_values() { grep -o "\"$1\": [^,]*" "$2" | sed 's/.*: //'; }  # every "key": value in file order
counts_strings() { grep -o '"counts": "[^"]*"' "$1" | sed 's/"counts": "//; s/"$//'; }

# 1. Text only (test_image.case1: 'child' at its threshold): the kept instances, scores and masks of the fixture.
CASE="$GOLDEN/tiny/test_image.case1.safetensors"
out=$(seg -i "$IMG" -t child --threshold 0.346949 -o "$TMP/c1.json" 2>"$TMP/err"); rc=$?
check "case1 rc" 0 $rc
has "case1 summary" 'prompt 0: text "child": 3 instances with score > 0.346949' "$out"
has "case1 json schema" '"schema": "sam3.segment/1"' "$(cat "$TMP/c1.json")"
has "case1 json image" '"width": 1280' "$(cat "$TMP/c1.json")"
check "case1 queries" "$(od -An -v -t d8 -j $(( $(data_start "$CASE") + $(offsets "$CASE" final.keep_idx | cut -d' ' -f1) )) \
  -N 24 "$CASE" | tr -s ' ' '\n' | grep -v '^$' | tr '\n' ' ')" "$(json_values query "$TMP/c1.json" | tr '\n' ' ')"
paste <(json_values score "$TMP/c1.json") <(fixture_floats "$CASE" final.scores) > "$TMP/scores"
check "case1 score count" 3 "$(wc -l < "$TMP/scores")"
le "case1 max |score - fixture|" "$(awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d } END { printf "%.3g", m }' "$TMP/scores")" 1e-5
i=0
while read -r counts; do
  [ $i -ge 3 ] && break
  fixture_mask_bytes "$CASE" $i $((1280 * 720)) > "$TMP/ref$i"
  le "case1 mask $i pixels differing from the fixture" "$(mask_diff "$TMP/ref$i" "$counts" 720 1280)" 4
  i=$((i + 1))
done < <(counts_strings "$TMP/c1.json")
check "case1 masks compared" 3 $i

# 2. Text + boxes in pixels (case4: 'child' + positive + negative box, given as the fixture's cxcywh on 1280x720):
#    same kept instances and scores as the fixture within 1e-4 (pixel -> normalised conversion rounds differently).
CASE="$GOLDEN/tiny/test_image.case4.safetensors"
# [0.333, 0.654, 0.104, 0.53] and [0.193, 0.213, 0.156, 0.278] as x0,y0,x1,y1 pixels.
POS="359.68,280.08,492.8,661.68"
NEG="147.2,53.28,347.2,253.44"
out=$(seg -i "$IMG" -t child --box "$POS" --neg-box "$NEG" --threshold 0.353152 -o "$TMP/c4.json" 2>&1); rc=$?
check "case4 rc" 0 $rc
has "case4 summary" 'text "child" + 1 positive / 1 negative boxes: 2 instances' "$out"
has "case4 json negative label" '"label": "negative"' "$(cat "$TMP/c4.json")"
paste <(json_values score "$TMP/c4.json") <(fixture_floats "$CASE" final.scores) > "$TMP/scores4"
check "case4 score count" 2 "$(wc -l < "$TMP/scores4")"
le "case4 max |score - fixture|" "$(awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d } END { printf "%.3g", m }' "$TMP/scores4")" 1e-4
counts=$(counts_strings "$TMP/c4.json" | head -1)
fixture_mask_bytes "$CASE" 0 $((1280 * 720)) > "$TMP/ref4"
# The boxes reach the model through pixels -> cxcywh (float32 rounding ~1e-7): scores move by ~4e-5 (measured), and
# pixels whose random-model logit is that close to 0 flip (10 measured).
le "case4 mask 0 pixels differing" "$(mask_diff "$TMP/ref4" "$counts" 720 1280)" 16

# 3. Boxes only: the model reads "visual"; a box before -t joins that -t; box order is kept.
out=$(seg -i "$IMG" --box "$POS" --threshold 0.361427 -o "$TMP/c3.json" 2>&1); rc=$?
check "boxes-only rc" 0 $rc
has "boxes-only text" '"text_encoded": "visual"' "$(cat "$TMP/c3.json")"
has "boxes-only summary" 'prompt 0: text "visual" + 1 positive / 0 negative box: 5 instances' "$out"
out=$(seg -i "$IMG" --neg-box "$NEG" -t child --box "$POS" -t "paper bag" --threshold 0.99 -o "$TMP/multi.json" \
      --semantic "$TMP/sem.png" --overlay "$TMP/ov.png" 2>&1); rc=$?
check "several prompts rc" 0 $rc
has "several prompts: first" 'prompt 0: text "child" + 1 positive / 1 negative boxes' "$out"
has "several prompts: second" 'prompt 1: text "paper bag": 0 instances' "$out"
check "several prompts: box order" "negative positive" "$(json_values label "$TMP/multi.json" | tr -d '"' | tr '\n' ' ' | sed 's/ $//')"
for f in sem.0.png sem.1.png ov.png; do
  check "$f is a PNG" "89504e47" "$(od -An -t x1 -N 4 "$TMP/$f" 2>/dev/null | tr -d ' ')"
done

# 4. -o - prints the JSON; --embedding reuses 'sam3 encode' output and gives the same masks.
seg -i "$IMG" -t child --threshold 0.346949 -o - 2>/dev/null > "$TMP/stdout.json"
check "-o - same instances" "$(counts_strings "$TMP/c1.json")" "$(counts_strings "$TMP/stdout.json")"
"$SAM3" encode -m "$TINY_PT" --config "$TINY_CFG" --dtype f32 -i "$IMG" -o "$TMP/emb.safetensors" >/dev/null 2>&1
seg --embedding "$TMP/emb.safetensors" -t child --threshold 0.346949 -o "$TMP/emb.json" >/dev/null 2>&1
check "--embedding rc" 0 $?
check "--embedding same masks" "$(counts_strings "$TMP/c1.json")" "$(counts_strings "$TMP/emb.json")"
seg --embedding "$TMP/emb.safetensors" -i "$GOLDEN/images/groceries.jpg" -t child >/dev/null 2>"$TMP/err"
check "--embedding of another image rc" 1 $?
has "--embedding size message" "1280x720 image" "$(cat "$TMP/err")"

# 5. A box that merely extends past the edge is clipped to the image (PromptBox::from_user_xyxy, as the server).
seg -i "$IMG" -t child --box=-50,-40,200,300 --threshold 0.99 >/dev/null 2>&1
check "box past the edge rc" 0 $?
seg -i "$IMG" -t child --box=-50,-40,200,300 --neg-box 1200,700,1400,800 --threshold 0.99 -o "$TMP/clip.json" \
  >/dev/null 2>&1
check "box past the edge clipped" '"xyxy":[0.0,0.0,200.0,300.0] "xyxy":[1200.0,700.0,1280.0,720.0]' \
  "$(tr -d ' \n' < "$TMP/clip.json" | grep -o '"xyxy":\[[^]]*\]' | tr '\n' ' ' | sed 's/ $//')"

# 6. Bad input: clear message, non-zero exit.
bad_input() {  # bad_input NAME EXPECTED_RC MESSAGE ARGS...
  local name="$1" want="$2" msg="$3"; shift 3
  local out rc
  out=$(seg "$@" 2>&1); rc=$?
  check "$name rc" "$want" "$rc"
  has "$name message" "$msg" "$out"
}
bad_input "missing image" 1 "nope.jpg" -i "$TMP/nope.jpg" -t child
out=$("$SAM3" segment -m "$TMP/nope.pt" -i "$IMG" -t child 2>&1); rc=$?
check "missing model rc" 1 $rc
has "missing model message" "nope.pt" "$out"
bad_input "malformed box" 1 "--box '1,2,3': expected four numbers" -i "$IMG" --box 1,2,3
bad_input "non-numeric box" 1 "'a' is not a number" -i "$IMG" --box a,2,3,4
bad_input "degenerate box" 1 "degenerate box" -i "$IMG" -t child --box 10,10,5,20
bad_input "zero-area box" 1 "degenerate box" -i "$IMG" -t child --neg-box 10,10,30,10
bad_input "box outside" 1 "lies entirely outside the 1280x720 image" -i "$IMG" -t child --box 2000,0,2100,50
bad_input "box touching the edge from outside" 1 "--box '-50,0,0,100': box [-50, 0, 0, 100] lies entirely outside" \
  -i "$IMG" -t child --box=-50,0,0,100
bad_input "degenerate box message" 1 "--neg-box '10,10,30,10': degenerate box [10, 10, 30, 10]: y0 == y1" \
  -i "$IMG" -t child --neg-box 10,10,30,10
bad_input "empty text" 2 "empty text prompt" -i "$IMG" -t ""
bad_input "no prompt" 2 "no prompt" -i "$IMG"
bad_input "no image" 2 "give an image" -t child
bad_input "unknown option" 2 "--frobnicate" -i "$IMG" -t child --frobnicate
bad_input "threshold out of range" 2 "threshold" -i "$IMG" -t child --threshold 2
bad_input "overlay without image" 2 "--overlay needs the image" --embedding "$TMP/emb.safetensors" -t child --overlay "$TMP/x.png"

# 7. Outputs: never an input (the image or the model stay as they were), never two outputs on one file, and written
#    atomically (a temporary file renamed over the target: a hard link to another file is replaced, not written
#    through, and no temporary file is left behind).
cp "$IMG" "$TMP/in.jpg"
cp "$TINY_PT" "$TMP/model.pt"
img_sum=$(cksum < "$TMP/in.jpg"); model_sum=$(cksum < "$TMP/model.pt")
out=$(seg -i "$TMP/in.jpg" -t child -o "$TMP/in.jpg" 2>&1); rc=$?
check "-o onto the image rc" 1 $rc
has "-o onto the image message" "is the input" "$out"
out=$("$SAM3" segment -m "$TMP/model.pt" --config "$TINY_CFG" -i "$TMP/in.jpg" -t child --overlay "$TMP/model.pt" 2>&1)
check "--overlay onto the model rc" 1 $?
ln -s in.jpg "$TMP/link.jpg"
out=$(seg -i "$TMP/in.jpg" -t child --semantic "$TMP/link.jpg" 2>&1)
check "--semantic onto a link to the image rc" 1 $?
check "image unchanged" "$img_sum" "$(cksum < "$TMP/in.jpg")"
check "model unchanged" "$model_sum" "$(cksum < "$TMP/model.pt")"
out=$(seg -i "$TMP/in.jpg" -t child -o "$TMP/same" --overlay "$TMP/same" 2>&1)
check "-o and --overlay on one file rc" 2 $?
echo keep > "$TMP/other.txt"
ln "$TMP/other.txt" "$TMP/hard.json"
seg -i "$TMP/in.jpg" -t child -o "$TMP/hard.json" --overlay "$TMP/ov2.png" >/dev/null 2>&1
check "-o over a hard link rc" 0 $?
check "the hard link's other name untouched" "keep" "$(cat "$TMP/other.txt")"
has "-o written" '"schema"' "$(cat "$TMP/hard.json")"
check "no temporary files left" "" "$(ls "$TMP" | grep '\.tmp\.' || true)"
out=$("$SAM3" encode -m "$TINY_PT" --config "$TINY_CFG" -i "$TMP/in.jpg" -o "$TMP/in.jpg" 2>&1)
check "encode -o onto the image rc" 1 $?
check "image unchanged after encode" "$img_sum" "$(cksum < "$TMP/in.jpg")"

exit $fail
