// sam3.cpp — the DETR decoder: learned queries with reference boxes and a presence token, post-norm layers of
// self-attention → text cross-attention → image cross-attention (with the "log" box relative-position bias) → FFN,
// per-layer box refinement. Eval behaviour: DAC off (exactly num_queries queries), presence logit NOT clamped
// (upstream discards the .clamp() result). Also applies the box head as Sam3Image._update_scores_and_boxes does.
// ref: sam3/model/decoder.py (TransformerDecoder, TransformerDecoderLayer); sam3/model/sam3_image.py
//      (_run_decoder, _update_scores_and_boxes)
#pragma once
#include <cstdint>
#include <vector>

#include "core/context.h"
#include "core/tensor.h"
#include "model/config.h"
#include "model/fusion_encoder.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/mlp.h"
#include "nn/multihead_attention.h"
#include "nn/params.h"

namespace sam3 {

struct DecoderLayer {
  nn::MultiheadAttention self_attn, ca_text, cross_attn;
  nn::Linear linear1, linear2;
  nn::LayerNorm norm1, norm2, catext_norm, norm3;
};

struct DecoderOutput {
  Tensor hs;                  // [L, Q, d] LN'd layer outputs              (dec.hs (L,Q,1,d))
  Tensor ref_boxes;           // [L, Q, 4] boxes fed to each layer, cxcywh  (dec.ref_boxes (L,Q,1,4))
  Tensor presence_logits;     // [L] per layer, unclamped                   (dec.presence_logits (L,1,1))
  Tensor presence_feats;      // [d] last layer's presence token output     (dec.presence_feats (1,1,d))
  Tensor anchor_box_offsets;  // [L, Q, 4] bbox_embed(hs[l])               (out.anchor_box_offsets (L,1,Q,4))
  Tensor pred_boxes;          // [Q, 4] last layer, cxcywh in [0,1]         (out.pred_boxes (1,Q,4))
  Tensor pred_boxes_xyxy;     // [Q, 4]                                     (out.pred_boxes_xyxy (1,Q,4))

  float presence_logit() const;  // last layer (out.presence_logit_dec)
  Tensor queries() const;        // hs[L-1], [Q, d] (out.queries (1,Q,d))
};

class Decoder {
 public:
  // `p` is the scope of `transformer.decoder.`.
  Decoder(const Config& cfg, const nn::ParamScope& p);

  // memory, pos: [HW, d] image tokens from the fusion encoder (token y*feat_w + x) and their position encoding.
  // Dumps dec.query_pos.l*, dec.rpb_bias.l*, dec.layer*.out / .presence_out, dec.hs, dec.ref_boxes,
  // dec.presence_logits, dec.presence_feats, out.anchor_box_offsets, out.pred_boxes(_xyxy), out.presence_logit_dec,
  // out.queries.
  DecoderOutput forward(const Tensor& memory, const Tensor& pos, int64_t feat_h, int64_t feat_w,
                        const PromptView& prompt, const RunContext& ctx) const;

  int64_t num_queries() const { return nq_; }

  // The pieces, exposed for tests. ref: [Q, 4] cxcywh.
  // gen_sineembed_for_position: [Q, 2d] = [S(cy), S(cx), S(w), S(h)], each d/2 wide (sin/cos interleaved).
  Tensor query_sine_embed(const Tensor& ref) const;
  // _get_rpb_matrix ("log"): [heads, Q, feat_h*feat_w], bias(h, q, i*feat_w + j) = By[q,i,h] + Bx[q,j,h]. From ctx's
  // scratch (the arena when there is one).
  Tensor rpb_bias(const Tensor& ref, int64_t feat_h, int64_t feat_w, const RunContext& ctx) const;

 private:
  int64_t d_ = 0, nq_ = 0, heads_ = 0;
  bool presence_ = true, text_xattn_ = true, relu_ = true;
  std::vector<DecoderLayer> layers_;
  nn::LayerNorm norm_, presence_out_norm_;
  nn::Mlp bbox_embed_, ref_point_head_, rpb_x_, rpb_y_, presence_head_;
  Tensor query_embed_, reference_points_, presence_token_;  // [Q,d], [Q,4], [1,d]
};

// Box helpers used by the decoder and post-processing (float32, same formulas as upstream).
// inverse_sigmoid(x) = log(max(x',eps) / max(1-x',eps)), x' = clamp(x, 0, 1). ref: sam3/model/model_misc.py
float inverse_sigmoid(float x, float eps = 1e-3f);
float sigmoid(float x);
// cxcywh -> xyxy: (cx - 0.5w, cy - 0.5h, cx + 0.5w, cy + 0.5h). ref: sam3/model/box_ops.py (box_cxcywh_to_xyxy)
void box_cxcywh_to_xyxy(const float* in, float* out);

}  // namespace sam3
