#!/usr/bin/env bash
# e2e: `sam3 encode` on the tiny fixture model (the embedding file, its metadata, SAM3_DUMP), `sam3 bench` on the
# tiny model, and their errors. $1 = the sam3 binary; run from the repository root.
set -u
SAM3="$1"
GOLDEN="${SAM3_GOLDEN_DIR:-../shared/golden}"
TINY_PT="$GOLDEN/tiny/sam3_random.pt"
TINY_CFG="$GOLDEN/tiny/config.json"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/lib/common.sh"  # fail, ok, bad, check, has
# The JSON header of a safetensors file (u64 length, then the JSON).
header() { n=$(od -An -t u8 -N 8 "$1" | tr -d ' '); dd if="$1" bs=1 skip=8 count="$n" 2>/dev/null; }

# 1. Encode an image: exit 0, a summary line, an embedding with the levels, pos encodings and metadata.
out=$("$SAM3" encode -m "$TINY_PT" --config "$TINY_CFG" --dtype f32 -i "$GOLDEN/images/groceries.jpg" -o "$TMP/g.safetensors" \
      --threads 1 2>&1); rc=$?
check "encode rc" 0 $rc
has "encode summary" "(800x534) -> $TMP/g.safetensors: 3 levels, config 'tiny'" "$out"
h=$(header "$TMP/g.safetensors")
for k in backbone_fpn.0 backbone_fpn.1 backbone_fpn.2 vision_pos_enc.0 vision_pos_enc.1 vision_pos_enc.2; do
  has "embedding has $k" "\"$k\"" "$h"
done
has "fpn0 shape" '"shape":[1,64,72,72]' "$h"
has "metadata config" '"config":"tiny"' "$h"
has "metadata height" '"image_height":"534"' "$h"
has "metadata width" '"image_width":"800"' "$h"
has "metadata format" '"format":"sam3.image_embedding"' "$h"

# 2. Same image, two thread counts: both succeed (values are compared in the module test).
"$SAM3" encode -m "$TINY_PT" --config "$TINY_CFG" --dtype f32 -i "$GOLDEN/images/groceries.jpg" -o "$TMP/g2.safetensors" \
  --threads 2 >/dev/null 2>&1
check "encode 2 threads rc" 0 $?

# 3. SAM3_DUMP records the intermediates under the fixture names.
SAM3_DUMP="$TMP/dump" "$SAM3" encode -m "$TINY_PT" --config "$TINY_CFG" --dtype f32 -i "$GOLDEN/images/test_image.jpg" \
  -o "$TMP/t.safetensors" --threads 1 >/dev/null 2>&1
check "dump rc" 0 $?
d=$(header "$TMP/dump/image.safetensors")
for k in preprocess.image vit.patch_embed vit.abs_pos vit.ln_pre vit.block00 vit.block03 vit.out vit.freqs_cis.window \
         vit.freqs_cis.global neck.fpn0 neck.fpn3 neck.pos2; do
  has "dump has $k" "\"$k\"" "$d"
done

# 4. Errors: a missing image, a config that does not match the checkpoint, a missing option.
out=$("$SAM3" encode -m "$TINY_PT" --config "$TINY_CFG" --dtype f32 -i "$TMP/nope.jpg" -o "$TMP/x.safetensors" 2>&1); rc=$?
check "missing image rc" 1 $rc
has "missing image message" "nope.jpg" "$out"
out=$("$SAM3" encode -m "$TINY_PT" -i "$GOLDEN/images/groceries.jpg" -o "$TMP/x.safetensors" 2>&1); rc=$?
check "wrong config rc" 1 $rc
has "wrong config message" "sam3 encode: error:" "$out"
"$SAM3" encode -m "$TINY_PT" -o "$TMP/x.safetensors" >/dev/null 2>&1
check "missing -i rc" 2 $?

# 5. bench on the tiny model: the stage table and the sgemm reference.
out=$("$SAM3" bench -m "$TINY_PT" --config "$TINY_CFG" --threads 1 --sgemm-reps 1 2>&1); rc=$?
check "bench rc" 0 $rc
for k in "matmul 5184x4736x1024 f32" "checkpoint load:" "patch embed" "windowed blocks" "global blocks" "neck" "total" \
         "peak RSS:"; do
  has "bench reports $k" "$k" "$out"
done

exit $fail
