// ref: sam3/model/vl_combiner.py (SAM3VLBackbone._forward_image_no_act_ckpt), sam3/model/necks.py
#include "model/image_encoder.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "core/timer.h"
#include "model/position_encoding.h"

namespace sam3 {

EncoderFlops encoder_flops(const Config& cfg) {
  const VitConfig& v = cfg.vit;
  const double C = v.embed_dim, hidden = static_cast<double>(static_cast<int64_t>(v.embed_dim * v.mlp_ratio));
  const int64_t G = v.img_size / v.patch_size;
  EncoderFlops f;
  f.patch_embed = 2.0 * static_cast<double>(G * G) * C * 3 * v.patch_size * v.patch_size;
  const int64_t ws = v.window_size > 0 ? v.window_size : G;
  const int64_t Gp = (G + ws - 1) / ws * ws;
  const double Lp = static_cast<double>(Gp * Gp), L = static_cast<double>(G * G);
  for (int i = 0; i < v.depth; ++i) {
    const bool global = v.window_size == 0 ||
                        std::find(v.global_att_blocks.begin(), v.global_att_blocks.end(), i) != v.global_att_blocks.end();
    // Windowed blocks run on the padded grid; global blocks on the real one.
    const double rows = global ? L : Lp;
    f.qkv += 2.0 * rows * C * 3 * C;
    f.proj += 2.0 * rows * C * C;
    f.fc1 += 2.0 * rows * C * hidden;
    f.fc2 += 2.0 * rows * hidden * C;
    const double linears = 2.0 * rows * (C * 3 * C + C * C + 2 * C * hidden);
    // QKᵀ and P·V: 2 products of lq × lk × C multiply-adds each.
    const double attn = global ? 4.0 * L * L * C : 4.0 * (Lp / (ws * ws)) * (ws * ws) * (ws * ws) * C;
    (global ? f.attn_global : f.attn_window) += attn;
    (global ? f.global_blocks : f.window_blocks) += linears + attn;
  }
  const double d = cfg.d_model;
  const size_t used = cfg.neck.scale_factors.size() - static_cast<size_t>(std::max(0, cfg.neck.scalp));
  for (size_t i = 0; i < used && i < cfg.neck.scale_factors.size(); ++i) {
    const double s = cfg.neck.scale_factors[i];
    const double g2 = static_cast<double>(G * G);
    const double n = static_cast<double>(neck_level_size(s, G));
    double ch = C;
    if (s == 4.0) {
      f.neck += 2.0 * g2 * C * (C / 2) * 4 + 2.0 * (4 * g2) * (C / 2) * (C / 4) * 4;
      ch = C / 4;
    } else if (s == 2.0) {
      f.neck += 2.0 * g2 * C * (C / 2) * 4;
      ch = C / 2;
    }
    f.neck += 2.0 * n * n * ch * d + 2.0 * n * n * d * d * 9;
  }
  return f;
}

ImageEncoder::ImageEncoder(const Config& cfg, const nn::ParamScope& root)
    : cfg_(cfg),
      vit_(cfg, root.sub("backbone").sub("vision_backbone").sub("trunk")),
      neck_(cfg, root.sub("backbone").sub("vision_backbone").sub("convs"), vit_.embed_dim(), vit_.grid()) {
  if (cfg.resolution != cfg.vit.img_size)
    throw Error("config: resolution (" + std::to_string(cfg.resolution) + ") must equal vit.img_size (" +
                std::to_string(cfg.vit.img_size) + ")");
  used_levels_ = neck_.num_levels() - cfg.neck.scalp;
  if (root.collecting()) return;  // a schema-only build never runs: skip the tables
  for (int i = 0; i < used_levels_; ++i)
    pos_.push_back(sine_position_encoding(cfg.pos_enc, neck_.level_size(i), neck_.level_size(i)));
}

size_t ImageEncoder::scratch_bytes() const {
  size_t neck = 0;
  for (int i = 0; i < neck_.num_levels(); ++i) neck = std::max(neck, neck_.scratch_bytes(i));
  return Arena::bytes_for({1, vit_.embed_dim(), vit_.grid(), vit_.grid()}) + std::max(vit_.scratch_bytes(), neck);
}

// ref: necks.py (Sam3DualViTDetNeck.forward) + vl_combiner.py (scalp drops the last levels)
void ImageEncoder::forward(const Tensor& image, ImageFeatures& out, const RunContext& ctx,
                           EncoderTimings* timings, const std::function<void(float)>& progress,
                           bool keep_trunk) const {
  const auto t_start = Clock::now();
  EncoderTimings t;
  ctx.dump("preprocess.image", image);
  ArenaScope scope(ctx.arena);
  const int64_t G = vit_.grid();
  Tensor z = ctx.scratch({1, vit_.embed_dim(), G, G});
  std::function<void(size_t)> on_block;
  if (progress) {
    const float steps = static_cast<float>(vit_.blocks().size() + 1);  // the blocks, then the neck
    on_block = [&progress, steps](size_t done) { progress(static_cast<float>(done) / steps); };
  }
  vit_.forward(image, z, ctx, &t.vit, on_block);
  out.trunk = keep_trunk ? z.clone() : Tensor();

  auto t0 = Clock::now();
  out.fpn.clear();
  out.pos.clear();
  for (int i = 0; i < used_levels_; ++i) {
    const int64_t s = neck_.level_size(i);
    Tensor y = Tensor::empty({1, neck_.out_dim(), s, s});
    neck_.forward_level(i, z, y, ctx);
    out.fpn.push_back(y);
    out.pos.push_back(pos_[static_cast<size_t>(i)]);
  }
  t.neck = seconds_since(t0);
  if (ctx.dumping()) {
    for (int i = 0; i < neck_.num_levels(); ++i) {
      const int64_t s = neck_.level_size(i);
      if (i < used_levels_) {
        ctx.dump("neck.fpn" + std::to_string(i), out.fpn[static_cast<size_t>(i)]);
        ctx.dump("neck.pos" + std::to_string(i), out.pos[static_cast<size_t>(i)]);
      } else {  // dropped by scalp: computed only for the dump, to compare with the fixture
        Tensor y = Tensor::empty({1, neck_.out_dim(), s, s});
        neck_.forward_level(i, z, y, ctx);
        ctx.dump("neck.fpn" + std::to_string(i), y);
      }
    }
  }
  t.total = seconds_since(t_start);
  if (timings) *timings = t;
  if (progress) progress(1.0f);
}

}  // namespace sam3
