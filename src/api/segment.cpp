// sam3.cpp — segment(): prompts on an encoded image -> instances (score, pixel box, mask), semantic mask, timings.
// This file validates, times and post-processes; the model itself runs in Sam3Image (model/sam3_image.h):
// tokenize -> encode_prompt (text cached per model, box-free geometry per image) -> forward_grounding -> threshold,
// pixel boxes, masks.
// ref: sam3/model/sam3_image_processor.py (Sam3Processor.set_text_prompt, add_geometric_prompt, _forward_grounding),
//      sam3/model/sam3_image.py (Sam3Image.forward_grounding, _encode_prompt)
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#include "api/internal.h"
#include "core/dump.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/timer.h"

namespace sam3 {

namespace {

// The text a boxes-only prompt encodes. ref: sam3_image_processor.py (add_geometric_prompt: forward_text(["visual"]))
constexpr const char* kVisualText = "visual";

bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

std::string prompt_name(size_t i, const Prompt& p) {
  std::string s = "prompt " + std::to_string(i);
  if (!p.text.empty()) s += " ('" + p.text + "')";
  return s;
}

std::vector<BoxPrompt> model_boxes(const Prompt& p, const std::string& who) {
  std::vector<BoxPrompt> out;
  for (size_t b = 0; b < p.boxes.size(); ++b) {
    const PromptBox& x = p.boxes[b];
    if (!std::isfinite(x.cx) || !std::isfinite(x.cy) || !std::isfinite(x.w) || !std::isfinite(x.h))
      throw Error(who + ": box " + std::to_string(b) + " has a non-finite coordinate");
    out.push_back(BoxPrompt{x.cx, x.cy, x.w, x.h, x.positive});
  }
  return out;
}

// numpy.packbits (big bit order) of n masks [n, H·W] -> [n, ceil(H·W/8)], as final.masks_packbits (each mask
// decoded from its runs in turn into one scratch bitmap).
Tensor packbits(const std::vector<Instance>& inst, int64_t pixels) {
  const int64_t n = static_cast<int64_t>(inst.size()), row = (pixels + 7) / 8;
  Tensor t = Tensor::zeros({n, row}, DType::U8);
  std::vector<uint8_t> m;
  for (int64_t i = 0; i < n; ++i) {
    const Mask& mask = inst[static_cast<size_t>(i)].mask;
    if (mask.empty()) continue;
    m.resize(static_cast<size_t>(pixels));
    mask.to_bitmap(m.data());
    uint8_t* o = t.data<uint8_t>() + i * row;
    for (int64_t p = 0; p < pixels; ++p)
      if (m[static_cast<size_t>(p)]) o[p / 8] = static_cast<uint8_t>(o[p / 8] | (0x80 >> (p % 8)));
  }
  return t;
}

// One thread's scratch for the mask it is making: the up-sampled logits and the bitmap, [H, W] each.
struct MaskScratch {
  Tensor logits, bitmap;
  MaskScratch(int64_t H, int64_t W) : logits(Tensor::empty({H, W})), bitmap(Tensor::empty({H, W}, DType::U8)) {}
};

// logits [h, w] -> the mask at H × W (upsample_mask's arithmetic, in the scratch), encoded to runs.
Mask make_mask(const float* logits, int64_t h, int64_t w, int64_t H, int64_t W, MaskScratch& s, int n_threads) {
  upsample_mask(logits, h, w, H, W, s.logits.f32(), s.bitmap.data<uint8_t>(), n_threads);
  return Mask::from_bitmap(s.bitmap.data<uint8_t>(), static_cast<int>(W), static_cast<int>(H));
}

void dump_final(Dumper& dump, const PromptResult& r) {
  const int64_t Q = static_cast<int64_t>(r.probs.size()), N = static_cast<int64_t>(r.instances.size());
  Tensor probs = Tensor::empty({Q});
  std::memcpy(probs.f32(), r.probs.data(), static_cast<size_t>(Q) * sizeof(float));
  Tensor keep = Tensor::empty({N}, DType::I64), scores = Tensor::empty({N}), boxes = Tensor::empty({N, 4});
  Tensor counts = Tensor::empty({N}, DType::I64);
  for (int64_t i = 0; i < N; ++i) {
    const Instance& in = r.instances[static_cast<size_t>(i)];
    keep.data<int64_t>()[i] = in.query;
    scores.f32()[i] = in.score;
    for (int k = 0; k < 4; ++k) boxes.f32()[i * 4 + k] = in.box[k];
    counts.data<int64_t>()[i] = in.mask.area();
  }
  dump.add("final.probs_all", probs);
  dump.add("final.keep_idx", keep);
  dump.add("final.scores", scores);
  dump.add("final.boxes_xyxy", boxes);
  dump.add("final.mask_pixel_counts", counts);
  dump.add("final.masks_packbits", packbits(r.instances, static_cast<int64_t>(r.image_height) * r.image_width));
}

// Threshold, pixel boxes, masks (Sam3Processor._forward_grounding) from the raw outputs into `r`.
void fill_detections(PromptResult& r, const PromptOutputs& o, float threshold, bool masks, bool semantic,
                     int n_threads) {
  const int64_t H = o.image_height, W = o.image_width;
  r.threshold = threshold;
  r.image_height = static_cast<int>(H);
  r.image_width = static_cast<int>(W);
  r.probs = detection_probs(o.raw.pred_logits, o.raw.presence_logit);
  const std::vector<int64_t> keep = select_detections(r.probs, threshold);
  const Tensor& pm = o.raw.pred_masks;  // [Q, h, w]
  const int64_t mh = pm.size(1), mw = pm.size(2);
  r.instances.clear();
  r.instances.resize(keep.size());
  for (size_t n = 0; n < keep.size(); ++n) {
    Instance& in = r.instances[n];
    const int64_t q = keep[n];
    in.query = static_cast<int>(q);
    in.score = r.probs[static_cast<size_t>(q)];
    const std::array<float, 4> b = box_to_pixels(o.raw.pred_boxes.f32() + q * 4, W, H);
    std::copy(b.begin(), b.end(), in.box);
  }
  // Each mask is up-sampled into its thread's scratch and encoded to runs at once, so at most one bitmap per thread
  // exists at any time, never one per kept mask. Several masks: one mask per thread (one parallel region, the next
  // mask taken from a counter); a single mask uses all threads inside. Same arithmetic either way.
  const int64_t n_masks = masks ? static_cast<int64_t>(keep.size()) : 0;
  const int workers = n_masks >= 2 && n_threads > 1 ? static_cast<int>(std::min<int64_t>(n_threads, n_masks)) : 1;
  std::vector<MaskScratch> scratch;
  if (n_masks > 0)
    for (int t = 0; t < workers; ++t) scratch.emplace_back(H, W);
  std::atomic<int64_t> next{0};
  parallel_for(workers, workers, [&](int64_t t) {
    for (int64_t n = next++; n < n_masks; n = next++)
      r.instances[static_cast<size_t>(n)].mask = make_mask(pm.f32() + keep[static_cast<size_t>(n)] * mh * mw, mh, mw,
                                                           H, W, scratch[static_cast<size_t>(t)],
                                                           workers > 1 ? 1 : n_threads);
  });
  r.semantic = Mask{};
  if (semantic && o.raw.semantic_seg.defined() && o.raw.semantic_seg.numel() > 0) {
    const Tensor& s = o.raw.semantic_seg;  // [1, h, w]
    if (scratch.empty()) scratch.emplace_back(H, W);
    r.semantic = make_mask(s.f32(), s.size(-2), s.size(-1), H, W, scratch.front(), n_threads);
  }
}

PromptResult run_prompt(ImageState::Impl& st, const Model::Impl& m, const Prompt& prompt, size_t index,
                        const SegmentParams& params, int n_threads) {
  const Stopwatch total;
  const std::string who = prompt_name(index, prompt);
  const ImageFeatures& f = st.embedding.impl().features;
  const bool has_text = !blank(prompt.text);
  if (!has_text && prompt.boxes.empty())
    throw Error(who + ": empty prompt (give a text, exemplar boxes, or both)");
  if (!(params.threshold >= 0.0f && params.threshold <= 1.0f))
    throw Error("segment: threshold " + std::to_string(params.threshold) + " is outside [0, 1]");
  const std::vector<BoxPrompt> boxes = model_boxes(prompt, who);

  PromptResult r;
  r.prompt = prompt;
  r.text_used = has_text ? prompt.text : kVisualText;
  std::vector<int64_t> ids;
  try {
    ids = m.tokenizer.tokenize(r.text_used, m.config.text.context_length);
  } catch (const Error& e) {
    throw Error(who + ": " + e.what());
  }

  Dumper dump = params.dump_dir.empty() ? Dumper::from_env() : Dumper(params.dump_dir);
  ArenaScope scope(st.scratch);  // every intermediate of this prompt is released when it is done
  RunContext ctx{n_threads, &st.scratch, &dump};
  ctx.outputs = &st.outputs;
  GroundingTimings t;
  const Sam3Image& model = *m.sam3;
  const EncodedPrompt ep = model.encode_prompt(ids, boxes, f, st.prompt_cache, ctx, &t);
  auto out = std::make_shared<PromptOutputs>();
  out->raw = model.forward_grounding(f, ep, st.prompt_cache, ctx, &t);
  out->image_height = f.image_height;
  out->image_width = f.image_width;
  out->precision = precision_name(m.precision);
  out->isa = m.isa;
  r.text_cached = ep.text_cached;
  r.timings.text_ms = t.text * 1e3;
  r.timings.geometry_ms = t.geometry * 1e3;
  r.timings.fusion_ms = t.fusion * 1e3;
  r.timings.decoder_ms = t.decoder * 1e3;
  r.timings.scoring_ms = t.scoring * 1e3;
  r.timings.mask_head_ms = t.mask_head * 1e3;

  // Post-processing (the kept raw outputs make re-thresholding cheap).
  const Stopwatch post;
  fill_detections(r, *out, params.threshold, params.masks, params.semantic, n_threads);
  r.outputs = std::move(out);
  r.timings.postprocess_ms = post.ms();
  r.timings.total_ms = total.ms();
  if (dump.enabled()) {
    dump_final(dump, r);
    dump.flush("prompt" + std::to_string(index));
  }
  return r;
}

}  // namespace

SegmentResult segment(ImageState& state, const std::vector<Prompt>& prompts, const SegmentParams& params) {
  const Stopwatch sw;
  if (!state.has_image()) throw Error("segment: no image set (call set_image or set_embedding first)");
  if (prompts.empty()) throw Error("segment: no prompts");
  ImageState::Impl& st = state.impl();
  const Model::Impl& m = st.model->impl();
  const int n_threads = resolve_threads(params.n_threads);
  SegmentResult res;
  res.image_width = state.embedding().image_width();
  res.image_height = state.embedding().image_height();
  for (size_t i = 0; i < prompts.size(); ++i)
    res.prompts.push_back(run_prompt(st, m, prompts[i], i, params, n_threads));
  res.total_ms = sw.ms();
  return res;
}

PromptResult segment(ImageState& state, const Prompt& prompt, const SegmentParams& params) {
  return std::move(segment(state, std::vector<Prompt>{prompt}, params).prompts.front());
}

PromptResult rethreshold(const PromptResult& result, float threshold, int n_threads, bool masks) {
  if (!result.outputs) throw Error("rethreshold: the result carries no raw outputs");
  if (!(threshold >= 0.0f && threshold <= 1.0f))
    throw Error("rethreshold: threshold " + std::to_string(threshold) + " is outside [0, 1]");
  const Stopwatch sw;
  PromptResult r = result;
  fill_detections(r, *result.outputs, threshold, masks, /*semantic=*/false, resolve_threads(n_threads));
  r.semantic = result.semantic;  // does not depend on the threshold
  r.timings = PromptTimings{};
  r.timings.postprocess_ms = r.timings.total_ms = sw.ms();
  return r;
}

}  // namespace sam3
