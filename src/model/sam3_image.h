// sam3.cpp — the SAM 3 image model, the C++ twin of upstream `Sam3Image` (sam3/model/sam3_image.py). Its module
// tree is the state-dict tree (keys without "detector."); docs/architecture.md maps each upstream module to its file.
//
//   image -> backbone (ViT, FPN neck, sine positions) -> ImageFeatures                forward_image (per image)
//   text ids + boxes -> text encoder (cached), geometry encoder -> prompt               encode_prompt (per prompt)
//   ImageFeatures + prompt -> transformer.encoder (fusion) -> transformer.decoder -> dot_prod_scoring
//                          -> segmentation_head -> DetectorOutputs                    forward_grounding (per prompt)
//
// Immutable after construction; every member function is const and thread-safe (the text-feature cache is
// internally synchronised). Per-image state (the box-free geometry cache) is the caller's.
// ref: sam3/model/sam3_image.py (Sam3Image: forward_grounding, _encode_prompt, _run_encoder, _run_decoder,
//      _update_scores_and_boxes, _run_segmentation_heads)
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "core/context.h"
#include "core/tensor.h"
#include "model/config.h"
#include "model/decoder.h"
#include "model/fusion_encoder.h"
#include "model/image_encoder.h"
#include "model/postprocess.h"
#include "model/prompt.h"
#include "model/scoring.h"
#include "model/segmentation_head.h"
#include "model/text_feature_cache.h"
#include "nn/params.h"

namespace sam3 {

// Wall time of each per-prompt stage, seconds.
struct GroundingTimings {
  double text = 0;       // text encoder (≈0 when cached)
  double geometry = 0;   // geometry encoder (≈0 when cached) + prompt assembly
  double fusion = 0;     // transformer.encoder
  double decoder = 0;    // transformer.decoder + box head
  double scoring = 0;    // dot_prod_scoring
  double mask_head = 0;  // segmentation_head
};

// Members are declared (so constructed, so their weights looked up) in the checkpoint's key order.
// The matmul precision of each part (docs/precision.md): the image encoder carries almost all the FLOPs; the
// per-prompt modules (text, geometry, fusion encoder, decoder, segmentation head) may run higher. Box, presence
// and score heads are f32 whatever the plan.
struct PrecisionPlan {
  Precision image = Precision::F32;
  Precision prompt = Precision::F32;
};

class Sam3Image {
 public:
  // `root` is the scope of the image model's state dict (checkpoint keys with "detector." stripped).
  Sam3Image(const Config& cfg, const nn::ParamScope& root, const PrecisionPlan& plan = {});

  const Config& config() const { return cfg_; }
  const ImageEncoder& image_encoder() const { return image_encoder_; }
  const TextEncoder& text_encoder() const { return text_encoder_; }
  const GeometryEncoder& geometry_encoder() const { return geometry_encoder_; }
  const TextFeatureCache& text_cache() const { return *text_cache_; }

  // Image [1,3,R,R] (pre-processed) -> backbone_fpn + vision_pos_enc (SAM3VLBackbone.forward_image). ctx.arena must
  // hold image_encoder().scratch_bytes(). Records preprocess.image, vit.*, neck.* when dumping.
  void forward_image(const Tensor& image, ImageFeatures& out, const RunContext& ctx, EncoderTimings* timings = nullptr,
                     const std::function<void(float)>& progress = {}, bool keep_trunk = false) const;

  // _encode_prompt: the tokenized text (context_length ids; its features cached per model) and the exemplar boxes (a
  // box-free prompt's geometry cached per image in `image_cache`) -> [text ; geometry] tokens and mask. Each cache
  // reports its own hit in the result. A dump records what this call computes (text.*, geo.*, prompt.*): parts
  // served from a cache were recorded by the call that filled it.
  EncodedPrompt encode_prompt(const std::vector<int64_t>& ids, const std::vector<BoxPrompt>& boxes,
                              const ImageFeatures& image, ImagePromptCache& image_cache, const RunContext& ctx,
                              GroundingTimings* timings = nullptr) const;

  // forward_grounding after the prompt: fusion encoder -> decoder (+ box head) -> scoring -> segmentation head, on
  // the image's detector level (fpn.back()) and the finer levels. The outputs are owned (never arena memory), so
  // they may be kept after ctx's arena is released. Records enc.*, dec.*, score.*, seg.*, out.* when dumping.
  // `image_cache` keeps the fusion encoder's image-only start (computed by the first prompt on the image).
  DetectorOutputs forward_grounding(const ImageFeatures& image, const EncodedPrompt& prompt,
                                    ImagePromptCache& image_cache, const RunContext& ctx,
                                    GroundingTimings* timings = nullptr) const;

 private:
  Config cfg_;
  ImageEncoder image_encoder_;        // backbone.vision_backbone
  TextEncoder text_encoder_;          // backbone.language_backbone
  GeometryEncoder geometry_encoder_;  // geometry_encoder
  FusionEncoder fusion_encoder_;      // transformer.encoder
  Decoder decoder_;                   // transformer.decoder
  SegmentationHead segmentation_head_;  // segmentation_head
  DotProductScoring scoring_;         // dot_prod_scoring
  std::unique_ptr<TextFeatureCache> text_cache_;  // internally synchronised: the model stays logically immutable
};

}  // namespace sam3
