// sam3.cpp — Sam3Image (see sam3_image.h).
// ref: sam3/model/sam3_image.py (Sam3Image.forward_grounding, _encode_prompt, _run_encoder, _run_decoder,
//      _run_segmentation_heads), sam3/model/vl_combiner.py (SAM3VLBackbone.forward_image)
#include "model/sam3_image.h"

#include "core/timer.h"

namespace sam3 {

namespace {
constexpr size_t kTextCacheEntries = 64;
}  // namespace

Sam3Image::Sam3Image(const Config& cfg, const nn::ParamScope& root, const PrecisionPlan& plan)
    : cfg_(cfg),
      image_encoder_(cfg, root.with_precision(plan.image)),
      text_encoder_(root.with_precision(plan.prompt).defer_packing().sub("backbone").sub("language_backbone"), cfg),
      geometry_encoder_(root.with_precision(plan.prompt).sub("geometry_encoder"), cfg),
      fusion_encoder_(cfg, root.with_precision(plan.prompt).sub("transformer").sub("encoder")),
      decoder_(cfg, root.with_precision(plan.prompt).sub("transformer").sub("decoder")),
      segmentation_head_(cfg, root.with_precision(plan.prompt).sub("segmentation_head")),
      scoring_(cfg, root.f32().sub("dot_prod_scoring")),  // the score head stays f32
      text_cache_(std::make_unique<TextFeatureCache>(kTextCacheEntries)) {}

void Sam3Image::forward_image(const Tensor& image, ImageFeatures& out, const RunContext& ctx, EncoderTimings* timings,
                              const std::function<void(float)>& progress, bool keep_trunk) const {
  image_encoder_.forward(image, out, ctx, timings, progress, keep_trunk);
}

// ref: sam3_image.py (Sam3Image._encode_prompt: text features, geometry encoder, concatenation)
EncodedPrompt Sam3Image::encode_prompt(const std::vector<int64_t>& ids, const std::vector<BoxPrompt>& boxes,
                                       const ImageFeatures& image, ImagePromptCache& image_cache,
                                       const RunContext& ctx, GroundingTimings* timings) const {
  const Tensor& img = image.fpn.back();
  const Tensor& pos = image.pos.back();
  GroundingTimings unused;
  GroundingTimings& t = timings ? *timings : unused;
  Stopwatch sw;
  bool text_cached = false;
  std::shared_ptr<const TextFeatures> text =
      text_cache_->get_or_encode(ids, [&] { return text_encoder_.encode(ids, ctx); }, &text_cached);
  t.text = sw.lap_seconds();

  // A box-free prompt's geometry tokens (the CLS token after the encoder layers) depend only on the image.
  GeometryFeatures geometry;
  bool geometry_cached = false;
  if (boxes.empty()) {
    image_cache.follow(img, pos);
    geometry_cached = image_cache.no_box_geometry != nullptr;
    if (!geometry_cached)
      image_cache.no_box_geometry =
          std::make_shared<const GeometryFeatures>(geometry_encoder_.encode({}, img, pos, ctx));
    geometry = *image_cache.no_box_geometry;
  } else {
    geometry = geometry_encoder_.encode(boxes, img, pos, ctx);
  }
  EncodedPrompt p = assemble_prompt(std::move(text), std::move(geometry));
  p.text_cached = text_cached;
  p.geometry_cached = geometry_cached;
  ctx.dump("prompt.tokens", p.tokens);
  ctx.dump("prompt.mask", p.mask);
  t.geometry = sw.lap_seconds();
  return p;
}

// ref: sam3_image.py (Sam3Image.forward_grounding after _encode_prompt: _run_encoder, _run_decoder,
//      _update_scores_and_boxes, _run_segmentation_heads)
DetectorOutputs Sam3Image::forward_grounding(const ImageFeatures& image, const EncodedPrompt& prompt,
                                             ImagePromptCache& image_cache, const RunContext& ctx,
                                             GroundingTimings* timings) const {
  const Tensor& feat = image.fpn.back();
  const Tensor& pos = image.pos.back();
  const int64_t fh = feat.size(-2), fw = feat.size(-1);
  const PromptView pv{prompt.tokens, prompt.mask};
  GroundingTimings unused;
  GroundingTimings& t = timings ? *timings : unused;
  Stopwatch sw;
  image_cache.follow(feat, pos);
  if (!image_cache.fusion_prefix.defined()) image_cache.fusion_prefix = fusion_encoder_.image_prefix(feat, pos, ctx);
  const FusionEncoderOutput enc = fusion_encoder_.forward(feat, pos, pv, ctx, &image_cache.fusion_prefix);
  t.fusion = sw.lap_seconds();
  const DecoderOutput dec = decoder_.forward(enc.memory, enc.pos, fh, fw, pv, ctx);
  t.decoder = sw.lap_seconds();
  const Tensor logits = scoring_.forward(dec.hs, pv, ctx);  // [L, Q]
  t.scoring = sw.lap_seconds();
  const std::vector<Tensor> finer(image.fpn.begin(), image.fpn.begin() + segmentation_head_.num_stages());
  if (image_cache.pixel_terms.empty()) image_cache.pixel_terms = segmentation_head_.image_terms(finer, ctx);
  const SegmentationOutput seg =
      segmentation_head_.forward(enc.memory, fh, fw, finer, dec.queries(), pv, ctx, &image_cache.pixel_terms);
  t.mask_head = sw.lap_seconds();

  DetectorOutputs out;
  const int64_t L = logits.size(0);
  out.pred_logits = logits.slice0(L - 1, L).reshape({-1});
  out.presence_logit = dec.presence_logit();
  out.pred_boxes = dec.pred_boxes;
  out.pred_masks = seg.pred_masks;
  out.semantic_seg = seg.semantic_seg;
  return out;
}

}  // namespace sam3
