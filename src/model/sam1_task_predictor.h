// sam3.cpp — the interactive "SAM 1 task" of the image model (Sam3Image.predict_inst): one object's masks from clicks,
// a box and / or a previous low-res mask. Holds the SAM2 neck (sam2_convs, same structure as the detector's neck),
// the tracker's no_mem_embed, SAM prompt encoder and SAM mask decoder. Immutable after construction.
//
//   trunk [1, E_vit, G, G] -> sam2 neck levels 0..2 -> conv_s0 / conv_s1 / + no_mem_embed -> PvsFeatures  (per image)
//   points (model frame) + mask input -> prompt encoder -> mask decoder -> low-res masks, IoUs          (per pick)
// ref: sam3/model/sam1_task_predictor.py (SAM3InteractiveImagePredictor._predict), sam3/model/sam3_image.py
//      (predict_inst), sam3/model/sam3_image_processor.py (set_image), sam3/model/necks.py (sam2_convs)
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/context.h"
#include "core/tensor.h"
#include "model/config.h"
#include "model/neck.h"
#include "model/pvs_features.h"
#include "model/sam_mask_decoder.h"
#include "model/sam_prompt_encoder.h"
#include "nn/params.h"

namespace sam3 {

class Sam1TaskPredictor {
 public:
  // `root` is a scope over the interactive weights (WeightFile::interactive): keys
  // "backbone.vision_backbone.sam2_convs.*" and "tracker.{no_mem_embed,sam_prompt_encoder.*,sam_mask_decoder.*}".
  Sam1TaskPredictor(const Config& cfg, const nn::ParamScope& root);

  const PvsConfig& config() const { return pvs_; }
  int64_t low_res_size() const { return pvs_.low_res_mask_size; }
  const SamPromptEncoder& prompt_encoder() const { return prompt_encoder_; }

  // The SAM2 neck on the ViT trunk output [1, E_vit, G, G]. Records pvs.fpn0_conv_s0, pvs.fpn1_conv_s1, pvs.fpn2,
  // pvs.no_mem_embed and pvs.image_pe when dumping.
  PvsFeatures features(const Tensor& trunk, const RunContext& ctx) const;

  // _predict: `points` in the model's input frame (box corners first, labels 2 / 3), `mask_input` [1, L, L] or
  // null. Records dec.sparse, dec.dense, dec.masks, dec.iou_pred, dec.object_score_logits when dumping.
  // `click` (optional): click_tokens(f) computed earlier for this image, used when there is no mask input.
  SamDecoderOutput predict(const PvsFeatures& f, const std::vector<SamPoint>& points, const Tensor* mask_input,
                           bool multimask, const RunContext& ctx, const SamImageTokens* click = nullptr) const;

  // The image side of every pick without a mask input on the image of `f` (image_embed + the no-mask embedding as
  // tokens, the first transformer block's projections of them; ~13 MB at full size): to cache with `f`.
  SamImageTokens click_tokens(const PvsFeatures& f, const RunContext& ctx) const;

 private:
  Config cfg_;
  PvsConfig pvs_;
  Neck sam2_neck_;                   // backbone.vision_backbone.sam2_convs
  Tensor no_mem_embed_;              // tracker.no_mem_embed [1, 1, C]
  SamPromptEncoder prompt_encoder_;  // tracker.sam_prompt_encoder
  SamMaskDecoder mask_decoder_;      // tracker.sam_mask_decoder
};

// The interactive weights a config expects (keys as in WeightFile::interactive), from the constructors above.
std::vector<nn::TensorSpec> expected_interactive_tensors(const Config& cfg);
// Every problem of `tensors` against them: missing, wrong shape or dtype, unexpected; empty when they fit exactly.
std::vector<std::string> interactive_weight_problems(const Config& cfg, const std::map<std::string, Tensor>& tensors);

}  // namespace sam3
