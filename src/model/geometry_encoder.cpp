// sam3.cpp — geometry (exemplar box) encoder (see geometry_encoder.h).
// ref: sam3/model/geometry_encoders.py (SequenceGeometryEncoder.forward, _encode_boxes)
#include "model/geometry_encoder.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/error.h"
#include "core/ops.h"
#include "nn/tokens.h"

// Bit-faithful float32 geometry (box corners, RoI sample positions) needs every product rounded as torch rounds it:
// no fused multiply-add contraction in this file.
#include "core/strict_fp.h"  // no FMA contraction: see that header

namespace sam3 {

namespace {

constexpr float kTwoPi = static_cast<float>(2.0 * 3.14159265358979323846);  // PositionEmbeddingSine scale

void require(bool ok, const std::string& what) {
  if (!ok) throw Error("GeometryEncoder: unsupported configuration: " + what);
}

// A checkpoint nn.Linear(in, out) the encoder never reads: weight (out, in), bias (out).
void unused_linear(const nn::ParamScope& p, int64_t in, int64_t out) {
  p.unused("weight", {out, in});
  p.unused("bias", {out});
}

}  // namespace

// ref: box_ops.py (box_cxcywh_to_xyxy) and geometry_encoders.py (_encode_boxes: boxes_xyxy * [W, H, W, H])
Tensor roi_boxes_xyxy(const std::vector<BoxPrompt>& boxes, int64_t h, int64_t w) {
  const int64_t n = static_cast<int64_t>(boxes.size());
  Tensor xyxy = Tensor::empty({n, 4});
  const float W = static_cast<float>(w), H = static_cast<float>(h);
  for (int64_t b = 0; b < n; ++b) {
    const BoxPrompt& bx = boxes[static_cast<size_t>(b)];
    float* q = xyxy.f32() + b * 4;
    q[0] = (bx.cx - 0.5f * bx.w) * W;
    q[1] = (bx.cy - 0.5f * bx.h) * H;
    q[2] = (bx.cx + 0.5f * bx.w) * W;
    q[3] = (bx.cy + 0.5f * bx.h) * H;
  }
  return xyxy;
}

GeometryEncoder::GeometryEncoder(const nn::ParamScope& p, const Config& cfg)
    : d_(cfg.d_model), roi_(cfg.geometry.roi_size) {
  const GeometryConfig& g = cfg.geometry;
  require(!g.encode_boxes_as_points, "geometry.encode_boxes_as_points = true");
  require(g.add_cls, "geometry.add_cls = false");
  require(g.add_post_encode_proj, "geometry.add_post_encode_proj = false");
  require(!g.pos_enc_at_attn, "geometry.pos_enc_at_attn = true (the geometry encoder has no query pos)");
  require(!g.pos_enc_at_cross_attn_queries, "geometry.pos_enc_at_cross_attn_queries = true");
  require(cfg.pos_enc.num_pos_feats == cfg.d_model,
          "pos_enc.num_pos_feats (" + std::to_string(cfg.pos_enc.num_pos_feats) + ") != d_model (" +
              std::to_string(cfg.d_model) + "): boxes_pos_enc_project is Linear(d_model + 2, d_model)");
  require(roi_ > 0, "geometry.roi_size <= 0");
  num_pos_feats_ = cfg.pos_enc.num_pos_feats / 2;
  temperature_ = cfg.pos_enc.temperature;

  // In the checkpoint's order (SequenceGeometryEncoder.__init__). The points_* projections encode point prompts,
  // which this implementation does not take: declared, not loaded.
  label_embed_ = p.sub("label_embed").get("weight", {2, d_});
  cls_embed_ = p.sub("cls_embed").get("weight", {1, d_});
  unused_linear(p.sub("points_direct_project"), 2, d_);
  unused_linear(p.sub("points_pool_project"), d_, d_);
  unused_linear(p.sub("points_pos_enc_project"), d_, d_);
  direct_ = nn::Linear::load(p.f32().sub("boxes_direct_project"), 4, d_);
  // Conv2d(d, d, roi) on a roi×roi input = Linear over the (c, ky, kx)-flattened window.
  const nn::ParamScope pool = p.sub("boxes_pool_project");
  pool_.weight = pool.get("weight", {d_, d_, roi_, roi_}).reshape({d_, d_ * roi_ * roi_});
  pool_.bias = pool.get("bias", {d_});
  pool_.in_features = d_ * roi_ * roi_;
  pool_.out_features = d_;
  pos_proj_ = nn::Linear::load(p.f32().sub("boxes_pos_enc_project"), d_ + 2, d_);
  final_proj_ = nn::Linear::load(p.sub("final_proj"), d_, d_);
  norm_ = nn::LayerNorm::load(p.sub("norm"), d_, nn::kLayerNormEps);
  img_pre_norm_ = nn::LayerNorm::load(p.sub("img_pre_norm"), d_, nn::kLayerNormEps);
  const auto o = TransformerEncoderLayer::Options::from(g, d_);  // no query pos: both query flags required false
  for (int i = 0; i < g.num_layers; ++i) layers_.push_back(TransformerEncoderLayer::load(p.sub("encode").sub(i), o));
  encode_norm_ = nn::LayerNorm::load(p.sub("encode_norm"), d_, nn::kLayerNormEps);  // stored even with no layers
}

// ref: position_encoding.py (PositionEmbeddingSine._encode_xy, encode_boxes). Every step in float32 as torch does:
// x·scale, dim_t = T^(2·floor(k/2)/F), x/dim_t, then sin (even k) / cos (odd k).
Tensor GeometryEncoder::box_position_encoding(const std::vector<BoxPrompt>& boxes) const {
  const int64_t n = static_cast<int64_t>(boxes.size()), F = num_pos_feats_;
  std::vector<float> dim_t(static_cast<size_t>(F));
  for (int64_t k = 0; k < F; ++k) {
    const float e = static_cast<float>(2 * (k / 2)) / static_cast<float>(F);
    dim_t[static_cast<size_t>(k)] = static_cast<float>(std::pow(static_cast<double>(static_cast<float>(temperature_)),
                                                                static_cast<double>(e)));
  }
  auto encode = [&](float v, float* out) {
    const float emb = v * kTwoPi;
    for (int64_t k = 0; k < F; ++k) {
      const double a = static_cast<double>(emb / dim_t[static_cast<size_t>(k)]);
      out[k] = static_cast<float>((k % 2 == 0) ? std::sin(a) : std::cos(a));
    }
  };
  Tensor enc = Tensor::empty({n, 2 * F + 2});
  for (int64_t b = 0; b < n; ++b) {
    const BoxPrompt& bx = boxes[static_cast<size_t>(b)];
    float* row = enc.f32() + b * (2 * F + 2);
    encode(bx.cy, row);      // pos_y
    encode(bx.cx, row + F);  // pos_x
    row[2 * F] = bx.h;
    row[2 * F + 1] = bx.w;
  }
  return enc;
}

// ref: geometry_encoders.py (SequenceGeometryEncoder.forward with no points and no masks; _encode_boxes)
GeometryFeatures GeometryEncoder::encode(const std::vector<BoxPrompt>& boxes, const Tensor& img, const Tensor& pos,
                                         const RunContext& ctx) const {
  ArenaScope scope(ctx.arena);  // the intermediates; the outputs are owned
  Shape s = img.shape();
  if (s.size() == 4 && s[0] == 1) s.erase(s.begin());
  if (s.size() != 3 || s[0] != d_ || img.dtype() != DType::F32)
    throw Error("GeometryEncoder: image features must be F32 [1, " + std::to_string(d_) + ", H, W], got " +
                shape_str(img.shape()));
  if (pos.numel() != img.numel() || pos.dtype() != DType::F32)
    throw Error("GeometryEncoder: position encoding " + shape_str(pos.shape()) + " does not match the image features " +
                shape_str(img.shape()));
  const int64_t H = s[1], W = s[2], HW = H * W, d = d_;
  const int64_t N = static_cast<int64_t>(boxes.size());
  const bool dumping = ctx.dumping();
  for (int64_t b = 0; b < N; ++b) {
    const BoxPrompt& bx = boxes[static_cast<size_t>(b)];
    if (!std::isfinite(bx.cx) || !std::isfinite(bx.cy) || !std::isfinite(bx.w) || !std::isfinite(bx.h))
      throw Error("GeometryEncoder: box " + std::to_string(b) + " has a non-finite coordinate (cxcywh " +
                  std::to_string(bx.cx) + ", " + std::to_string(bx.cy) + ", " + std::to_string(bx.w) + ", " +
                  std::to_string(bx.h) + ")");
  }

  // Sequence-first image tokens and positions (the detector's flatten(2).permute(2, 0, 1)).
  const Tensor mem = nn::nchw_to_tokens(img);
  const Tensor mem_pos = nn::nchw_to_tokens(pos.reshape(img.shape()));

  // 1. Pooling source: img_pre_norm on the tokens, back to NCHW for RoIAlign.
  Tensor pre = ctx.scratch({HW, d});
  img_pre_norm_.forward(mem, pre, ctx);
  ctx.dump("geo.img_pre_norm", pre.reshape({HW, 1, d}));

  // 2. Box tokens (none for a box-free prompt: every product below is then empty).
  Tensor seq = ctx.scratch({N + 1, d});
  {
    Tensor cxcywh = Tensor::empty({N, 4});
    for (int64_t b = 0; b < N; ++b) {
      const BoxPrompt& bx = boxes[static_cast<size_t>(b)];
      float* c = cxcywh.f32() + b * 4;
      c[0] = bx.cx;
      c[1] = bx.cy;
      c[2] = bx.w;
      c[3] = bx.h;
    }
    if (dumping) {  // the inputs, as the processor passes them (sequence-first, labels 1 = positive, no padding)
      Tensor labels = Tensor::empty({N, 1}, DType::I64);
      for (int64_t b = 0; b < N; ++b) labels.data<int64_t>()[b] = boxes[static_cast<size_t>(b)].positive ? 1 : 0;
      ctx.dump("geo.in.box_cxcywh", cxcywh.reshape({N, 1, 4}));
      ctx.dump("geo.in.box_labels", labels);
      ctx.dump("geo.in.box_mask", Tensor::zeros({1, N}, DType::U8));
    }
    const Tensor xyxy = roi_boxes_xyxy(boxes, H, W);
    Tensor direct = ctx.scratch({N, d});
    direct_.forward(cxcywh, direct, ctx);

    Tensor roi = ctx.scratch({N, d, roi_, roi_});
    if (N > 0) {
      const Tensor pre_nchw = nn::tokens_to_nchw(pre, H, W);
      ops::roi_align(pre_nchw, xyxy, 1.0f, /*sampling_ratio=*/-1, /*aligned=*/false, roi, ctx);
    }
    Tensor pooled = ctx.scratch({N, d});
    pool_.forward(roi.reshape({N, d * roi_ * roi_}), pooled, ctx);

    const Tensor penc = box_position_encoding(boxes);
    Tensor pproj = ctx.scratch({N, d});
    pos_proj_.forward(penc, pproj, ctx);

    Tensor label = ctx.scratch({N, d});
    for (int64_t b = 0; b < N; ++b) {
      const int64_t l = boxes[static_cast<size_t>(b)].positive ? 1 : 0;
      std::memcpy(label.f32() + b * d, label_embed_.f32() + l * d, static_cast<size_t>(d) * sizeof(float));
    }
    // boxes_embed = (direct + pool) + posenc; token = type_embed + boxes_embed.
    Tensor emb = seq.slice0(0, N);
    ops::add(direct, pooled, emb, ctx);
    ops::add(emb, pproj, emb, ctx);
    ops::add(label, emb, emb, ctx);
    if (dumping) {
      ctx.dump("geo.box_direct_proj", direct.reshape({N, 1, d}));
      ctx.dump("geo.box_roi_align", roi);
      ctx.dump("geo.box_pool_proj", pooled.reshape({N, d, 1, 1}));
      ctx.dump("geo.box_pos_enc", penc.reshape({N, 1, d + 2}));
      ctx.dump("geo.box_pos_enc_proj", pproj.reshape({N, 1, d}));
      if (N > 0) ctx.dump("geo.label_embed", label.reshape({N, 1, d}));
      ctx.dump("geo.box_embeds", emb.reshape({N, 1, d}));
    }
  }
  // 3. CLS token last (concat_padded_sequences with no padding is a plain concatenation).
  std::memcpy(seq.f32() + N * d, cls_embed_.f32(), static_cast<size_t>(d) * sizeof(float));

  // 4. x = norm(final_proj(x)).
  Tensor x = ctx.scratch({N + 1, d});
  final_proj_.forward(seq, x, ctx);
  norm_.forward(x, x, ctx);
  ctx.dump("geo.pre_encode_tokens", x.reshape({N + 1, 1, d}));

  // 5. Encoder layers (no padding in the geometry sequence), then encode_norm.
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i].forward(x, mem, Tensor(), mem_pos, nullptr, nullptr, ctx);
    ctx.dump("geo.layer" + std::to_string(i), x.reshape({N + 1, 1, d}));
  }
  GeometryFeatures out;
  out.tokens = Tensor::empty({N + 1, 1, d});
  if (!layers_.empty()) {
    Tensor view = out.tokens.reshape({N + 1, d});
    encode_norm_.forward(x, view, ctx);
    ctx.dump("geo.encode_norm", out.tokens);
  } else {
    std::memcpy(out.tokens.f32(), x.f32(), x.nbytes());
  }
  out.mask = Tensor::zeros({1, N + 1}, DType::U8);
  if (dumping) {
    ctx.dump("geo.out.tokens", out.tokens);
    ctx.dump("geo.out.mask", out.mask);
  }
  return out;
}

}  // namespace sam3
