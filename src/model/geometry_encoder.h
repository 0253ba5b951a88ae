// sam3.cpp — the geometry (exemplar box) encoder: positive/negative boxes + the image features -> geometry tokens
// Always produces at least the CLS token, so a text-only prompt still has one geometry token.
//
// Per box b = (cx, cy, w, h) in [0,1] with label (1 = positive, 0 = negative):
//   token_b = label_embed[label] + ( direct(b) + pool(b) + posenc(b) )
//     direct = Linear(4→d)(cx, cy, w, h)
//     pool   = Conv7x7(RoIAlign(LN(img; img_pre_norm), xyxy·[W,H,W,H], 7×7, aligned=False))   (= Linear over d·49)
//     posenc = Linear(d+2→d)([sin/cos(cy) (d/2), sin/cos(cx) (d/2), h, w])
// x = LN(final_proj([token_1..token_N, cls]); norm); layers× pre-norm encoder layer (self-attn, cross-attn to the
// raw image features with the sine pos added to the keys, FFN); geo = LN(x; encode_norm).
// ref: sam3/model/geometry_encoders.py (SequenceGeometryEncoder), sam3/model/position_encoding.py (encode_boxes)
#pragma once
#include <cstdint>
#include <vector>

#include "core/context.h"
#include "core/tensor.h"
#include "model/config.h"
#include "model/encoder_layer.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/params.h"

namespace sam3 {

// One exemplar box as the processor passes it: normalised cxcywh relative to the original image (which the square
// resize maps onto the model input), positive or negative.
struct BoxPrompt {
  float cx = 0, cy = 0, w = 0, h = 0;
  bool positive = true;
};

struct GeometryFeatures {
  Tensor tokens;  // [N+1, 1, d] F32 sequence-first, boxes in order then CLS
  Tensor mask;    // [1, N+1] U8, all 0 (the processor never pads boxes)
};

class GeometryEncoder {
 public:
  // p = the scope of "geometry_encoder.". Checks every shape against cfg; throws for configurations sam3.cpp does not
  // implement (boxes encoded as points, no CLS / post-encode projection, positional encoding on queries).
  GeometryEncoder(const nn::ParamScope& p, const Config& cfg);

  // img, pos: the detector's image level (ImageFeatures fpn.back() / pos.back()), [1, d, H, W] or [d, H, W] NCHW.
  // Thread-safe (const). With a dumper, records the geo.* intermediates in the fixture layouts.
  GeometryFeatures encode(const std::vector<BoxPrompt>& boxes, const Tensor& img, const Tensor& pos, const RunContext& ctx) const;

  // PositionEmbeddingSine.encode_boxes: [N, d+2] = [pos_y (d/2) | pos_x (d/2) | h | w], float32 as upstream.
  Tensor box_position_encoding(const std::vector<BoxPrompt>& boxes) const;

 private:
  int64_t d_ = 0, roi_ = 0;
  int num_pos_feats_ = 0;   // d/2 per axis
  double temperature_ = 0;  // pos_enc.temperature
  Tensor label_embed_;      // [2, d]
  Tensor cls_embed_;        // [1, d]
  nn::Linear direct_, pool_, pos_proj_, final_proj_;  // pool_: the 7×7 conv as Linear [d, d·roi·roi]
  nn::LayerNorm norm_, img_pre_norm_, encode_norm_;
  std::vector<TransformerEncoderLayer> layers_;
};

// The RoIAlign boxes of the pooling branch: box_cxcywh_to_xyxy, then × [W, H, W, H] (feature-map pixels), float32
// in upstream's order (no FMA). [N, 4].
Tensor roi_boxes_xyxy(const std::vector<BoxPrompt>& boxes, int64_t h, int64_t w);

}  // namespace sam3
