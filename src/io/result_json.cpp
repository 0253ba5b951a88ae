// sam3.cpp — segmentation results as JSON (schema in result_json.h).
#include "io/result_json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"
#include "io/rle.h"

namespace sam3 {

namespace {

// The float as the double of its shortest round-trip decimal form, so that the JSON shows 0.346949 rather than
// 0.3469490110874176 and still reads back (as float32) to the same value.
double num(float f) {
  if (!std::isfinite(f)) return static_cast<double>(f);
  char buf[32];
  for (int prec = 1; prec <= 9; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, static_cast<double>(f));
    if (std::strtof(buf, nullptr) == f) break;
  }
  return std::strtod(buf, nullptr);
}

Json box_array(const float b[4]) { return Json::array({num(b[0]), num(b[1]), num(b[2]), num(b[3])}); }

Json timings_to_json(const PromptTimings& t) {
  return Json{{"text", t.text_ms},           {"geometry", t.geometry_ms},   {"fusion_encoder", t.fusion_ms},
              {"decoder", t.decoder_ms},     {"scoring", t.scoring_ms},     {"mask_head", t.mask_head_ms},
              {"postprocess", t.postprocess_ms}, {"total", t.total_ms}};
}

}  // namespace

double json_float(float f) { return num(f); }

Json mask_to_json(const Mask& mask) {
  return Json{{"size", Json::array({mask.height, mask.width})}, {"counts", rle_counts_to_string(mask.counts)}};
}

Mask mask_from_json(const Json& j) {
  if (!j.is_object() || !j.contains("size") || !j.contains("counts") || !j["size"].is_array() ||
      j["size"].size() != 2 || !j["counts"].is_string())
    throw Error("mask JSON: expected {\"size\": [h, w], \"counts\": \"...\"}");
  const int64_t h = j["size"][0].get<int64_t>(), w = j["size"][1].get<int64_t>();
  if (h < 0 || w < 0 || h > (1 << 30) || w > (1 << 30)) throw Error("mask JSON: bad size");
  Mask m;
  m.height = static_cast<int>(h);
  m.width = static_cast<int>(w);
  m.counts = rle_from_string(j["counts"].get<std::string>(), h, w).counts;
  return m;
}

Json prompt_result_to_json(const PromptResult& r) {
  Json boxes = Json::array();
  for (const PromptBox& b : r.prompt.boxes) {
    float xyxy[4];
    b.to_xyxy(r.image_width, r.image_height, xyxy);
    boxes.push_back(Json{{"xyxy", box_array(xyxy)},
                         {"cxcywh", Json::array({num(b.cx), num(b.cy), num(b.w), num(b.h)})},
                         {"label", b.positive ? "positive" : "negative"}});
  }
  Json inst = Json::array();
  for (const Instance& in : r.instances) {
    Json o{{"query", in.query}, {"score", num(in.score)}, {"box", box_array(in.box)}};
    if (!in.mask.empty()) {
      o["area"] = in.mask.area();
      o["mask"] = mask_to_json(in.mask);
    }
    inst.push_back(std::move(o));
  }
  Json j{{"text", r.prompt.text}, {"text_encoded", r.text_used}, {"boxes", std::move(boxes)},
         {"threshold", num(r.threshold)}, {"instances", std::move(inst)}};
  if (!r.semantic.empty()) {
    Json s = mask_to_json(r.semantic);
    s["area"] = r.semantic.area();
    j["semantic"] = std::move(s);
  }
  j["timings_ms"] = timings_to_json(r.timings);
  return j;
}

Json segment_result_to_json(const SegmentResult& r) {
  Json prompts = Json::array();
  for (const PromptResult& p : r.prompts) prompts.push_back(prompt_result_to_json(p));
  return Json{{"schema", "sam3.segment/1"},
              {"image", Json{{"width", r.image_width}, {"height", r.image_height}}},
              {"prompts", std::move(prompts)},
              {"timings_ms", Json{{"segment", r.total_ms}}}};
}

}  // namespace sam3
