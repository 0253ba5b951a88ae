// sam3.cpp — the image half of SAM 3: ViT trunk -> SimpleFPN neck -> sine position encodings, giving the
// ImageFeatures (backbone_fpn, vision_pos_enc) that every prompt on the image reuses.
// ref: sam3/model/vl_combiner.py (SAM3VLBackbone.forward_image), sam3/model/necks.py (Sam3DualViTDetNeck.forward)
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/arena.h"
#include "core/context.h"
#include "core/tensor.h"
#include "model/config.h"
#include "model/image_embedding.h"
#include "model/neck.h"
#include "model/vit.h"
#include "nn/params.h"

namespace sam3 {

// Wall time of each stage of one encode, seconds.
struct EncoderTimings {
  VitTimings vit;
  double neck = 0;   // the used FPN levels
  double total = 0;  // the whole forward()
};

// Analytic work of each stage (FLOPs = 2 × multiply-adds, attention products included, as bench reports them).
struct EncoderFlops {
  double patch_embed = 0;
  double window_blocks = 0;  // all windowed blocks: linears + attention
  double global_blocks = 0;  // all global blocks
  double neck = 0;           // the used levels
  // The blocks' work by operation (summed over all blocks): part of window_blocks + global_blocks.
  double qkv = 0, proj = 0, fc1 = 0, fc2 = 0, attn_window = 0, attn_global = 0;
  double total() const { return patch_embed + window_blocks + global_blocks + neck; }
};
EncoderFlops encoder_flops(const Config& cfg);

class ImageEncoder {
 public:
  // `root` is the scope of the image model's state dict (keys "backbone.vision_backbone.…").
  ImageEncoder(const Config& cfg, const nn::ParamScope& root);

  int64_t input_size() const { return cfg_.vit.img_size; }
  // Arena bytes forward() needs (all released when it returns).
  size_t scratch_bytes() const;
  // image [1,3,R,R] (pre-processed) -> out.fpn / out.pos (out's image size and config name are left to the caller).
  // With a dumper, records preprocess.image, vit.*, neck.fpn{i} (dropped levels included) and neck.pos{i}.
  // progress(f): fraction of the forward done, after each ViT block (blocks/(blocks+1)) and 1 at the end; may be empty.
  // keep_trunk: also copy the ViT output into out.trunk (for the interactive head's SAM2 neck).
  void forward(const Tensor& image, ImageFeatures& out, const RunContext& ctx,
               EncoderTimings* timings = nullptr, const std::function<void(float)>& progress = {},
               bool keep_trunk = false) const;

  const VisionTransformer& trunk() const { return vit_; }
  const Neck& neck() const { return neck_; }

 private:
  Config cfg_;
  VisionTransformer vit_;
  Neck neck_;
  int used_levels_ = 0;
  std::vector<Tensor> pos_;  // constant per config: computed once, shared (read-only) by every ImageFeatures
};

}  // namespace sam3
