// sam3.cpp — post-processing of the interactive head's low-res mask logits (SAM2Transforms.postprocess_masks): holes
// (8-connected background components, logit <= threshold, of at most max_hole_area low-res pixels) are set to
// threshold + 10, then bilinear (align_corners=False) to the original image size, then logit > threshold. The
// low-res logits handed back for refinement are the decoder's, clamped to ±low_res_logit_clamp (no hole filling).
// ref: sam3/model/utils/sam1_utils.py (SAM2Transforms.postprocess_masks), sam3/model/sam1_task_predictor.py (_predict)
#pragma once
#include <cstdint>

#include "core/context.h"
#include "core/tensor.h"
#include "model/config.h"

namespace sam3 {

// logits [k, L, L] -> hole-filled logits [k, L, L] (owned).
Tensor fill_mask_holes(const Tensor& logits, double max_hole_area, double threshold, const RunContext& ctx);
// Candidate i of the hole-filled logits `filled` [k, L, L] (fill_mask_holes) -> its mask at height × width: 1 where
// the up-sampled logit > cfg.mask_threshold (the float map never stored), into `mask_out` (height·width bytes,
// row-major). One candidate at a time, so a caller holds one full-size bitmap, not k.
void upsample_pick_mask(const Tensor& filled, int64_t i, const PvsConfig& cfg, uint8_t* mask_out, int64_t height,
                        int64_t width, const RunContext& ctx);
// logits clamped to [-clamp, clamp] (owned).
Tensor clamp_low_res(const Tensor& logits, double clamp);

}  // namespace sam3
