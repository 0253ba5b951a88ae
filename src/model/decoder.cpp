// sam3.cpp — DETR decoder with box refinement, boxRPB and presence token (see decoder.h).
// ref: sam3/model/decoder.py (TransformerDecoder.forward, _get_rpb_matrix, TransformerDecoderLayer.forward)
#include "model/decoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "core/error.h"
#include "core/ops.h"

namespace sam3 {

float inverse_sigmoid(float x, float eps) {
  x = std::min(std::max(x, 0.0f), 1.0f);
  const float x1 = std::max(x, eps), x2 = std::max(1.0f - x, eps);
  return std::log(x1 / x2);
}

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

void box_cxcywh_to_xyxy(const float* in, float* out) {
  const float cx = in[0], cy = in[1], w = in[2], h = in[3];
  out[0] = cx - 0.5f * w;
  out[1] = cy - 0.5f * h;
  out[2] = cx + 0.5f * w;
  out[3] = cy + 0.5f * h;
}

float DecoderOutput::presence_logit() const {
  return presence_logits.f32()[presence_logits.numel() - 1];
}

Tensor DecoderOutput::queries() const {
  const int64_t L = hs.size(0);
  return hs.slice0(L - 1, L).reshape({hs.size(1), hs.size(2)});
}

Decoder::Decoder(const Config& cfg, const nn::ParamScope& p) {
  const DecoderConfig& c = cfg.decoder;
  d_ = cfg.d_model;
  nq_ = c.num_queries;
  heads_ = c.num_heads;
  presence_ = c.presence_token;
  text_xattn_ = c.use_text_cross_attention;
  if (c.boxRPB != "log") throw Error("decoder: decoder.boxRPB '" + c.boxRPB + "' is not implemented (only \"log\")");
  if (!c.box_refine) throw Error("decoder: decoder.box_refine=false is not supported upstream either");
  if (c.activation != "relu" && c.activation != "gelu")
    throw Error("decoder: decoder.activation '" + c.activation + "' is not relu/gelu");
  relu_ = c.activation == "relu";
  // Box, presence and position heads stay f32 whatever the model's precision (docs/precision.md).
  // decoder.dac only matters in training (apply_dac = dac and training); dac_use_selfatt_ln likewise.
  const double eps = nn::kLayerNormEps;
  // In the checkpoint's order (TransformerDecoderLayer.__init__, TransformerDecoder.__init__).
  for (int i = 0; i < c.num_layers; ++i) {
    nn::ParamScope l = p.sub("layers").sub(i);
    DecoderLayer L;
    L.cross_attn = nn::MultiheadAttention::load(l.sub("cross_attn"), d_, heads_);
    L.norm1 = nn::LayerNorm::load(l.sub("norm1"), d_, eps);
    if (text_xattn_) {
      L.ca_text = nn::MultiheadAttention::load(l.sub("ca_text"), d_, heads_);
      L.catext_norm = nn::LayerNorm::load(l.sub("catext_norm"), d_, eps);
    }
    L.self_attn = nn::MultiheadAttention::load(l.sub("self_attn"), d_, heads_);
    L.norm2 = nn::LayerNorm::load(l.sub("norm2"), d_, eps);
    L.linear1 = nn::Linear::load(l.sub("linear1"), d_, c.dim_feedforward);
    L.linear2 = nn::Linear::load(l.sub("linear2"), c.dim_feedforward, d_);
    L.norm3 = nn::LayerNorm::load(l.sub("norm3"), d_, eps);
    // The decoder's attention multiplies in f32 at every precision (its projections follow the precision): in bf16
    // it moved the tiny model's boxes 1.07 px against the 1 px gate (0.93 px with it f32), and it is a small share
    // of a prompt's products (docs/precision.md).
    for (nn::MultiheadAttention* a : {&L.cross_attn, &L.ca_text, &L.self_attn}) a->bf16_products = false;
    layers_.push_back(std::move(L));
  }
  norm_ = nn::LayerNorm::load(p.sub("norm"), d_, eps);
  bbox_embed_ = nn::Mlp::load(p.f32().sub("bbox_embed"), d_, d_, 4, 3);
  query_embed_ = p.get("query_embed.weight", {nq_, d_});
  reference_points_ = p.get("reference_points.weight", {nq_, 4});
  rpb_x_ = nn::Mlp::load(p.f32().sub("boxRPB_embed_x"), 2, d_, heads_, 2);
  rpb_y_ = nn::Mlp::load(p.f32().sub("boxRPB_embed_y"), 2, d_, heads_, 2);
  if (presence_) {
    presence_token_ = p.get("presence_token.weight", {1, d_});
    presence_head_ = nn::Mlp::load(p.f32().sub("presence_token_head"), d_, d_, 1, 3);
    presence_out_norm_ = nn::LayerNorm::load(p.sub("presence_token_out_norm"), d_, eps);
  }
  ref_point_head_ = nn::Mlp::load(p.f32().sub("ref_point_head"), 2 * d_, d_, d_, 2);
}

// ref: sam3/model/model_misc.py (gen_sineembed_for_position), 4-d input, num_feats = d_model.
Tensor Decoder::query_sine_embed(const Tensor& ref) const {
  const int64_t Q = ref.numel() / 4, half = d_ / 2;
  Tensor out = Tensor::empty({Q, 4 * half});
  const float scale = static_cast<float>(2.0 * M_PI);
  std::vector<float> dim_t(static_cast<size_t>(half));
  for (int64_t k = 0; k < half; ++k)
    dim_t[static_cast<size_t>(k)] =
        std::pow(10000.0f, static_cast<float>(2 * (k / 2)) / static_cast<float>(half));
  const float* r = ref.f32();
  float* o = out.f32();
  constexpr int kOrder[4] = {1, 0, 2, 3};  // [pos_y, pos_x, pos_w, pos_h]
  for (int64_t q = 0; q < Q; ++q) {
    for (int part = 0; part < 4; ++part) {
      const float v = r[q * 4 + kOrder[part]] * scale;
      float* dst = o + q * 4 * half + part * half;
      for (int64_t k = 0; k < half; ++k) {
        const float a = v / dim_t[static_cast<size_t>(k)];
        dst[k] = (k % 2 == 0) ? std::sin(a) : std::cos(a);
      }
    }
  }
  return out;
}

// ref: sam3/model/decoder.py (TransformerDecoder._get_rpb_matrix), boxRPB = "log".
Tensor Decoder::rpb_bias(const Tensor& ref, int64_t feat_h, int64_t feat_w, const RunContext& ctx) const {
  const int64_t Q = ref.numel() / 4;
  // deltas: [Q, W, 2] (x) and [Q, H, 2] (y): coords[j] - (edge0, edge1), then sign(8δ)·log2(|8δ|+1)/log2(8).
  Tensor dx = ctx.scratch({Q, feat_w, 2}), dy = ctx.scratch({Q, feat_h, 2});
  auto logt = [](float d) {
    const float s = d * 8.0f;
    const float sg = s > 0 ? 1.0f : (s < 0 ? -1.0f : 0.0f);
    return sg * std::log2(std::fabs(s) + 1.0f) / 3.0f;
  };
  const float* r = ref.f32();
  for (int64_t q = 0; q < Q; ++q) {
    float b[4];
    box_cxcywh_to_xyxy(r + q * 4, b);
    for (int64_t j = 0; j < feat_w; ++j) {
      const float c = static_cast<float>(j) / static_cast<float>(feat_w);
      dx.f32()[(q * feat_w + j) * 2 + 0] = logt(c - b[0]);
      dx.f32()[(q * feat_w + j) * 2 + 1] = logt(c - b[2]);
    }
    for (int64_t i = 0; i < feat_h; ++i) {
      const float c = static_cast<float>(i) / static_cast<float>(feat_h);
      dy.f32()[(q * feat_h + i) * 2 + 0] = logt(c - b[1]);
      dy.f32()[(q * feat_h + i) * 2 + 1] = logt(c - b[3]);
    }
  }
  Tensor bx = rpb_x_.forward(dx, ctx);  // [Q, W, heads]
  Tensor by = rpb_y_.forward(dy, ctx);  // [Q, H, heads]
  const int64_t hw = feat_h * feat_w, H = heads_;
  Tensor bias = ctx.scratch({H, Q, hw});
  const float* px = bx.f32();
  const float* py = by.f32();
  float* pb = bias.f32();
  for (int64_t h = 0; h < H; ++h)
    for (int64_t q = 0; q < Q; ++q) {
      float* row = pb + (h * Q + q) * hw;
      for (int64_t i = 0; i < feat_h; ++i) {
        const float yv = py[(q * feat_h + i) * H + h];
        for (int64_t j = 0; j < feat_w; ++j) row[i * feat_w + j] = yv + px[(q * feat_w + j) * H + h];
      }
    }
  return bias;
}

namespace {

// y = x with `rows` [Q, d] added to rows [offset, offset+Q) (rows before offset unchanged).
Tensor add_rows(const Tensor& x, const Tensor& rows, int64_t offset, const RunContext& ctx) {
  Tensor y = ctx.scratch(x.shape());
  std::memcpy(y.f32(), x.f32(), x.nbytes());
  const int64_t d = x.size(-1);
  Tensor tail = y.slice0(offset, x.size(0));
  ops::add(tail, rows.reshape({x.size(0) - offset, d}), tail, ctx);
  return y;
}

void residual_norm(Tensor& t, const Tensor& a, const nn::LayerNorm& n, const RunContext& ctx) {
  ops::add(t, a, t, ctx);
  n.forward(t, t, ctx);
}

}  // namespace

DecoderOutput Decoder::forward(const Tensor& memory, const Tensor& pos, int64_t feat_h, int64_t feat_w,
                               const PromptView& prompt, const RunContext& ctx) const {
  ArenaScope scope(ctx.arena);  // the intermediates; the outputs are owned
  check_prompt(prompt, d_, "decoder");
  const int64_t hw = feat_h * feat_w, L = static_cast<int64_t>(layers_.size()), Q = nq_, d = d_;
  if (memory.numel() != hw * d || pos.numel() != hw * d)
    throw Error("decoder: memory " + shape_str(memory.shape()) + " / pos " + shape_str(pos.shape()) + " are not [" +
                std::to_string(hw) + ", " + std::to_string(d) + "]");
  const bool dumping = ctx.dumping();
  const Tensor mem = memory.reshape({hw, d});
  Tensor mem_pos = ctx.scratch({hw, d});  // image keys: memory + pos
  ops::add(mem, pos.reshape({hw, d}), mem_pos, ctx);
  const Tensor ptok = prompt.tokens.reshape({prompt.length(), d});
  const int64_t np = presence_ ? 1 : 0;  // presence token row in front of the queries

  DecoderOutput out;
  out.hs = Tensor::empty({L, Q, d});
  out.ref_boxes = Tensor::empty({L, Q, 4});
  out.anchor_box_offsets = Tensor::empty({L, Q, 4});
  out.presence_logits = Tensor::zeros({L});
  out.presence_feats = Tensor::zeros({d});

  // t = [presence; queries] (np+Q, d); ref = sigmoid(reference_points) (Q, 4).
  Tensor t = ctx.scratch({np + Q, d});
  if (presence_) std::memcpy(t.f32(), presence_token_.f32(), sizeof(float) * d);
  std::memcpy(t.f32() + np * d, query_embed_.f32(), sizeof(float) * Q * d);
  Tensor ref = Tensor::empty({Q, 4});
  for (int64_t i = 0; i < Q * 4; ++i) ref.f32()[i] = sigmoid(reference_points_.f32()[i]);

  for (int64_t l = 0; l < L; ++l) {
    ArenaScope layer_scope(ctx.arena);  // the layer's intermediates; its results go into t, ref and out
    const DecoderLayer& Ly = layers_[static_cast<size_t>(l)];
    std::memcpy(out.ref_boxes.f32() + l * Q * 4, ref.f32(), sizeof(float) * Q * 4);
    const Tensor qpos = ref_point_head_.forward(query_sine_embed(ref), ctx);  // [Q, d]
    const Tensor bias = rpb_bias(ref, feat_h, feat_w, ctx);                    // [heads, Q, hw]
    if (dumping) {
      ctx.dump("dec.query_pos.l" + std::to_string(l), qpos.reshape({Q, 1, d}));
      ctx.dump("dec.rpb_bias.l" + std::to_string(l), bias.reshape({1, heads_, Q, hw}));
    }
    // ref: TransformerDecoderLayer.forward (post-norm; the presence token has zero query pos and a zero bias row)
    {
      Tensor qk = add_rows(t, qpos, np, ctx);
      residual_norm(t, Ly.self_attn.forward(qk, qk, t, {}, ctx), Ly.norm2, ctx);
    }
    if (text_xattn_) {
      Tensor q = add_rows(t, qpos, np, ctx);
      residual_norm(t, Ly.ca_text.forward(q, ptok, ptok, nn::AttnMask::padding(prompt.mask_data()), ctx), Ly.catext_norm,
                    ctx);
    }
    {
      Tensor q = add_rows(t, qpos, np, ctx);
      nn::AttnMask m;
      m.bias = nn::AttnBias{bias.f32(), Q * hw, np};
      residual_norm(t, Ly.cross_attn.forward(q, mem_pos, mem, m, ctx), Ly.norm1, ctx);
    }
    {
      Tensor h = Ly.linear1.forward(t, ctx);
      if (relu_)
        ops::relu_inplace(h, ctx);
      else
        ops::gelu_inplace(h, ctx);
      residual_norm(t, Ly.linear2.forward(h, ctx), Ly.norm3, ctx);
    }
    const Tensor output = t.slice0(np, np + Q);  // [Q, d]
    if (dumping) {
      ctx.dump("dec.layer" + std::to_string(l) + ".out", output.reshape({Q, 1, d}));
      if (presence_) ctx.dump("dec.layer" + std::to_string(l) + ".presence_out", t.slice0(0, 1).reshape({1, 1, d}));
    }

    // hs[l] = norm(output); box refinement ref = sigmoid(inverse_sigmoid(ref) + bbox_embed(hs[l])).
    Tensor hs_l = out.hs.slice0(l, l + 1).reshape({Q, d});
    norm_.forward(output, hs_l, ctx);
    const Tensor delta = bbox_embed_.forward(hs_l, ctx);  // [Q, 4]
    std::memcpy(out.anchor_box_offsets.f32() + l * Q * 4, delta.f32(), sizeof(float) * Q * 4);
    for (int64_t i = 0; i < Q * 4; ++i) ref.f32()[i] = sigmoid(inverse_sigmoid(ref.f32()[i]) + delta.f32()[i]);

    if (presence_) {  // presence logit: head(LN(pres)); the upstream clamp is a no-op (result discarded)
      const Tensor pres = t.slice0(0, 1);
      const Tensor pl = presence_head_.forward(presence_out_norm_.forward(pres, ctx), ctx);
      out.presence_logits.f32()[l] = pl.f32()[0];
      if (l == L - 1) std::memcpy(out.presence_feats.f32(), pres.f32(), sizeof(float) * d);
    }
  }
  // ref: Sam3Image._update_scores_and_boxes: pred_boxes = sigmoid(inverse_sigmoid(ref_in[L-1]) + offsets[L-1]),
  // which is exactly the refinement after the last layer.
  out.pred_boxes = ref;
  out.pred_boxes_xyxy = Tensor::empty({Q, 4});
  for (int64_t q = 0; q < Q; ++q) box_cxcywh_to_xyxy(ref.f32() + q * 4, out.pred_boxes_xyxy.f32() + q * 4);

  if (dumping) {
    ctx.dump("dec.hs", out.hs.reshape({L, Q, 1, d}));
    ctx.dump("dec.ref_boxes", out.ref_boxes.reshape({L, Q, 1, 4}));
    if (presence_) {
      ctx.dump("dec.presence_logits", out.presence_logits.reshape({L, 1, 1}));
      ctx.dump("dec.presence_feats", out.presence_feats.reshape({1, 1, d}));
      ctx.dump("out.presence_logit_dec", out.presence_logits.slice0(L - 1, L).reshape({1, 1}));
    }
    ctx.dump("out.anchor_box_offsets", out.anchor_box_offsets.reshape({L, 1, Q, 4}));
    ctx.dump("out.pred_boxes", out.pred_boxes.reshape({1, Q, 4}));
    ctx.dump("out.pred_boxes_xyxy", out.pred_boxes_xyxy.reshape({1, Q, 4}));
    ctx.dump("out.queries", out.queries().reshape({1, Q, d}));
  }
  return out;
}

}  // namespace sam3
