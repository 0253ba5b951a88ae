// Slow test: the reduced-precision accuracy gates (docs/precision.md) at the official full size, on a full-size
// random checkpoint written by the project's own generator (write_random_checkpoint, as `sam3
// make-random-checkpoint`), through the public API: f32, bf16 and int8 models of the same file encode a fixture
// image and answer the same prompts. Gated: the embedding cosine per FPN level (the bound), the kept sets
// (threshold 0.5 and 0.05: no query kept by one side only unless within the margin of the threshold), and the
// downstream deltas against a conditioning-matched bound (below). Printed: the plain mask IoU.
//
// Why not the fixed downstream bounds (|Δprob| <= 0.01 / 0.03, boxes within 1 / 3 px): at full size the
// random decoder is too sensitive for them to say anything about the precision: with only the image encoder in bf16
// (cosine 0.999986, far inside the 0.9999 gate) the probabilities already move by 0.021 and boxes by 10.6 px
// (measured 2026-12-07; docs/precision.md, "Full size"). The module test gates them on the tiny model.
// The conditioning-matched bound: the f32 model answers the same prompts on its own embedding plus isotropic
// Gaussian noise of the size of the precision's embedding error (per FPN level, ||noise|| = ||low - f32||), three
// noise draws. The precision's mean |Δprob| over every query and mean box delta (every coordinate of every query,
// px at 1008) must stay within kConditioningFactor times the largest the noise caused: a precision may move the
// outputs about as much as an error of its size in the embedding does by itself, not more (which would mean an error
// in the per-prompt modules, or one aimed badly in the embedding). Together with the cosine gate this bounds both.
// The means, not the maxima: the largest |Δprob| of 200 queries is decided by single queries whose outputs jump at a
// discrete choice, so it is not a property of the precision: reordering one f32 sum in the bf16 attention kernel
// (the normaliser l summed over two accumulators instead of one: 1-ulp changes) moved bf16's max |Δprob| on the
// first prompt from 2.9e-2 (0.73x its noise's) to 8.3e-2 (2.12x), while its mean stayed (4.7e-3, 4.8e-3; measured
// 2026-12-07, fifth session). The maxima are printed with their ratios.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "api/internal.h"

#include "fixture.h"
#include "model/config.h"
#include "model/random_checkpoint.h"
#include "sam3/sam3.h"

using namespace sam3;
using namespace sam3::test;

namespace {

struct Gate {
  const char* dtype;
  double cosine, margin;
};

// The precision's mean downstream deltas may be at most this many times those of matched noise (see the file
// comment). Measured 2026-12-07: see docs/precision.md ("Full size"); 2 leaves room for the scatter of three noise
// draws.
constexpr double kConditioningFactor = 2.0;

// The relative size ||b_i - a_i|| / ||a_i|| of b's difference from a at every FPN level.
std::vector<double> relative_errors(const ImageEmbedding& a, const ImageEmbedding& b) {
  std::vector<double> out;
  for (int i = 0; i < a.num_levels(); ++i) {
    const FeatureMap x = a.level(i), y = b.level(i);
    const int64_t n = static_cast<int64_t>(x.channels) * x.height * x.width;
    double dd = 0, xx = 0;
    for (int64_t k = 0; k < n; ++k) {
      dd += (static_cast<double>(y.data[k]) - x.data[k]) * (static_cast<double>(y.data[k]) - x.data[k]);
      xx += static_cast<double>(x.data[k]) * x.data[k];
    }
    out.push_back(std::sqrt(dd / xx));
  }
  return out;
}

// e with Gaussian noise added to every FPN level, scaled so that ||noise_i|| = rel[i]·||level_i||.
ImageEmbedding with_noise(const ImageEmbedding& e, const std::vector<double>& rel, uint32_t seed) {
  auto impl = std::make_shared<ImageEmbedding::Impl>(e.impl());
  std::mt19937 g(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (size_t i = 0; i < impl->features.fpn.size(); ++i) {
    Tensor t = impl->features.fpn[i].clone();
    float* p = t.f32();
    double xx = 0;
    for (int64_t k = 0; k < t.numel(); ++k) xx += static_cast<double>(p[k]) * p[k];
    const float sd = static_cast<float>(rel[i] * std::sqrt(xx / static_cast<double>(t.numel())));
    for (int64_t k = 0; k < t.numel(); ++k) p[k] += sd * normal(g);
    impl->features.fpn[i] = std::move(t);
  }
  return ImageEmbedding(std::move(impl));
}

// Downstream deltas of b against a over every query (not only the kept ones): probability, box coordinate in
// pixels of the 1008 input; the largest and the mean.
struct Deltas {
  double prob = 0, box_1008 = 0;            // max
  double mean_prob = 0, mean_box_1008 = 0;  // mean
  void take_max(const Deltas& o) {
    prob = std::max(prob, o.prob);
    box_1008 = std::max(box_1008, o.box_1008);
    mean_prob = std::max(mean_prob, o.mean_prob);
    mean_box_1008 = std::max(mean_box_1008, o.mean_box_1008);
  }
};
Deltas deltas(const PromptResult& a, const PromptResult& b) {
  Deltas d;
  for (size_t q = 0; q < a.probs.size(); ++q) {
    const double e = std::fabs(double(a.probs[q]) - b.probs[q]);
    d.prob = std::max(d.prob, e);
    d.mean_prob += e / static_cast<double>(a.probs.size());
  }
  const Tensor& ba = a.outputs->raw.pred_boxes;
  const Tensor& bb = b.outputs->raw.pred_boxes;
  for (int64_t k = 0; k < ba.numel(); ++k) {
    const double e = 1008.0 * std::fabs(double(ba.f32()[k]) - bb.f32()[k]);
    d.box_1008 = std::max(d.box_1008, e);
    d.mean_box_1008 += e / static_cast<double>(ba.numel());
  }
  return d;
}

class FullSize : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    path_ = "/tmp/sam3_precision_fullsize_" + std::to_string(getpid()) + ".pt";
    write_random_checkpoint(path_, config_preset("sam3"), RandomCheckpointOptions{});
  }
  static void TearDownTestSuite() { std::remove(path_.c_str()); }
  static std::shared_ptr<const Model> load(const char* dtype) {
    ModelParams p = model_default_params();
    p.dtype = dtype;
    return Model::load(path_, p);
  }
  static std::string path_;
};
std::string FullSize::path_;

// The f32 side, computed once for every precision: the embedding of the fixture image and its answers to the prompts
// (a text, and the same text with a box), with every query reported (threshold 0.05).
struct Reference {
  std::shared_ptr<const Model> model;
  ImageState state;
  std::vector<Prompt> prompts;
  SegmentParams params = segment_default_params();
  SegmentResult result;

  explicit Reference(std::shared_ptr<const Model> f32) : model(f32), state(f32) {
    state.set_embedding(f32->encode_file(golden_path("images/groceries.jpg")));
    const int w = state.embedding().image_width(), h = state.embedding().image_height();
    Prompt boxed{"a carton of milk", {PromptBox::from_user_xyxy(0.1f * w, 0.1f * h, 0.5f * w, 0.6f * h, w, h)}};
    prompts = {Prompt{"a carton of milk", {}}, boxed};
    params.threshold = 0.05f;
    result = segment(state, prompts, params);
  }
};

void check(const Reference& ref, const std::shared_ptr<const Model>& low, const Gate& g) {
  const std::shared_ptr<const Model>& f32 = ref.model;
  const ImageState& a = ref.state;
  const std::vector<Prompt>& prompts = ref.prompts;
  const SegmentParams& sp = ref.params;
  const SegmentResult& ra = ref.result;
  ImageState b(low);
  b.set_embedding(low->encode_file(golden_path("images/groceries.jpg")));
  const std::vector<double> cos = embedding_cosines(a.embedding(), b.embedding());
  std::printf("%s: cosines", g.dtype);
  for (size_t i = 0; i < cos.size(); ++i) {
    std::printf(" %.6f", cos[i]);
    EXPECT_GE(cos[i], g.cosine) << g.dtype << " FPN level " << i;
  }
  std::printf("\n");
  const SegmentResult rb = segment(b, prompts, sp);
  for (float threshold : {0.05f, 0.5f}) {  // 0.5: the same outputs re-thresholded (post-processing only)
    for (size_t p = 0; p < prompts.size(); ++p) {
      const PromptResult pa = threshold == sp.threshold ? ra.prompts[p] : rethreshold(ra.prompts[p], threshold);
      const PromptResult pb = threshold == sp.threshold ? rb.prompts[p] : rethreshold(rb.prompts[p], threshold);
      const PromptComparison c = compare_prompt_results(pa, pb, f32->input_size(), static_cast<float>(g.margin));
      std::printf("%s p%zu t%.2f: kept %d/%d (%d both, %d differ), max|Δprob| %.2e, plain mask IoU min %.4f, "
                  "max box Δ %.3f px@1008\n",
                  g.dtype, p, threshold, c.kept_a, c.kept_b, c.kept_both, c.kept_differ, c.max_prob_delta,
                  c.min_mask_iou, c.max_box_delta_input);
      EXPECT_EQ(c.kept_differ_far, 0) << g.dtype << " prompt " << p;
    }
  }
  // The conditioning-matched bound: f32 on its embedding plus noise of the precision's error size.
  const std::vector<double> rel = relative_errors(a.embedding(), b.embedding());
  std::vector<Deltas> noise(prompts.size());
  for (uint32_t seed : {1u, 2u, 3u}) {
    ImageState n(f32);
    n.set_embedding(with_noise(a.embedding(), rel, seed));
    const SegmentResult rn = segment(n, prompts, sp);
    for (size_t p = 0; p < prompts.size(); ++p) noise[p].take_max(deltas(ra.prompts[p], rn.prompts[p]));
  }
  for (size_t p = 0; p < prompts.size(); ++p) {
    const Deltas d = deltas(ra.prompts[p], rb.prompts[p]);
    std::printf("%s p%zu: every query: mean|Δprob| %.2e (matched noise %.2e: %.2fx), mean box Δ %.3f px@1008 "
                "(matched noise %.3f: %.2fx); max|Δprob| %.2e (noise %.2e: %.2fx), max box Δ %.2f px (noise %.2f: "
                "%.2fx)\n",
                g.dtype, p, d.mean_prob, noise[p].mean_prob, d.mean_prob / noise[p].mean_prob, d.mean_box_1008,
                noise[p].mean_box_1008, d.mean_box_1008 / noise[p].mean_box_1008, d.prob, noise[p].prob,
                d.prob / noise[p].prob, d.box_1008, noise[p].box_1008, d.box_1008 / noise[p].box_1008);
    EXPECT_LE(d.mean_prob, kConditioningFactor * noise[p].mean_prob) << g.dtype << " prompt " << p;
    EXPECT_LE(d.mean_box_1008, kConditioningFactor * noise[p].mean_box_1008) << g.dtype << " prompt " << p;
  }
}

}  // namespace

TEST_F(FullSize, Bf16AndInt8AgainstF32) {
  const Reference f32(load("f32"));
  check(f32, load("bf16"), Gate{"bf16", 0.9999, 0.01});
  check(f32, load("int8"), Gate{"int8", 0.999, 0.03});
}
