// ref: sam3/model/vitdet.py
#include "model/vit.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "core/error.h"
#include "core/ops.h"
#include "core/parallel.h"
#include "core/timer.h"

namespace sam3 {

namespace {

// Tokens per MLP chunk: the fc1 activation of a chunk is chunk × hidden floats (full size: ≈16 MB instead of 98 MB
// for all 5184 tokens), while each chunk's products stay large enough for sgemm to run at full speed.
constexpr int64_t kMlpChunkTarget = 1024;

// A [rows, cols] view over the start of t's storage (t must hold at least rows·cols floats).
Tensor view_prefix(const Tensor& t, int64_t rows, int64_t cols) {
  if (rows * cols > t.numel()) throw Error("internal: view larger than its buffer");
  return Tensor::borrow(const_cast<void*>(t.raw()), {rows, cols}, DType::F32, t.keepalive());
}

std::string block_name(size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "vit.block%02zu", i);
  return buf;
}

}  // namespace

WindowLayout::WindowLayout(int64_t grid_, int64_t window_) : grid(grid_), window(window_) {
  if (grid <= 0 || window <= 0) throw Error("WindowLayout: grid and window must be positive");
  padded = (grid + window - 1) / window * window;
  per_side = padded / window;
}

// ref: vitdet.py (compute_axial_cis, init_t_xy) — float32 throughout, like the reference:
//   f_k = 1 / theta^(4k/dim),  px = float(col)·float(scale),  angle = px·f_k,  (cos, sin).
Tensor vit_rope_table(int64_t head_dim, int64_t side, double scale, double theta) {
  if (head_dim % 4) throw Error("ViT RoPE needs head_dim divisible by 4, got " + std::to_string(head_dim));
  const int64_t nf = head_dim / 4, half = head_dim / 2;
  std::vector<float> freqs(static_cast<size_t>(nf));
  for (int64_t k = 0; k < nf; ++k) {
    const float e = static_cast<float>(4 * k) / static_cast<float>(head_dim);
    freqs[static_cast<size_t>(k)] = 1.0f / std::pow(static_cast<float>(theta), e);
  }
  const float s = static_cast<float>(scale);
  Tensor t = Tensor::empty({side * side, half, 2});
  float* p = t.f32();
  for (int64_t tok = 0; tok < side * side; ++tok) {
    const float px = static_cast<float>(tok % side) * s;
    const float py = static_cast<float>(tok / side) * s;
    float* row = p + tok * half * 2;
    for (int64_t k = 0; k < nf; ++k) {
      const float ax = px * freqs[static_cast<size_t>(k)], ay = py * freqs[static_cast<size_t>(k)];
      row[2 * k] = std::cos(ax);
      row[2 * k + 1] = std::sin(ax);
      row[2 * (nf + k)] = std::cos(ay);
      row[2 * (nf + k) + 1] = std::sin(ay);
    }
  }
  return t;
}

namespace {

// The checkpoint's freqs_cis (complex64 [L, head_dim/2]) must be the table the config implies: a mismatch means the
// config does not describe this checkpoint. Both are float32 cos/sin of the same float32 angles, so they agree to a
// few ulp; 1e-5 is far below any real difference (a wrong grid, window or scale changes entries by O(1)).
void check_freqs_cis(const nn::ParamScope& attn, const Tensor& table) {
  const Tensor& f = attn.get("freqs_cis", {table.size(0), table.size(1)}, DType::C64);
  if (attn.collecting()) return;  // a zero tensor: there is no checkpoint to check
  const float* a = static_cast<const float*>(f.raw());
  const float* b = table.f32();
  double worst = 0;
  for (int64_t i = 0; i < table.numel(); ++i) worst = std::max(worst, static_cast<double>(std::fabs(a[i] - b[i])));
  if (worst > 1e-5)
    throw Error("tensor '" + attn.key("freqs_cis") + "' in " + attn.source() +
                " differs from the RoPE table computed from the config (max |diff| " + std::to_string(worst) +
                "): the config does not match this checkpoint");
}

}  // namespace

VisionTransformer::VisionTransformer(const Config& cfg, const nn::ParamScope& trunk) : cfg_(cfg) {
  const VitConfig& v = cfg.vit;
  if (v.embed_dim <= 0 || v.num_heads <= 0 || v.embed_dim % v.num_heads)
    throw Error("vit.embed_dim must be a positive multiple of vit.num_heads");
  if (v.patch_size <= 0 || v.img_size < v.patch_size) throw Error("vit.img_size must be at least vit.patch_size");
  if (!v.rel_pos_blocks.empty()) throw Error("vit.rel_pos_blocks is not supported (SAM 3 uses none)");
  attention_bf16_ = ops::attention_in_bf16(trunk.precision());
  if (v.retain_cls_token) throw Error("vit.retain_cls_token is not supported (SAM 3 drops the cls token)");
  if (v.window_size < 0) throw Error("vit.window_size must be >= 0");
  dim_ = v.embed_dim;
  heads_ = v.num_heads;
  head_dim_ = dim_ / heads_;
  hidden_ = static_cast<int64_t>(v.embed_dim * v.mlp_ratio);  // int(dim * mlp_ratio), like timm's Mlp
  patch_ = v.patch_size;
  img_size_ = v.img_size;
  const int64_t G = img_size_ / patch_;

  // Which blocks are windowed: all but global_att_blocks, and none when window_size is 0.
  for (int i : v.global_att_blocks)
    if (i < 0 || i >= v.depth) throw Error("vit.global_att_blocks entry " + std::to_string(i) + " outside the depth");
  auto is_global = [&](int i) {
    return v.window_size == 0 ||
           std::find(v.global_att_blocks.begin(), v.global_att_blocks.end(), i) != v.global_att_blocks.end();
  };
  bool any_window = false, any_global = false;
  for (int i = 0; i < v.depth; ++i) (is_global(i) ? any_global : any_window) = true;
  layout_ = WindowLayout(G, any_window ? v.window_size : G);
  const int64_t Lp = layout_.tokens();

  // Parameters in the checkpoint's order (ViT.__init__): pos_embed, patch_embed, blocks, ln_pre, ln_post.
  if (v.use_abs_pos) {
    pos_grid_ = v.pretrain_img_size / patch_;
    const int64_t rows = pos_grid_ * pos_grid_ + (v.pretrain_use_cls_token ? 1 : 0);
    pos_embed_ = trunk.get("pos_embed", {1, rows, dim_});
    if (!v.tile_abs_pos && pos_grid_ != G)
      throw Error("vit.tile_abs_pos = false needs a bicubic resize of pos_embed, which is not supported");
  } else if (v.tile_abs_pos) {
    throw Error("vit.tile_abs_pos requires vit.use_abs_pos");
  }

  // Patch embedding: Conv2d(3, C, p, stride p) == Linear over patches flattened in (c, ky, kx) order.
  const nn::ParamScope pe = trunk.sub("patch_embed").sub("proj");
  patch_proj_.in_features = 3 * patch_ * patch_;
  patch_proj_.out_features = dim_;
  patch_proj_.weight = pe.get("weight", {dim_, 3, patch_, patch_}).reshape({dim_, 3 * patch_ * patch_});
  if (v.bias_patch_embed) patch_proj_.bias = pe.get("bias", {dim_});

  // RoPE tables. Windowed blocks: the window grid, window-local positions. Global blocks: the full grid, positions
  // scaled to the pretraining extent rope_pt_size / G (rope_pt_size = window_size) when use_interp_rope.
  if (v.use_rope) {
    if (any_window) rope_window_ = vit_rope_table(head_dim_, v.window_size, 1.0, v.rope_theta);
    if (any_global) {
      const double scale = v.use_interp_rope ? static_cast<double>(v.window_size) / static_cast<double>(G) : 1.0;
      rope_global_ = vit_rope_table(head_dim_, G, scale, v.rope_theta);
    }
  }
  global_pos_.assign(static_cast<size_t>(Lp), 0);
  if (layout_.has_padding()) pad_mask_.assign(static_cast<size_t>(Lp), 1);
  for (int64_t y = 0; y < layout_.padded; ++y)
    for (int64_t x = 0; x < layout_.padded; ++x) {
      const int64_t r = layout_.index(y, x);
      if (y < G && x < G) {
        global_pos_[static_cast<size_t>(r)] = static_cast<int32_t>(y * G + x);
        if (layout_.has_padding()) pad_mask_[static_cast<size_t>(r)] = 0;
      } else {
        pad_rows_.push_back(r);
      }
    }
  std::sort(pad_rows_.begin(), pad_rows_.end());

  const nn::ParamScope bs = trunk.sub("blocks");
  blocks_.resize(static_cast<size_t>(v.depth));
  for (int i = 0; i < v.depth; ++i) {
    const nn::ParamScope p = bs.sub(i);
    VitBlock& b = blocks_[static_cast<size_t>(i)];
    b.global = is_global(i);
    b.norm1 = nn::LayerNorm::load(p.sub("norm1"), dim_, v.layer_norm_eps);
    // attn.freqs_cis, Attention's own buffer, precedes its qkv and proj in the checkpoint.
    if (v.use_rope) check_freqs_cis(p.sub("attn"), b.global ? rope_global_ : rope_window_);
    b.qkv = nn::Linear::load(p.sub("attn").sub("qkv"), dim_, 3 * dim_, v.qkv_bias);
    b.proj = nn::Linear::load(p.sub("attn").sub("proj"), dim_, dim_);
    b.norm2 = nn::LayerNorm::load(p.sub("norm2"), dim_, v.layer_norm_eps);
    b.fc1 = nn::Linear::load(p.sub("mlp").sub("fc1"), dim_, hidden_);
    b.fc2 = nn::Linear::load(p.sub("mlp").sub("fc2"), hidden_, dim_);
  }
  has_ln_pre_ = v.ln_pre;
  has_ln_post_ = v.ln_post;
  if (has_ln_pre_) ln_pre_ = nn::LayerNorm::load(trunk.sub("ln_pre"), dim_, v.layer_norm_eps);
  if (has_ln_post_) ln_post_ = nn::LayerNorm::load(trunk.sub("ln_post"), dim_, v.layer_norm_eps);

  const int64_t n_chunks = (Lp + kMlpChunkTarget - 1) / kMlpChunkTarget;
  mlp_chunk_ = (Lp + n_chunks - 1) / n_chunks;
}

// Scratch of one forward pass, all [rows, cols] F32 from the arena. The residual x lives for the whole pass; the
// patch matrix only during the patch embedding; the block buffers afterwards (qkv doubles as the output of proj
// and fc2 once attention has consumed it; h holds LN outputs and the attention output).
struct VisionTransformer::Buffers {
  Tensor x, h, qkv, hidden;
};

size_t VisionTransformer::scratch_bytes() const {
  const int64_t Lp = layout_.tokens();
  const size_t x = Arena::bytes_for({Lp, dim_});
  const size_t embed =
      Arena::bytes_for({Lp, 3 * patch_ * patch_}) + (pos_embed_.defined() ? Arena::bytes_for({Lp, dim_}) : 0);
  const size_t blocks =
      Arena::bytes_for({Lp, dim_}) + Arena::bytes_for({Lp, 3 * dim_}) + Arena::bytes_for({mlp_chunk_, hidden_});
  // Reduced precision: the converted activations of the largest product, taken inside ops::linear.
  size_t lowp = 0;
  if (!blocks_.empty() && blocks_[0].qkv.packed) {
    const VitBlock& b = blocks_[0];
    lowp = std::max({ops::linear_scratch_bytes(*b.qkv.packed, Lp), ops::linear_scratch_bytes(*b.proj.packed, Lp),
                     ops::linear_scratch_bytes(*b.fc1.packed, mlp_chunk_),
                     ops::linear_scratch_bytes(*b.fc2.packed, mlp_chunk_)});
  }
  return x + std::max(embed, blocks + lowp);
}

Tensor VisionTransformer::to_grid(const Tensor& x) const {
  const int64_t G = layout_.grid;
  Tensor g = Tensor::empty({1, G, G, dim_});
  for (int64_t y = 0; y < G; ++y)
    for (int64_t c = 0; c < G; ++c)
      std::memcpy(g.f32() + (y * G + c) * dim_, x.f32() + layout_.index(y, c) * dim_,
                  static_cast<size_t>(dim_) * sizeof(float));
  return g;
}

// ref: vitdet.py (PatchEmbed.forward, get_abs_pos with tiling, ViT.forward up to the blocks)
void VisionTransformer::patch_embed(const Tensor& image, Tensor& x, const RunContext& ctx) const {
  const int64_t G = layout_.grid, R = img_size_, p = patch_, K = 3 * p * p, Lp = layout_.tokens();
  {
    ArenaScope scope(ctx.arena);
    // patches[row(y,x), (c,ky,kx)] = image[c, y·p+ky, x·p+kx]; padding rows are zero (never read as real tokens).
    Tensor patches = ctx.scratch({Lp, K});
    const float* img = image.f32();
    parallel_for(ctx.n_threads, layout_.padded, [&](int64_t y) {
      for (int64_t xg = 0; xg < layout_.padded; ++xg) {
        float* dst = patches.f32() + layout_.index(y, xg) * K;
        if (y >= G || xg >= G) {
          std::memset(dst, 0, static_cast<size_t>(K) * sizeof(float));
          continue;
        }
        for (int64_t c = 0; c < 3; ++c)
          for (int64_t ky = 0; ky < p; ++ky)
            std::memcpy(dst + (c * p + ky) * p, img + (c * R + y * p + ky) * R + xg * p,
                        static_cast<size_t>(p) * sizeof(float));
      }
    });
    patch_proj_.forward(patches, x, ctx);
  }
  if (ctx.dumping()) ctx.dump("vit.patch_embed", to_grid(x));  // to_grid copies: only when dumping

  if (pos_embed_.defined()) {
    ArenaScope scope(ctx.arena);
    // pos[row(y,x)] = grid[y mod P, x mod P] (the cls slot, row 0 when present, is dropped).
    const int64_t P = pos_grid_, skip = pos_embed_.size(1) - P * P;
    const float* table = pos_embed_.f32() + skip * dim_;
    Tensor pos = ctx.scratch({Lp, dim_});
    parallel_for(ctx.n_threads, layout_.padded, [&](int64_t y) {
      for (int64_t xg = 0; xg < layout_.padded; ++xg)
        std::memcpy(pos.f32() + layout_.index(y, xg) * dim_, table + ((y % P) * P + xg % P) * dim_,
                    static_cast<size_t>(dim_) * sizeof(float));
    });
    if (ctx.dumping()) ctx.dump("vit.abs_pos", to_grid(pos));  // to_grid copies: only when dumping
    ops::add(x, pos, x, ctx);
  }
  if (has_ln_pre_) ln_pre_.forward(x, x, ctx);
  if (ctx.dumping()) ctx.dump("vit.ln_pre", to_grid(x));  // to_grid copies: only when dumping
}

// ref: vitdet.py (Block.forward, Attention.forward, apply_rotary_enc)
void VisionTransformer::run_block(const VitBlock& b, Tensor& x, Buffers& buf, const RunContext& ctx, VitTimings::Ops& t) const {
  const int64_t Lp = layout_.tokens(), C = dim_, D = head_dim_;
  auto clock = Clock::now();
  auto lap = [&clock](double& acc) {  // adds the time since the previous lap to acc
    const auto now = Clock::now();
    acc += std::chrono::duration<double>(now - clock).count();
    clock = now;
  };
  // h = norm1(x); window partition pads with zeros *after* the norm, so padding rows of h are zero.
  b.norm1.forward(x, buf.h, ctx);
  if (!b.global)
    for (int64_t r : pad_rows_) std::memset(buf.h.f32() + r * C, 0, static_cast<size_t>(C) * sizeof(float));
  lap(t.norm);
  // qkv[row] = (q | k | v), each (heads, head_dim).
  b.qkv.forward(buf.h, buf.qkv, ctx);
  lap(t.qkv);
  float* qkv = buf.qkv.f32();
  const Tensor& table = b.global ? rope_global_ : rope_window_;
  if (table.defined()) {
    ops::RopeArgs r;
    r.row = 3 * C;
    r.head = D;
    r.n_rows = Lp;
    r.n_heads = heads_;
    r.head_dim = D;
    r.table = table.f32();
    r.table_rows = table.size(0);
    r.pos = b.global ? global_pos_.data() : nullptr;  // windowed: row mod window² is the in-window position
    for (int64_t part = 0; part < 2; ++part) {       // q, then k
      r.x = qkv + part * C;
      ops::rope(r, ctx);
    }
  }
  lap(t.rope);
  // Attention output -> h (the LN output is dead once qkv exists).
  ops::AttentionArgs a;
  a.q_row = a.k_row = a.v_row = 3 * C;
  a.q_head = a.k_head = a.v_head = D;
  a.o_row = C;
  a.o_head = D;
  a.n_heads = heads_;
  a.head_dim = D;
  a.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)));
  a.bf16 = attention_bf16_;
  if (b.global) {
    a.q = qkv;
    a.k = qkv + C;
    a.v = qkv + 2 * C;
    a.out = buf.h.f32();
    a.lq = a.lk = Lp;
    a.key_pad = pad_mask_.empty() ? nullptr : pad_mask_.data();
    ops::attention(a, ctx);
    lap(t.attn_global);
  } else {
    const int64_t W = layout_.window_tokens();
    a.lq = a.lk = W;
    for (int64_t w = 0; w < layout_.n_windows(); ++w) {
      a.q = qkv + w * W * 3 * C;
      a.k = a.q + C;
      a.v = a.q + 2 * C;
      a.out = buf.h.f32() + w * W * C;
      ops::attention(a, ctx);
    }
    lap(t.attn_window);
  }
  // x += proj(attn)
  Tensor y = view_prefix(buf.qkv, Lp, C);
  b.proj.forward(buf.h, y, ctx);
  lap(t.proj);
  ops::add(x, y, x, ctx);
  lap(t.add);
  // x += fc2(gelu(fc1(norm2(x)))), in chunks of tokens
  b.norm2.forward(x, buf.h, ctx);
  lap(t.norm);
  for (int64_t r0 = 0; r0 < Lp; r0 += mlp_chunk_) {
    const int64_t r1 = std::min(Lp, r0 + mlp_chunk_);
    Tensor hid = buf.hidden.slice0(0, r1 - r0);
    b.fc1.forward(buf.h.slice0(r0, r1), hid, ctx);
    lap(t.fc1);
    ops::gelu_inplace(hid, ctx);
    lap(t.gelu);
    Tensor yc = y.slice0(r0, r1);
    b.fc2.forward(hid, yc, ctx);
    lap(t.fc2);
    Tensor xc = x.slice0(r0, r1);
    ops::add(xc, yc, xc, ctx);
    lap(t.add);
  }
}

// ref: vitdet.py (ViT.forward)
void VisionTransformer::forward(const Tensor& image, Tensor& out, const RunContext& ctx,
                                VitTimings* timings, const std::function<void(size_t)>& on_block) const {
  check_tensor(image, {1, 3, img_size_, img_size_}, DType::F32, "ViT input image");
  const int64_t G = layout_.grid, Lp = layout_.tokens();
  check_tensor(out, {1, dim_, G, G}, DType::F32, "ViT output");
  VitTimings t;
  ArenaScope scope(ctx.arena);
  Buffers buf;
  buf.x = ctx.scratch({Lp, dim_});

  auto t0 = Clock::now();
  patch_embed(image, buf.x, ctx);
  t.patch_embed = seconds_since(t0);

  buf.h = ctx.scratch({Lp, dim_});
  buf.qkv = ctx.scratch({Lp, 3 * dim_});
  buf.hidden = ctx.scratch({mlp_chunk_, hidden_});
  for (size_t i = 0; i < blocks_.size(); ++i) {
    t0 = Clock::now();
    run_block(blocks_[i], buf.x, buf, ctx, t.ops);
    (blocks_[i].global ? t.global_blocks : t.window_blocks) += seconds_since(t0);
    if (ctx.dumping()) ctx.dump(block_name(i), to_grid(buf.x));  // to_grid copies: only when dumping
    if (on_block) on_block(i + 1);
  }

  t0 = Clock::now();
  if (has_ln_post_) ln_post_.forward(buf.x, buf.x, ctx);
  // out[c, y, x] = x[row(y, x), c]: one transpose, in blocks of 16 columns so reads and writes stay cache-friendly.
  const int64_t cb = 16;
  parallel_for(ctx.n_threads, (dim_ + cb - 1) / cb * G, [&](int64_t job) {
    const int64_t c0 = (job / G) * cb, c1 = std::min(dim_, c0 + cb), y = job % G;
    for (int64_t xg = 0; xg < G; ++xg) {
      const float* src = buf.x.f32() + layout_.index(y, xg) * dim_;
      for (int64_t c = c0; c < c1; ++c) out.f32()[(c * G + y) * G + xg] = src[c];
    }
  });
  t.output = seconds_since(t0);
  if (ctx.dumping()) {
    ctx.dump("vit.out", out);
    if (rope_window_.defined()) ctx.dump("vit.freqs_cis.window", rope_window_);
    if (rope_global_.defined()) ctx.dump("vit.freqs_cis.global", rope_global_);
  }
  if (timings) *timings = t;
}

}  // namespace sam3
