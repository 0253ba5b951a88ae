// sam3.cpp — post-processing of one prompt's raw outputs, as Sam3Processor._forward_grounding does it:
//   prob = sigmoid(pred_logit) · sigmoid(presence_logit)   for all Q queries
//   keep = prob > threshold (strict), in ascending query order (no sort, no top-k, no NMS)
//   boxes: cxcywh → xyxy, × [W0, H0, W0, H0] (pixels of the original image, NOT clipped)
//   masks: plain bilinear (align_corners=False, no antialias) of the kept mask logits straight to (H0, W0), then
//          sigmoid, then > 0.5
// The raw outputs (all Q logits, boxes and mask logits) are kept so a result can be re-thresholded without running
// the model again: call postprocess() with another threshold.
// ref: sam3/model/sam3_image_processor.py (Sam3Processor._forward_grounding); kernels/resize_taps.h (the bilinear arithmetic)
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace sam3 {

// One prompt's raw detector outputs (batch 1), what forward_grounding returns.
struct DetectorOutputs {
  Tensor pred_logits;         // [Q] class logits of the last decoder layer (out.pred_logits (1,Q,1))
  float presence_logit = 0;   // unclamped (out.presence_logit_dec)
  Tensor pred_boxes;          // [Q, 4] cxcywh in [0,1] (out.pred_boxes (1,Q,4))
  Tensor pred_masks;          // [Q, h, w] mask logits (out.pred_masks (1,Q,h,w))
  Tensor semantic_seg;        // [1, h, w] semantic logits (out.semantic_seg), ignored by the official processor
};

struct Detections {
  std::vector<float> probs_all;                    // [Q] sigmoid(logit)·sigmoid(presence), every query
  std::vector<int64_t> keep;                       // kept query indices, ascending
  std::vector<float> scores;                       // probs_all[keep]
  std::vector<std::array<float, 4>> boxes_xyxy;    // kept boxes in original-image pixels (x0, y0, x1, y1)
  Tensor masks;                                    // U8 [N, H0, W0], 1 = inside (N = keep.size())
  int64_t height = 0, width = 0;                   // H0, W0
};

// prob[q] = sigmoid(logit[q]) · sigmoid(presence_logit), in float32 as upstream.
std::vector<float> detection_probs(const Tensor& pred_logits, float presence_logit);
// Indices q with prob[q] > threshold, ascending.
std::vector<int64_t> select_detections(const std::vector<float>& probs, float threshold);
// cxcywh (normalised) -> xyxy pixels: (cx - 0.5w)·W0, (cy - 0.5h)·H0, (cx + 0.5w)·W0, (cy + 0.5h)·H0.
std::array<float, 4> box_to_pixels(const float* cxcywh, int64_t width, int64_t height);

// Bilinear (align_corners=False, no antialias) of one logit map [h, w] to [H0, W0], bit-exact with torch
// (ops::upsample_bilinear; arithmetic in kernels/resize_taps.h). Either output may be null: `logits_out` gets the
// up-sampled logits, `mask_out` the mask sigmoid(up) > 0.5 as 0/1 bytes.
void upsample_mask(const float* logits, int64_t h, int64_t w, int64_t height, int64_t width, float* logits_out,
                   uint8_t* mask_out, int n_threads);

// The whole processor post-processing for one prompt at `threshold` on an original image of height × width.
Detections postprocess(const DetectorOutputs& out, float threshold, int64_t height, int64_t width, int n_threads);

}  // namespace sam3
