#!/usr/bin/env bash
# e2e: `sam3 info` on the tiny fixture checkpoint (summary, parameter count, strict validation, listings, errors) and
# `sam3 make-random-checkpoint` -> `sam3 info`. $1 = the sam3 binary; run from the repository root.
set -u
SAM3="$1"
GOLDEN="${SAM3_GOLDEN_DIR:-../shared/golden}"
TINY_PT="$GOLDEN/tiny/sam3_random.pt"
TINY_CFG="$GOLDEN/tiny/config.json"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/lib/common.sh"  # fail, ok, bad, check, has

# 1. The tiny checkpoint against its config: parameter count 4,497,742 (config.json num_parameters_image_model).
out=$("$SAM3" info "$TINY_PT" --config "$TINY_CFG"); rc=$?
check "tiny rc" 0 $rc
has "tiny config name" "config:      tiny" "$out"
has "tiny parameters" "parameters:  4,497,742 " "$out"
has "tiny tensors" "320 image-model tensors, 30 skipped" "$out"
has "tiny dtypes" "dtypes     C64 4, F32 316" "$out"
has "tiny validation" "validation:  OK" "$out"

# 2. --list: one line per image-model tensor; --list-skipped: the 30 skipped keys (sam2_convs.*, tracker.*).
out=$("$SAM3" info "$TINY_PT" --config "$TINY_CFG" --list)
check "--list lines" 320 "$(grep -c '^  backbone\.\|^  geometry_encoder\.\|^  transformer\.\|^  segmentation_head\.\|^  dot_prod_scoring\.' <<<"$out")"
has "--list shape" "backbone.vision_backbone.trunk.blocks.1.attn.freqs_cis" "$out"
out=$("$SAM3" info "$TINY_PT" --config "$TINY_CFG" --list-skipped)
check "--list-skipped tracker" 8 "$(grep -c '^  tracker\.' <<<"$out")"
check "--list-skipped sam2_convs" 22 "$(grep -c '^  detector\.backbone\.vision_backbone\.sam2_convs\.' <<<"$out")"

# 3. Without --config the preset sam3 is used: the tiny file fails strict validation, exit 1, every problem listed.
err=$("$SAM3" info "$TINY_PT" 2>&1 >"$TMP/out.txt"); rc=$?
out=$(cat "$TMP/out.txt")
check "preset mismatch rc" 1 $rc
has "preset config" "config:      sam3 (preset)" "$out"
has "preset still counts" "parameters:  4,497,742 " "$out"
has "preset validation failed" "validation:  FAILED" "$out"
n=$(grep -oE '\(([0-9]+) problems\)' <<<"$err" | grep -oE '[0-9]+')
check "every problem listed" "$n" "$(grep -cE '^  (missing|wrong shape|wrong dtype|unexpected): ' <<<"$err")"
has "missing key named" "missing: backbone.vision_backbone.trunk.blocks.31.mlp.fc2.weight (expected [1024, 4736] F32)" "$err"
has "wrong shape named" "wrong shape: transformer.decoder.query_embed.weight is [20, 64] F32, expected [200, 256] F32" "$err"

# 4. Command-line and input errors.
"$SAM3" info "$TINY_PT" --bogus >/dev/null 2>&1; check "unknown option rc" 2 $?
"$SAM3" info >/dev/null 2>&1; check "missing MODEL rc" 2 $?
"$SAM3" info --help >/dev/null 2>&1; check "--help rc" 0 $?
err=$("$SAM3" info "$TMP/nonexistent.pt" --config "$TINY_CFG" 2>&1); check "missing file rc" 1 $?
has "missing file named" "nonexistent.pt" "$err"
echo '{"config": {"vit": {"depth": 4, "widht": 3}}}' >"$TMP/bad.json"
err=$("$SAM3" info "$TINY_PT" --config "$TMP/bad.json" 2>&1); check "bad config rc" 1 $?
has "bad config key named" "vit.widht" "$err"

# 5. make-random-checkpoint (tiny config) -> info validates strictly, same parameter count, extra keys skipped.
out=$("$SAM3" make-random-checkpoint -o "$TMP/rand.pt" --config "$TINY_CFG" --seed 3 --threads 2); rc=$?
check "random rc" 0 $rc
has "random summary" "345 tensors, 4497742 image-model parameters" "$out"
out=$("$SAM3" info "$TMP/rand.pt" --config "$TINY_CFG" --list-skipped); rc=$?
check "random info rc" 0 $rc
has "random parameters" "parameters:  4,497,742 " "$out"
has "random validation" "validation:  OK" "$out"
has "random tracker skipped" "  tracker.no_obj_ptr" "$out"
"$SAM3" make-random-checkpoint --config "$TINY_CFG" >/dev/null 2>&1; check "random without -o rc" 2 $?
"$SAM3" make-random-checkpoint -o "$TMP/x.pt" --seed nope >/dev/null 2>&1; check "random bad seed rc" 2 $?

exit $fail
