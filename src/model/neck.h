// sam3.cpp — the SimpleFPN neck: one branch per scale factor turns the trunk's [1,C,G,G] map into a
// [1,d_model,s·G,s·G] level (4×: two 2×2 deconvs with a GELU between; 2×: one deconv; 1×: nothing; 0.5×: 2×2 max
// pool; each then conv_1x1 and conv_3x3, all with bias, no norm, no activation after).
// ref: sam3/model/necks.py (Sam3DualViTDetNeck; the sam2_convs copy is not part of the image model)
#pragma once
#include <optional>
#include <vector>

#include "core/arena.h"
#include "core/context.h"
#include "core/tensor.h"
#include "model/config.h"
#include "nn/conv2d.h"
#include "nn/params.h"

namespace sam3 {

// Side of the level a scale factor gives from a grid×grid trunk map: 4G, 2G, G or floor(G/2); throws for others.
int64_t neck_level_size(double scale, int64_t grid);

class Neck {
 public:
  // `convs` is the scope "backbone.vision_backbone.convs."; `in_dim` the trunk width, `grid` its side.
  Neck(const Config& cfg, const nn::ParamScope& convs, int64_t in_dim, int64_t grid);

  int num_levels() const { return static_cast<int>(levels_.size()); }  // every scale factor, dropped ones included
  int64_t level_size(int i) const { return levels_.at(static_cast<size_t>(i)).size; }
  int64_t out_dim() const { return d_model_; }
  // Arena bytes forward_level(i) takes (released again when it returns).
  size_t scratch_bytes(int i) const;
  // z [1,C,G,G] -> y [1,d_model,s,s] (preallocated, s = level_size(i)).
  void forward_level(int i, const Tensor& z, Tensor& y, const RunContext& ctx) const;

 private:
  struct Level {
    double scale = 1;
    int64_t size = 0;
    std::optional<nn::ConvTranspose2dK2S2> up0, up1;  // 4×: dconv_2x2_0, GELU, dconv_2x2_1; 2×: dconv_2x2 (up0)
    bool pool = false;                                // 0.5×: maxpool_2x2
    nn::Conv2d conv_1x1, conv_3x3;
  };
  std::vector<Shape> scratch_shapes(const Level& l) const;

  int64_t in_dim_ = 0, grid_ = 0, d_model_ = 0;
  std::vector<Level> levels_;
};

}  // namespace sam3
