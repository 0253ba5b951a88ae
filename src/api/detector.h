// sam3.cpp — the per-prompt half of the model (library internal): tokenizer, prompt encoders, fusion encoder,
// decoder, scoring and segmentation head, built once per Model from its weights; and the per-image cache that
// prompts on the same image share.
// ref: sam3/model/sam3_image.py (Sam3Image.forward_grounding), sam3/model/sam3_image_processor.py; spec §1, §2, §14
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/config.h"
#include "model/decoder.h"
#include "model/fusion_encoder.h"
#include "model/geometry_encoder.h"
#include "model/postprocess.h"
#include "model/prompt_encoder.h"
#include "model/scoring.h"
#include "model/segmentation_head.h"
#include "nn/params.h"
#include "sam3/sam3.h"
#include "tokenizer/tokenizer.h"

namespace sam3 {

// Everything a prompt needs besides the image features. Immutable after construction; forward() is const and
// thread-safe (the text cache inside PromptEncoder is internally synchronised).
struct Detector {
  Detector(const Config& cfg, const nn::ParamScope& root);

  Config config;
  Tokenizer tokenizer;
  PromptEncoder prompt_encoder;
  FusionEncoder fusion_encoder;
  Decoder decoder;
  DotProductScoring scoring;
  SegmentationHead segmentation_head;
};

// The raw outputs of one prompt (forward_grounding), what re-thresholding needs.
struct PromptOutputs {
  DetectorOutputs raw;       // pred_logits [Q], presence, pred_boxes [Q,4], pred_masks [Q,h,w], semantic_seg [1,h,w]
  int64_t image_height = 0, image_width = 0;
};

// Per-image work shared by every prompt on one image (held by the ImageState). The entries belong to the image level
// whose storage `img` / `pos` share: holding them keeps those addresses from being reused, so comparing data pointers
// identifies the embedding (only that level is kept alive, not the whole embedding).
struct ImagePromptCache {
  Tensor img, pos;  // the detector's image level and its position encoding the entries were computed from
  std::shared_ptr<const GeometryFeatures> no_box_geometry;  // the geometry tokens of a box-free prompt (CLS only)
  bool matches(const Tensor& i, const Tensor& p) const { return img.raw() == i.raw() && pos.raw() == p.raw(); }
};

}  // namespace sam3
