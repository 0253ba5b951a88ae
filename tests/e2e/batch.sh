#!/usr/bin/env bash
# e2e: `sam3 batch` on the tiny fixture model: a directory with good, corrupt and truncated images (exit 3, failures
# listed), results identical to `sam3 segment` image by image (scores and COCO RLE masks), resuming (after a clean
# end, after a record cut short, after kill -9), list files, --box-file, --embeddings-dir, --overlays, and bad input.
# $1 = the sam3 binary; run from the repository root.
set -u
SAM3="$1"
GOLDEN="${SAM3_GOLDEN_DIR:-../shared/golden}"
TINY_PT="$GOLDEN/tiny/sam3_random.pt"
TINY_CFG="$GOLDEN/tiny/config.json"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/lib/common.sh"  # fail, ok, bad, check, has
batch() { "$SAM3" batch -m "$TINY_PT" --config "$TINY_CFG" --threads 2 "$@"; }
seg() { "$SAM3" segment -m "$TINY_PT" --config "$TINY_CFG" --threads 2 "$@"; }
T=0.3  # random weights: scores around 0.3, so several instances per prompt

# The dataset: two fixture images, a copy in a subdirectory, an empty-looking corrupt file, a truncated JPEG and a
# file that is not an image by name (ignored). Sorted: bad.jpg, groceries.jpg, sub/g2.jpg, test_image.jpg, trunc.jpg.
mkdir -p "$TMP/imgs/sub"
cp "$GOLDEN/images/test_image.jpg" "$GOLDEN/images/groceries.jpg" "$TMP/imgs/"
cp "$GOLDEN/images/groceries.jpg" "$TMP/imgs/sub/g2.jpg"
echo "not an image" > "$TMP/imgs/bad.jpg"
head -c 6000 "$GOLDEN/images/test_image.jpg" > "$TMP/imgs/trunc.jpg"
echo "notes" > "$TMP/imgs/readme.txt"

# ---- segment's instances of one image: "prompt score counts" lines (instance masks only, not the semantic one) ----
seg_instances() {  # seg_instances JSON
  awk '/"prompts": \[/ { p = -1 } /"text_encoded"/ { ++p }
       /"score":/ { s = $2; sub(/,$/, "", s) }
       /"mask": \{/ { m = 1 }
       /"counts":/ && m { c = $2; gsub(/[",]/, "", c); print p + 1, s, c; m = 0 }' "$1"
}
# results.json's annotations of one image id: "category score counts" lines, in file order.
batch_instances() {  # batch_instances RESULTS ID
  grep "\"image_id\":$2," "$1" | sed 's/.*"category_id":\([0-9]*\),.*"score":\([^,]*\),.*"counts":"\([^"]*\)".*/\1 \2 \3/'
}

# 1. A directory with corrupt images: exit 3, every good image done, the bad ones listed with the decoder's message.
out=$(batch -i "$TMP/imgs" -t child -t "paper bag" --threshold $T -o "$TMP/out" 2>"$TMP/err"); rc=$?
check "dir rc (some images failed)" 3 $rc
has "summary" "5 images: 3 done (3 this run), 2 failed" "$out"
has "progress on stderr" "[5/5] 100.0%" "$(cat "$TMP/err")"
has "progress rate" "images/s, ETA" "$(cat "$TMP/err")"
has "failure reported" "FAILED $TMP/imgs/bad.jpg: cannot decode image" "$(cat "$TMP/err")"
has "exit reason" "2 of 5 images failed (listed in $TMP/out/failed.json)" "$(cat "$TMP/err")"
has "failed.json: corrupt" "{\"id\":1,\"file_name\":\"$TMP/imgs/bad.jpg\",\"error\":\"cannot decode image" \
  "$(cat "$TMP/out/failed.json")"
has "failed.json: truncated" "\"id\":5,\"file_name\":\"$TMP/imgs/trunc.jpg\",\"error\":\"cannot decode JPEG" \
  "$(cat "$TMP/out/failed.json")"
check "images.json images" "2 groceries.jpg 800 534|3 g2.jpg 800 534|4 test_image.jpg 1280 720|" \
  "$(grep '^{"id"' "$TMP/out/images.json" | sed 's/{"id":\([0-9]*\),"file_name":"[^"]*\/\([^/"]*\)","width":\([0-9]*\),"height":\([0-9]*\)}.*/\1 \2 \3 \4/' | tr '\n' '|')"
has "images.json categories" '"categories": [{"id":1,"name":"child","supercategory":""},{"id":2,"name":"paper bag","supercategory":""}]' \
  "$(cat "$TMP/out/images.json")"
has "results.json COCO fields" '{"image_id":2,"category_id":1,"bbox":[' "$(cat "$TMP/out/results.json")"
check "results.json is a list" "[" "$(head -1 "$TMP/out/results.json")"

# 2. Identical to `sam3 segment` on the same image and prompts: same instances, scores and mask strings, in order.
n_compared=0
for pair in "2 groceries.jpg" "3 sub/g2.jpg" "4 test_image.jpg"; do
  set -- $pair
  seg -i "$TMP/imgs/$2" -t child -t "paper bag" --threshold $T -o "$TMP/seg$1.json" >/dev/null 2>&1
  want=$(seg_instances "$TMP/seg$1.json")
  got=$(batch_instances "$TMP/out/results.json" "$1")
  [ -n "$want" ] || bad "segment found instances on $2"
  check "image $1 ($2) identical to sam3 segment ($(wc -l <<<"$want") instances)" "$want" "$got"
  n_compared=$((n_compared + $(wc -l <<<"$got")))
done
check "every annotation compared" "$(grep -c '"image_id"' "$TMP/out/results.json")" "$n_compared"

# 3. Resume after a clean end: nothing redone but the failed images, the same files.
cp "$TMP/out/results.json" "$TMP/results.ref"; cp "$TMP/out/images.json" "$TMP/images.ref"
lines=$(wc -l < "$TMP/out/records.jsonl")
out=$(batch -i "$TMP/imgs" -t child -t "paper bag" --threshold $T -o "$TMP/out" 2>&1); rc=$?
check "rerun rc" 3 $rc
has "rerun skips the done images" "5 images, 3 done before, 2 to do" "$out"
check "rerun: only the failed images tried again" $((lines + 2)) "$(wc -l < "$TMP/out/records.jsonl")"
cmp -s "$TMP/results.ref" "$TMP/out/results.json" && ok "rerun: same results.json" || bad "rerun: same results.json"
cmp -s "$TMP/images.ref" "$TMP/out/images.json" && ok "rerun: same images.json" || bad "rerun: same images.json"

# 4. Resume after a crash that cut the journal mid-record: the cut record's image is done again, same results.
mkdir -p "$TMP/crash"
cp "$TMP/out/run.json" "$TMP/crash/"
{ sed -n 2p "$TMP/out/records.jsonl"; sed -n 3p "$TMP/out/records.jsonl" | head -c 200; } > "$TMP/crash/records.jsonl"
out=$(batch -i "$TMP/imgs" -t child -t "paper bag" --threshold $T -o "$TMP/crash" 2>&1); rc=$?
check "after a cut record rc" 3 $rc
has "after a cut record: the complete one kept" "1 done before, 4 to do" "$out"
cmp -s "$TMP/results.ref" "$TMP/crash/results.json" && ok "after a cut record: same results" || bad "after a cut record: same results"

# 5. kill -9 in the middle of a run, then resume: same results as a run that was never interrupted.
mkdir -p "$TMP/many"
for k in 1 2 3 4 5 6; do cp "$GOLDEN/images/test_image.jpg" "$TMP/many/t$k.jpg"; done
batch -i "$TMP/many" -t child --threshold $T -o "$TMP/ref6" >/dev/null 2>&1
"$SAM3" batch -m "$TINY_PT" --config "$TINY_CFG" --threads 2 -i "$TMP/many" -t child --threshold $T -o "$TMP/kill" \
  >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 600); do  # until the first image is recorded (at most 60 s)
  [ -s "$TMP/kill/records.jsonl" ] && break
  sleep 0.1
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
killed_after=$(wc -l < "$TMP/kill/records.jsonl")
[ "$killed_after" -lt 6 ] && ok "killed mid-run ($killed_after of 6 recorded)" || echo "note: the run ended before kill -9"
out=$(batch -i "$TMP/many" -t child --threshold $T -o "$TMP/kill" 2>&1); rc=$?
check "resume after kill -9 rc" 0 $rc
has "resume after kill -9 skips" "6 images, $killed_after done before" "$out"
cmp -s "$TMP/ref6/results.json" "$TMP/kill/results.json" && ok "after kill -9: same results" || bad "after kill -9: same results"
out=$(batch -i "$TMP/many" -t child --threshold $T -o "$TMP/kill" 2>&1); rc=$?
check "complete run again rc" 0 $rc
has "complete run again: nothing to do" "6 images: 6 done (0 this run), 0 failed" "$out"

# 6. A list file (paths relative to it, comments) and an image file as inputs: ids in the order given.
printf '# my list\ngroceries.jpg\n\nsub/g2.jpg\n' > "$TMP/imgs/list.txt"
out=$(batch -i "$TMP/imgs/list.txt" -i "$TMP/imgs/test_image.jpg" -t child -t "paper bag" --threshold $T \
      -o "$TMP/list" 2>&1); rc=$?
check "list file rc" 0 $rc
check "list file ids" "1 $TMP/imgs/groceries.jpg|2 $TMP/imgs/sub/g2.jpg|3 $TMP/imgs/test_image.jpg|" \
  "$(grep '^{"id"' "$TMP/list/images.json" | sed 's/{"id":\([0-9]*\),"file_name":"\([^"]*\)".*/\1 \2/' | tr '\n' '|')"
check "list file: same instances as the directory run" "$(batch_instances "$TMP/out/results.json" 4)" \
  "$(batch_instances "$TMP/list/results.json" 3)"

# 7. --box-file: a box with a text joins that -t; a box without one is the boxes-only prompt ("visual" category).
BOX="359.68,280.08,492.8,661.68"
NEG="147.2,53.28,347.2,253.44"
cat > "$TMP/boxes.json" <<JSON
{"$TMP/imgs/test_image.jpg": [{"box": [359.68, 280.08, 492.8, 661.68], "text": "child"},
                              {"box": [147.2, 53.28, 347.2, 253.44], "text": "child", "positive": false},
                              {"box": [359.68, 280.08, 492.8, 661.68]}]}
JSON
out=$(batch -i "$TMP/imgs/test_image.jpg" -i "$TMP/imgs/groceries.jpg" -t child --box-file "$TMP/boxes.json" \
      --threshold $T -o "$TMP/boxes" 2>&1); rc=$?
check "box file rc" 0 $rc
has "box file: visual category" '{"id":2,"name":"visual","supercategory":""}' "$(cat "$TMP/boxes/images.json")"
seg -i "$TMP/imgs/test_image.jpg" -t child --box "$BOX" --neg-box "$NEG" -t visual --box "$BOX" --threshold $T \
  -o "$TMP/segbox.json" >/dev/null 2>&1
check "box file: identical to sam3 segment with the same boxes" "$(seg_instances "$TMP/segbox.json")" \
  "$(batch_instances "$TMP/boxes/results.json" 1)"
check "box file: an image without boxes gets the text prompts only" "$(batch_instances "$TMP/list/results.json" 1 | grep '^1 ')" \
  "$(batch_instances "$TMP/boxes/results.json" 2)"

# 8. --embeddings-dir saves embeddings; a second run with them encodes nothing and gives the same results.
batch -i "$TMP/imgs/list.txt" -t child -t "paper bag" --threshold $T -o "$TMP/e1" --embeddings-dir "$TMP/emb" \
  --overlays "$TMP/ov" >/dev/null 2>&1
check "embeddings saved" 2 "$(ls "$TMP/emb"/*.safetensors | wc -l)"
check "overlays are PNGs" "89504e47 89504e47 " \
  "$(for f in "$TMP/ov"/*.png; do od -An -t x1 -N 4 "$f" | tr -d ' '; done | tr '\n' ' ')"
batch -i "$TMP/imgs/list.txt" -t child -t "paper bag" --threshold $T -o "$TMP/e2" --embeddings-dir "$TMP/emb" \
  >/dev/null 2>&1
check "from saved embeddings rc" 0 $?
cmp -s "$TMP/e1/results.json" "$TMP/e2/results.json" && ok "from saved embeddings: same results" \
  || bad "from saved embeddings: same results"

# 9. Bad input: clear message, non-zero exit, nothing run.
bad_input() {  # bad_input NAME EXPECTED_RC MESSAGE ARGS...
  local name="$1" want="$2" msg="$3"; shift 3
  local out rc
  out=$(batch "$@" 2>&1); rc=$?
  check "$name rc" "$want" "$rc"
  has "$name message" "$msg" "$out"
}
bad_input "other settings in the same directory" 1 "holds a run with another threshold" \
  -i "$TMP/imgs" -t child -t "paper bag" --threshold 0.4 -o "$TMP/out"
bad_input "other inputs in the same directory" 1 "holds the results of other inputs" \
  -i "$TMP/many" -t child -t "paper bag" --threshold $T -o "$TMP/out"
bad_input "missing input" 1 "input '$TMP/nope': no such file or directory" -i "$TMP/nope" -t child -o "$TMP/x"
: > "$TMP/empty.txt"
bad_input "empty list" 1 "hold no images" -i "$TMP/empty.txt" -t child -o "$TMP/x"
bad_input "no prompt" 2 "no prompt" -i "$TMP/imgs" -o "$TMP/x"
bad_input "no output" 2 "--output" -i "$TMP/imgs" -t child
bad_input "text twice" 1 "-t 'child' is given twice" -i "$TMP/imgs" -t child -t child -o "$TMP/x"
echo '{"nope.jpg": [{"box": [1, 2, 3, 4]}]}' > "$TMP/b1.json"
bad_input "box file: unknown image" 1 "image 'nope.jpg': not among the inputs" -i "$TMP/imgs" -t child --box-file "$TMP/b1.json" -o "$TMP/x"
echo "{\"$TMP/imgs/groceries.jpg\": [{\"box\": [10, 10, 5, 20]}]}" > "$TMP/b2.json"
bad_input "box file: degenerate box" 1 "degenerate box" -i "$TMP/imgs" -t child --box-file "$TMP/b2.json" -o "$TMP/x"
echo "{\"$TMP/imgs/groceries.jpg\": [{\"box\": [1, 2, 3, 4], \"text\": \"dog\"}]}" > "$TMP/b3.json"
bad_input "box file: unknown text" 1 "the text 'dog' is not one of the -t" -i "$TMP/imgs" -t child --box-file "$TMP/b3.json" -o "$TMP/x"
echo "{" > "$TMP/b4.json"
bad_input "box file: not JSON" 1 "not JSON" -i "$TMP/imgs" -t child --box-file "$TMP/b4.json" -o "$TMP/x"
# A box lying outside one image fails that image only (listed), not the run.
echo "{\"$TMP/imgs/groceries.jpg\": [{\"box\": [900, 10, 950, 20]}]}" > "$TMP/b5.json"
out=$(batch -i "$TMP/imgs/groceries.jpg" -i "$TMP/imgs/test_image.jpg" -t child --box-file "$TMP/b5.json" \
      --threshold $T -o "$TMP/b5" 2>&1); rc=$?
check "box outside one image rc" 3 $rc
has "box outside one image: listed" "lies entirely outside" "$(cat "$TMP/b5/failed.json")"
has "box outside one image: the other done" "2 images: 1 done" "$out"

exit $fail
