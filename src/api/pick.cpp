// sam3.cpp — pick(): interactive single-object segmentation (points, box, previous mask), the public side of
// model/sam1_task_predictor.h: validation, the lazy SAM2 neck, post-processing, the result document.
// ref: sam3/model/sam3_image.py (predict_inst), sam3/model/sam1_task_predictor.py (predict, _prep_prompts, _predict)
#include <algorithm>
#include <cmath>
#include <cstring>

#include "api/internal.h"
#include "core/dump.h"
#include "core/error.h"
#include "core/timer.h"
#include "io/result_json.h"
#include "io/rle.h"
#include "model/sam_postprocess.h"

namespace sam3 {

PickParams pick_default_params() { return PickParams{}; }

bool Model::supports_pick() const { return impl_->pick != nullptr; }

int PickResult::best() const {
  int b = 0;
  for (size_t i = 1; i < masks.size(); ++i)
    if (masks[i].iou > masks[static_cast<size_t>(b)].iou) b = static_cast<int>(i);
  return b;
}

void load_pick_head(Model::Impl& m) {
  // The head is there when the file has the prompt encoder (the SAM2 neck, no_mem_embed and stray mask-decoder
  // tensors are also in checkpoints without it, e.g. tiny/sam3_random.pt has conv_s0); then every expected tensor
  // must be there, with its shape.
  bool present = false;
  for (const auto& kv : m.weights.interactive)
    present = present || kv.first.rfind("tracker.sam_prompt_encoder.", 0) == 0;
  if (!present || !m.config.pvs().enabled) return;
  const std::vector<std::string> problems = interactive_weight_problems(m.config, m.weights.interactive);
  if (!problems.empty()) {
    std::string msg = m.path + ": the interactive weights do not match config '" + m.config.name + "' (" +
                      std::to_string(problems.size()) + " problem" + (problems.size() == 1 ? "" : "s") + "):";
    for (const std::string& p : problems) msg += "\n  " + p;
    throw Error(msg);
  }
  m.pick = std::make_unique<const Sam1TaskPredictor>(m.config, nn::ParamScope(m.weights.interactive, m.path));
}

namespace {

std::string num(float v) {
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

void check_prompt(const PickPrompt& p, int W, int H, int64_t low_res) {
  if (p.points.empty() && !p.has_box && p.mask_logits.empty())
    throw Error("pick: the prompt is empty (give points, a box or mask logits)");
  for (size_t i = 0; i < p.points.size(); ++i) {
    const PickPoint& q = p.points[i];
    const std::string name = "pick: point " + std::to_string(i) + " (" + num(q.x) + ", " + num(q.y) + ")";
    if (!std::isfinite(q.x) || !std::isfinite(q.y)) throw Error(name + " is not finite");
    if (!p.allow_points_outside && (q.x < 0 || q.y < 0 || q.x > W || q.y > H))
      throw Error(name + " is outside the " + std::to_string(W) + "x" + std::to_string(H) + " image");
  }
  if (p.has_box) {
    const float* b = p.box;
    const std::string name = "pick: box [" + num(b[0]) + ", " + num(b[1]) + ", " + num(b[2]) + ", " + num(b[3]) + "]";
    for (int k = 0; k < 4; ++k)
      if (!std::isfinite(b[k])) throw Error(name + " has a non-finite corner");
    if (b[2] <= b[0] || b[3] <= b[1]) throw Error(name + " is degenerate (x1 <= x0 or y1 <= y0)");
    if (b[2] <= 0 || b[3] <= 0 || b[0] >= W || b[1] >= H)
      throw Error(name + " has no area inside the " + std::to_string(W) + "x" + std::to_string(H) + " image");
  }
  if (!p.mask_logits.empty()) {
    if (static_cast<int64_t>(p.mask_logits.size()) != low_res * low_res)
      throw Error("pick: mask logits have " + std::to_string(p.mask_logits.size()) + " values, the model takes " +
                  std::to_string(low_res) + "x" + std::to_string(low_res) + " = " + std::to_string(low_res * low_res));
    for (float v : p.mask_logits)
      if (!std::isfinite(v)) throw Error("pick: mask logits hold a non-finite value");
  }
  if (p.multimask < -1 || p.multimask > 1) throw Error("pick: multimask must be -1 (auto), 0 or 1");
}

}  // namespace

PickResult pick(ImageState& state, const PickPrompt& prompt, const PickParams& params) {
  const Stopwatch total;
  ImageState::Impl& st = state.impl();
  const Model::Impl& m = st.model->impl();
  if (!m.pick)
    throw Error("pick: the model '" + m.path +
                "' has no interactive weights (tracker.sam_prompt_encoder.*, tracker.sam_mask_decoder.*, "
                "sam2_convs.*); use a checkpoint that has them (the released sam3.pt does)");
  const ImageFeatures& img = state.embedding().impl().features;
  const int W = static_cast<int>(img.image_width), H = static_cast<int>(img.image_height);
  const Sam1TaskPredictor& head = *m.pick;
  const int64_t L = head.low_res_size();
  check_prompt(prompt, W, H, L);

  Dumper dump = params.dump_dir.empty() ? Dumper::from_env() : Dumper(params.dump_dir);
  const RunContext ctx{resolve_threads(params.n_threads), &st.scratch, &dump};
  PickResult r;
  r.image_width = W;
  r.image_height = H;
  r.low_res_size = static_cast<int>(L);

  // The image's interactive features: from the embedding, from an earlier pick, or the SAM2 neck now.
  Stopwatch sw;
  if (!st.pvs) {
    if (img.pvs) {
      st.pvs = img.pvs;
    } else if (img.trunk.defined() && img.trunk.numel() > 0 && img.trunk.raw()) {
      st.pvs = std::make_shared<const PvsFeatures>(head.features(img.trunk, ctx));
      r.timings.neck_ms = sw.ms();
    } else {
      throw Error(
          "pick: this image's embedding has neither the interactive features nor the ViT output they are "
          "computed from (an embedding saved without them); encode the image again, or save the embedding "
          "with the interactive features (sam3 encode --pick-features)");
    }
  }
  sw = Stopwatch();

  // _prep_prompts + _predict: pixels / (W, H) · resolution; the box as two points labelled 2, 3 before the clicks.
  const float res = static_cast<float>(m.config.vit.img_size);
  const float fw = static_cast<float>(W), fh = static_cast<float>(H);
  std::vector<SamPoint> pts;
  if (prompt.has_box) {
    pts.push_back({prompt.box[0] / fw * res, prompt.box[1] / fh * res, 2});
    pts.push_back({prompt.box[2] / fw * res, prompt.box[3] / fh * res, 3});
  }
  for (const PickPoint& q : prompt.points) pts.push_back({q.x / fw * res, q.y / fh * res, q.positive ? 1 : 0});
  Tensor mask_in;
  if (!prompt.mask_logits.empty()) {
    mask_in = Tensor::empty({1, L, L});
    std::memcpy(mask_in.f32(), prompt.mask_logits.data(), prompt.mask_logits.size() * sizeof(float));
  }
  const bool single_click = prompt.points.size() == 1 && !prompt.has_box && prompt.mask_logits.empty();
  r.multimask = prompt.multimask == -1 ? single_click : prompt.multimask == 1;
  const Tensor* mask_ptr = mask_in.numel() > 0 && mask_in.raw() ? &mask_in : nullptr;
  if (!mask_ptr && !st.pick_click)  // once per image, in the first such pick's decoder time
    st.pick_click = std::make_shared<const SamImageTokens>(head.click_tokens(*st.pvs, ctx));
  const SamDecoderOutput dec = head.predict(*st.pvs, pts, mask_ptr, r.multimask, ctx, st.pick_click.get());
  r.object_score_logit = dec.object_score_logit;
  r.timings.decoder_ms = sw.ms();
  sw = Stopwatch();

  // Post-processing: full-size masks (hole filling, bilinear, threshold) and the clamped low-res logits.
  const int64_t k = dec.masks.size(0);
  const Tensor low = clamp_low_res(dec.masks, head.config().low_res_logit_clamp);
  // Each candidate is up-sampled into one scratch bitmap, measured, and encoded to runs before the next.
  const Tensor filled = fill_mask_holes(dec.masks, head.config().max_hole_area, head.config().mask_threshold, ctx);
  Tensor bitmap = Tensor::empty({static_cast<int64_t>(H), static_cast<int64_t>(W)}, DType::U8);
  if (ctx.dumping()) {
    ctx.dump("out.low_res_masks", low);
    Tensor iou = Tensor::empty({k});
    for (int64_t i = 0; i < k; ++i) iou.f32()[i] = dec.iou[static_cast<size_t>(i)];
    ctx.dump("out.iou_predictions", iou);
  }
  for (int64_t i = 0; i < k; ++i) {
    PickMask pm;
    pm.iou = dec.iou[static_cast<size_t>(i)];
    pm.low_res_logits.assign(low.f32() + i * L * L, low.f32() + (i + 1) * L * L);
    upsample_pick_mask(filled, i, head.config(), bitmap.data<uint8_t>(), H, W, ctx);
    Mask mask = Mask::from_bitmap(bitmap.data<uint8_t>(), W, H);
    // Area and tight box (x1, y1 exclusive) from the runs.
    pm.area = mask.area();
    int64_t x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    if (rle_counts_bounds(mask.counts, H, &x0, &y0, &x1, &y1)) {
      pm.box[0] = static_cast<float>(x0);
      pm.box[1] = static_cast<float>(y0);
      pm.box[2] = static_cast<float>(x1 + 1);
      pm.box[3] = static_cast<float>(y1 + 1);
    }
    if (params.masks) pm.mask = std::move(mask);
    r.masks.push_back(std::move(pm));
  }
  dump.flush("pick");
  r.timings.postprocess_ms = sw.ms();
  r.timings.total_ms = total.ms();
  return r;
}

std::string pick_result_to_json(const PickResult& r, const ResultJsonParams& params) {
  Json doc;
  doc["schema"] = "sam3.segment/1";
  if (!params.session_id.empty()) doc["session_id"] = params.session_id;
  if (!params.model_path.empty()) doc["model"] = Json{{"path", params.model_path}, {"config", params.model_config}};
  Json image;
  if (!params.image_path.empty()) image["path"] = params.image_path;
  image["width"] = r.image_width;
  image["height"] = r.image_height;
  if (!params.embedding_path.empty()) image["embedding"] = params.embedding_path;
  doc["image"] = std::move(image);
  Json prompt;
  prompt["task"] = "pick";
  prompt["multimask"] = r.multimask;
  prompt["object_score"] = json_float(1.0f / (1.0f + std::exp(-r.object_score_logit)));
  prompt["object_score_logit"] = json_float(r.object_score_logit);
  prompt["best"] = r.masks.empty() ? -1 : r.best();
  Json instances = Json::array();
  for (const PickMask& pm : r.masks) {
    Json inst;
    inst["score"] = json_float(pm.iou);
    inst["box"] =
        Json::array({json_float(pm.box[0]), json_float(pm.box[1]), json_float(pm.box[2]), json_float(pm.box[3])});
    inst["area"] = pm.area;
    if (!pm.mask.empty()) inst["mask"] = mask_to_json(pm.mask);
    instances.push_back(std::move(inst));
  }
  prompt["instances"] = std::move(instances);
  prompt["timings_ms"] = Json{{"neck", r.timings.neck_ms},
                              {"decoder", r.timings.decoder_ms},
                              {"postprocess", r.timings.postprocess_ms},
                              {"total", r.timings.total_ms}};
  doc["prompts"] = Json::array({std::move(prompt)});
  Json t = Json::object();
  if (params.timings_ms.empty()) {
    t["pick"] = r.timings.total_ms;
  } else {
    for (const auto& [key, ms] : params.timings_ms) t[key] = ms;
  }
  doc["timings_ms"] = std::move(t);
  if (params.processing_time) doc["processing_time_ms"] = doc["timings_ms"].value("total", 0.0);
  return doc.dump(params.indent);
}

}  // namespace sam3
