// sam3.cpp — the cached result of encoding one image (what every prompt on that image reuses), and its file format.
//
// File: safetensors with tensors "backbone_fpn.{i}" and "vision_pos_enc.{i}" ([1, d, s_i, s_i] F32, finest level
// first, the levels the detector reads after scalp) and __metadata__ {format: "sam3.image_embedding", version: "1",
// config: <config name>, image_height, image_width, levels}. Loading checks every shape against the
// model's config, so an embedding made with another model is rejected with a clear message.
// ref: sam3/model/vl_combiner.py (SAM3VLBackbone._forward_image_no_act_ckpt: backbone_fpn, vision_pos_enc)
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/config.h"
#include "model/pvs_features.h"

namespace sam3 {

struct ImageFeatures {
  std::string config_name;
  int64_t image_height = 0, image_width = 0;  // the original image, before the square resize
  std::vector<Tensor> fpn;                    // backbone_fpn: [1, d_model, s, s], finest first; fpn.back() = vision_features
  std::vector<Tensor> pos;                    // vision_pos_enc: [1, num_pos_feats, s, s], one per fpn level
  // The interactive head's inputs: the ViT trunk output [1, E_vit, G, G] kept (when the model has the interactive
  // weights) so that the SAM2 neck can run on the first pick, and/or the interactive features themselves (computed
  // up front, or read from a file that holds them as "pvs.feat_s0", "pvs.feat_s1", "pvs.image_embed"). Both may be
  // absent (an embedding file without them: picks on it fail with a message saying so).
  Tensor trunk;
  std::shared_ptr<const PvsFeatures> pvs;
};

// The level shapes a config produces: [1, d_model, s_i, s_i] for the used levels (scalp dropped).
std::vector<Shape> image_feature_shapes(const Config& cfg);
std::vector<Shape> image_pos_shapes(const Config& cfg);

void save_image_features(const std::string& path, const ImageFeatures& f);
// Zero-copy (the tensors borrow the mapped file). Throws sam3::Error naming the file and the problem when it is not
// an image embedding, or was made with a config that differs from `cfg`.
ImageFeatures load_image_features(const std::string& path, const Config& cfg);

}  // namespace sam3
