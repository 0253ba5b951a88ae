// ref: sam3/model/sam1_task_predictor.py (_predict), sam3/model/sam3_image.py (predict_inst),
//      sam3/model/sam3_image_processor.py (set_image), sam3/model/sam3_tracker_base.py (sam heads)
#include "model/sam1_task_predictor.h"

#include <set>

#include "core/arena.h"
#include "core/error.h"
#include "core/ops.h"

namespace sam3 {

Sam1TaskPredictor::Sam1TaskPredictor(const Config& cfg, const nn::ParamScope& root)
    : cfg_(cfg),
      pvs_(cfg.pvs()),
      sam2_neck_(cfg, root.sub("backbone").sub("vision_backbone").sub("sam2_convs"), cfg.vit.embed_dim, cfg.vit_grid()),
      no_mem_embed_(root.sub("tracker").get("no_mem_embed", {1, 1, cfg.pvs().prompt_embed_dim})),
      prompt_encoder_(cfg.pvs(), cfg.vit.img_size, root.sub("tracker").sub("sam_prompt_encoder")),
      mask_decoder_(cfg.pvs(), root.sub("tracker").sub("sam_mask_decoder"), prompt_encoder_.dense_pe_tokens()) {
  if (pvs_.prompt_embed_dim != cfg.d_model)
    throw Error("pvs.prompt_embed_dim (" + std::to_string(pvs_.prompt_embed_dim) + ") must equal d_model (" +
                std::to_string(cfg.d_model) + ")");
}

PvsFeatures Sam1TaskPredictor::features(const Tensor& trunk, const RunContext& ctx) const {
  const int64_t C = pvs_.prompt_embed_dim, E = pvs_.image_embedding_size;
  std::vector<Tensor> levels;
  for (int i = 0; i < 3; ++i) {
    const int64_t s = sam2_neck_.level_size(i);
    Tensor y = Tensor::empty({1, C, s, s});
    sam2_neck_.forward_level(i, trunk, y, ctx);
    levels.push_back(y);
  }
  PvsFeatures f;
  f.feat_s0 = mask_decoder_.conv_s0(levels[0], ctx);
  f.feat_s1 = mask_decoder_.conv_s1(levels[1], ctx);
  // vision_feats[-1] + no_mem_embed: one value per channel over the E x E grid.
  Tensor mem = Tensor::empty({1, C, E, E});
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < E * E; ++i) mem.f32()[c * E * E + i] = no_mem_embed_.f32()[c];
  f.image_embed = Tensor::empty({1, C, E, E});
  ops::add(levels[2], mem, f.image_embed, ctx);
  if (ctx.dumping()) {
    ctx.dump("pvs.fpn0_conv_s0", f.feat_s0.reshape({1, C / 8, 4 * E, 4 * E}));
    ctx.dump("pvs.fpn1_conv_s1", f.feat_s1.reshape({1, C / 4, 2 * E, 2 * E}));
    ctx.dump("pvs.fpn2", levels[2]);
    ctx.dump("pvs.no_mem_embed", no_mem_embed_);
    ctx.dump("pvs.image_pe", prompt_encoder_.dense_pe());
  }
  return f;
}

SamImageTokens Sam1TaskPredictor::click_tokens(const PvsFeatures& f, const RunContext& ctx) const {
  return mask_decoder_.image_tokens(f.image_embed, prompt_encoder_.embed_mask(nullptr, ctx), true, ctx);
}

SamDecoderOutput Sam1TaskPredictor::predict(const PvsFeatures& f, const std::vector<SamPoint>& points,
                                            const Tensor* mask_input, bool multimask, const RunContext& ctx,
                                            const SamImageTokens* click) const {
  ArenaScope scope(ctx.arena);  // the image tokens of a pick with a mask input
  const Tensor sparse = prompt_encoder_.embed_points(points);
  const bool cached = click && !mask_input;
  // The dense embedding: needed for the tokens unless cached, and for the dump.
  const Tensor dense = cached && !ctx.dumping() ? Tensor() : prompt_encoder_.embed_mask(mask_input, ctx);
  const SamImageTokens image = cached ? *click : mask_decoder_.image_tokens(f.image_embed, dense, false, ctx);
  SamDecoderOutput out = mask_decoder_.forward(image, sparse, f.feat_s0, f.feat_s1, multimask, ctx);
  if (ctx.dumping()) {
    const int64_t k = out.masks.size(0), C = pvs_.prompt_embed_dim;
    ctx.dump("dec.sparse", sparse.reshape({1, sparse.size(0), C}));
    ctx.dump("dec.dense", dense);
    ctx.dump("dec.masks", out.masks.reshape({1, k, out.masks.size(1), out.masks.size(2)}));
    Tensor iou = Tensor::empty({1, k});
    for (int64_t i = 0; i < k; ++i) iou.f32()[i] = out.iou[static_cast<size_t>(i)];
    ctx.dump("dec.iou_pred", iou);
    Tensor obj = Tensor::empty({1, 1});
    obj.f32()[0] = out.object_score_logit;
    ctx.dump("dec.object_score_logits", obj);
  }
  return out;
}

std::vector<nn::TensorSpec> expected_interactive_tensors(const Config& cfg) {
  nn::WeightCollector collector;
  const Sam1TaskPredictor model(cfg, nn::ParamScope(collector));
  return collector.specs();
}

std::vector<std::string> interactive_weight_problems(const Config& cfg, const std::map<std::string, Tensor>& tensors) {
  std::vector<std::string> bad;
  std::set<std::string> names;
  for (const nn::TensorSpec& s : expected_interactive_tensors(cfg)) {
    names.insert(s.name);
    auto it = tensors.find(s.name);
    if (it == tensors.end())
      bad.push_back("missing: " + s.name + " (expected " + shape_str(s.shape) + ")");
    else if (it->second.shape() != s.shape || it->second.dtype() != s.dtype)
      bad.push_back("wrong shape or dtype: " + s.name + " is " + shape_str(it->second.shape()) + " " +
                    dtype_name(it->second.dtype()) + ", expected " + shape_str(s.shape) + " " + dtype_name(s.dtype));
  }
  for (const auto& [name, t] : tensors)
    if (!names.count(name)) bad.push_back("unexpected: " + name + " (" + shape_str(t.shape()) + ")");
  return bad;
}

}  // namespace sam3
