// sam3.cpp — the vision trunk: a ViTDet (patch embedding, tiled absolute position table, ln_pre, pre-norm blocks
// with windowed or global attention and 2-D axial RoPE on q and k).
// ref: sam3/model/vitdet.py (ViT, Block, Attention, PatchEmbed, get_abs_pos, compute_axial_cis, window_partition)
//
// Token order. Inside the trunk the residual stream is kept in *window-major* order: the grid, padded at the
// bottom/right to a multiple of the window side, is cut into windows (row-major over the window grid) and each
// window's tokens follow row-major. Every per-token operation (LayerNorm, Linear, GELU, residual adds) ignores
// the order, a windowed block's windows are then contiguous row blocks of the packed qkv, and a global block's
// attention is order-free as long as each token gets the RoPE angle of its real grid position (a lookup table)
// and the padding tokens are masked out as keys. So window partition/unpartition never copy anything: the order
// is applied once when the patches are gathered and undone once when the trunk output is written NCHW.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "core/arena.h"
#include "core/context.h"
#include "core/tensor.h"
#include "model/config.h"
#include "nn/conv2d.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/params.h"

namespace sam3 {

// Window-major token layout of a grid×grid map (see the header comment).
struct WindowLayout {
  int64_t grid = 0;      // G: tokens per side of the real grid
  int64_t window = 0;    // ws: window side (= G when no block is windowed)
  int64_t padded = 0;    // Gp: G rounded up to a multiple of ws
  int64_t per_side = 0;  // Gp / ws

  WindowLayout() = default;
  WindowLayout(int64_t grid, int64_t window);
  int64_t tokens() const { return padded * padded; }         // rows of the residual stream
  int64_t window_tokens() const { return window * window; }  // rows of one window
  int64_t n_windows() const { return per_side * per_side; }
  bool has_padding() const { return padded != grid; }
  // Row of grid cell (y, x), 0 <= y, x < Gp.
  int64_t index(int64_t y, int64_t x) const {
    return ((y / window) * per_side + x / window) * window * window + (y % window) * window + x % window;
  }
};

// RoPE table of a side×side grid, positions scaled by `scale`: [side², head_dim/2, 2] (cos, sin), float32 exactly
// as compute_axial_cis builds it (first head_dim/4 frequencies rotate by the column, the next by the row).
Tensor vit_rope_table(int64_t head_dim, int64_t side, double scale, double theta);

struct VitBlock {
  bool global = false;  // global attention over the whole grid; otherwise windowed
  nn::LayerNorm norm1, norm2;
  nn::Linear qkv, proj;  // attn.qkv [3C, C] (output (3, heads, head_dim)), attn.proj
  nn::Linear fc1, fc2;   // mlp.fc1 [hidden, C], mlp.fc2 [C, hidden] (timm Mlp, exact GELU between)
};

// Wall time of the trunk's stages, seconds.
struct VitTimings {
  double patch_embed = 0;    // patch gather + projection + abs pos + ln_pre
  double window_blocks = 0;  // all windowed blocks
  double global_blocks = 0;  // all global blocks
  double output = 0;         // ln_post + layout change to NCHW
  // Inside the blocks, summed over all of them, by operation.
  struct Ops {
    double norm = 0;         // norm1, norm2 (+ zeroing the padding rows)
    double qkv = 0;          // attn.qkv linear
    double rope = 0;         // RoPE on q and k
    double attn_window = 0;  // attention of the windowed blocks
    double attn_global = 0;  // attention of the global blocks
    double proj = 0;         // attn.proj linear
    double fc1 = 0, gelu = 0, fc2 = 0;
    double add = 0;          // residual adds
  } ops;
};

class VisionTransformer {
 public:
  // `trunk` is the scope "backbone.vision_backbone.trunk." of the checkpoint. Checks every tensor's shape and the
  // checkpoint's freqs_cis buffers against the tables computed from the config.
  VisionTransformer(const Config& cfg, const nn::ParamScope& trunk);

  // Arena bytes forward() takes (all released again when it returns).
  size_t scratch_bytes() const;
  // image [1,3,R,R] (R = vit.img_size) -> out [1,C,G,G] NCHW (preallocated by the caller). Records vit.* into dump.
  // on_block(done): called after each block with the number of blocks done (progress reporting; may be empty).
  void forward(const Tensor& image, Tensor& out, const RunContext& ctx,
               VitTimings* timings = nullptr, const std::function<void(size_t)>& on_block = {}) const;

  int64_t grid() const { return layout_.grid; }
  int64_t embed_dim() const { return dim_; }
  const WindowLayout& layout() const { return layout_; }
  const std::vector<VitBlock>& blocks() const { return blocks_; }
  const Tensor& rope_window() const { return rope_window_; }  // undefined when no block is windowed
  const Tensor& rope_global() const { return rope_global_; }  // undefined when no block is global

 private:
  struct Buffers;
  void patch_embed(const Tensor& image, Tensor& x, const RunContext& ctx) const;
  void run_block(const VitBlock& b, Tensor& x, Buffers& buf, const RunContext& ctx, VitTimings::Ops& t) const;
  Tensor to_grid(const Tensor& x) const;  // window-major [Lp, C] -> owned [1, G, G, C] (for dumps)

  Config cfg_;
  int64_t dim_ = 0, heads_ = 0, head_dim_ = 0, hidden_ = 0, patch_ = 0, img_size_ = 0;
  int64_t mlp_chunk_ = 0;  // tokens per MLP chunk (bounds the hidden activation)
  WindowLayout layout_;
  nn::Linear patch_proj_;  // patch_embed.proj as a Linear over (c, ky, kx)-flattened patches
  Tensor pos_embed_;       // [1, P²(+1), C] or undefined (use_abs_pos false)
  int64_t pos_grid_ = 0;   // P
  bool has_ln_pre_ = false, has_ln_post_ = false;
  nn::LayerNorm ln_pre_, ln_post_;
  std::vector<VitBlock> blocks_;
  Tensor rope_window_, rope_global_;   // [L, head_dim/2, 2]
  std::vector<int32_t> global_pos_;    // per window-major row: its row in rope_global_ (padding rows: 0)
  std::vector<uint8_t> pad_mask_;      // per window-major row: 1 for padding tokens (empty when no padding)
  std::vector<int64_t> pad_rows_;      // the padding rows
  bool attention_bf16_ = false;        // ops::attention_in_bf16 of the trunk's precision
};

}  // namespace sam3
