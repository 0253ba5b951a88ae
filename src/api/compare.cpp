// sam3.cpp — comparing two runs on the same inputs (sam3.h: embedding_cosines, compare_prompt_results): what
// `sam3 compare` reports and the precision tests gate on (docs/precision.md).
#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "io/rle.h"
#include "sam3/sam3.h"

namespace sam3 {

std::vector<double> embedding_cosines(const ImageEmbedding& a, const ImageEmbedding& b) {
  if (a.empty() || b.empty()) throw Error("embedding_cosines: empty embedding");
  if (a.num_levels() != b.num_levels()) throw Error("embedding_cosines: the embeddings have different levels");
  std::vector<double> out;
  for (int i = 0; i < a.num_levels(); ++i) {
    const FeatureMap x = a.level(i), y = b.level(i);
    if (x.channels != y.channels || x.height != y.height || x.width != y.width)
      throw Error("embedding_cosines: level " + std::to_string(i) + " differs in shape");
    const int64_t n = static_cast<int64_t>(x.channels) * x.height * x.width;
    double xy = 0, xx = 0, yy = 0;
    for (int64_t k = 0; k < n; ++k) {
      xy += static_cast<double>(x.data[k]) * y.data[k];
      xx += static_cast<double>(x.data[k]) * x.data[k];
      yy += static_cast<double>(y.data[k]) * y.data[k];
    }
    out.push_back(xx > 0 && yy > 0 ? xy / std::sqrt(xx * yy) : (xx == yy ? 1.0 : 0.0));
  }
  return out;
}

namespace {

// IoU of two masks of the same size, from their runs (no bitmap).
double mask_iou(const Mask& a, const Mask& b) {
  const int64_t inter = rle_counts_intersection(a.counts, b.counts), uni = a.area() + b.area() - inter;
  return uni ? static_cast<double>(inter) / static_cast<double>(uni) : 1.0;
}

const Instance* find_query(const PromptResult& r, int q) {
  for (const Instance& in : r.instances)
    if (in.query == q) return &in;
  return nullptr;
}

}  // namespace

PromptComparison compare_prompt_results(const PromptResult& a, const PromptResult& b, int input_size, float margin) {
  if (a.probs.size() != b.probs.size() || a.image_width != b.image_width || a.image_height != b.image_height)
    throw Error("compare_prompt_results: the results are not of the same image and query count");
  if (a.image_width <= 0 || a.image_height <= 0) throw Error("compare_prompt_results: empty image");
  PromptComparison c;
  c.kept_a = static_cast<int>(a.instances.size());
  c.kept_b = static_cast<int>(b.instances.size());
  double iou_sum = 0;
  for (size_t q = 0; q < a.probs.size(); ++q) {
    c.max_prob_delta = std::max(c.max_prob_delta, static_cast<double>(std::fabs(a.probs[q] - b.probs[q])));
    const Instance* ia = find_query(a, static_cast<int>(q));
    const Instance* ib = find_query(b, static_cast<int>(q));
    if (!ia && !ib) continue;
    if (!ia || !ib) {
      ++c.kept_differ;
      const float pa = std::fabs(a.probs[q] - a.threshold), pb = std::fabs(b.probs[q] - b.threshold);
      if (std::max(pa, pb) > margin) ++c.kept_differ_far;
      continue;
    }
    ++c.kept_both;
    for (int k = 0; k < 4; ++k) {
      const double d = std::fabs(static_cast<double>(ia->box[k]) - ib->box[k]);
      const double side = k % 2 == 0 ? a.image_width : a.image_height;
      c.max_box_delta_px = std::max(c.max_box_delta_px, d);
      c.max_box_delta_input = std::max(c.max_box_delta_input, d / side * input_size);
    }
    if (!ia->mask.empty() && !ib->mask.empty() && ia->mask.width == ib->mask.width &&
        ia->mask.height == ib->mask.height) {
      const double iou = mask_iou(ia->mask, ib->mask);
      ++c.masks_compared;
      iou_sum += iou;
      c.min_mask_iou = std::min(c.min_mask_iou, iou);
    }
  }
  if (c.masks_compared) c.mean_mask_iou = iou_sum / c.masks_compared;
  return c;
}

}  // namespace sam3
