// Module test: the accuracy gates of the reduced precisions (docs/precision.md) on the tiny fixture model, through
// the public API from the fixture JPEGs. Relative to f32 with the same weights:
//   bf16: embedding cosine >= 0.9999 at every FPN level; per-query probability |Δ| <= 0.01; kept sets identical
//         except queries within 0.01 of the threshold; masks of queries kept by both IoU >= 0.97; boxes within
//         1 px of the 1008 input;
//   int8: cosine >= 0.999; |Δprob| <= 0.03; kept sets identical except queries within 0.03 of the threshold;
//         mask IoU >= 0.93; boxes within 3 px of the input.
// (The gates; the kept-set margin and box bound of int8 are ours, scaled from bf16's by the prob bound.)
//   f16 (a `sam3 convert --dtype f16` file, run f32: weights rounded to 11-bit mantissas, computed in f32): bf16's
//         gates, which a finer rounding of the weights alone must meet (ours; the issue sets none for f16).
// Runs as it is and again with ONEDNN_MAX_CPU_ISA=AVX2 (tests/CMakeLists.txt): the fallback paths must pass too.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "api/convert.h"
#include "api/internal.h"
#include "core/error.h"
#include "fixture.h"
#include "sam3/sam3.h"
#include "tiny_fixture.h"

using namespace sam3;
using namespace sam3::test;

namespace {

struct Gate {
  const char* dtype;
  double cosine, prob, margin, mask_iou, box_1008_px;
  double max_band;  // share of mask pixels in the noise band (measured on the tiny model: bf16 <= 4.8%, int8 <= 13.5%)
};
constexpr Gate kGates[] = {{"bf16", 0.9999, 0.01, 0.01, 0.97, 1.0, 0.08},
                           {"int8", 0.999, 0.03, 0.03, 0.93, 3.0, 0.20},
                           {"f16", 0.9999, 0.01, 0.01, 0.97, 1.0, 0.08}};

std::shared_ptr<const Model> tiny(const std::string& dtype) {
  ModelParams p = model_default_params();
  p.config_path = golden_path("tiny/config.json");
  p.dtype = dtype;
  return Model::load(golden_path("tiny/sam3_random.pt"), p);
}

// Four texts and a text with a positive and a negative box (placed relative to the image size).
std::vector<Prompt> prompts(int w, int h) {
  std::vector<Prompt> ps;
  for (const char* t : {"a carton of milk", "person", "yellow school bus", "red apple"}) ps.push_back(Prompt{t, {}});
  Prompt boxed{"banana", {}};
  boxed.boxes.push_back(PromptBox::from_user_xyxy(0.1f * w, 0.15f * h, 0.5f * w, 0.6f * h, w, h, true));
  boxed.boxes.push_back(PromptBox::from_user_xyxy(0.55f * w, 0.2f * h, 0.8f * w, 0.9f * h, w, h, false));
  ps.push_back(boxed);
  return ps;
}

// Mask agreement that random weights can condition. Their masks are speckle (a random field thresholded at 0:
// 11-28% of the 72x72 pixels positive, 2-4% within 1% of the largest |logit| of 0), so a perturbation of the
// logits far below anything visible on real masks flips a large share of a mask's many boundary pixels: the plain
// IoU of f32 with itself through bf16 *image-encoder-free* heads is 0.97 there (docs/precision.md). So the gate is
// the IoU of the low-resolution masks (logit > 0) over the pixels outside the noise band |f32 logit| < 3·rms(Δlogit),
// where a flip is expected; the plain IoU is printed and `sam3 compare` reports it.
// `band_fraction`: the share of pixels inside the band (bounded per precision, Gate::max_band, so that the gate
// covers most pixels and fails when the perturbation grows).
double conditioned_mask_iou(const PromptResult& a, const PromptResult& b, int q, double* band_fraction) {
  const Tensor& la = a.outputs->raw.pred_masks;
  const Tensor& lb = b.outputs->raw.pred_masks;
  const int64_t hw = la.numel() / la.size(0);
  const float* x = la.f32() + q * hw;
  const float* y = lb.f32() + q * hw;
  double sq = 0;
  for (int64_t i = 0; i < hw; ++i) sq += static_cast<double>(x[i] - y[i]) * (x[i] - y[i]);
  const double band = 3 * std::sqrt(sq / hw);
  int64_t inter = 0, uni = 0, in_band = 0;
  for (int64_t i = 0; i < hw; ++i) {
    if (std::fabs(x[i]) < band) {
      ++in_band;
      continue;
    }
    inter += (x[i] > 0) && (y[i] > 0);
    uni += (x[i] > 0) || (y[i] > 0);
  }
  *band_fraction = static_cast<double>(in_band) / hw;
  return uni ? static_cast<double>(inter) / uni : 1.0;
}

// `low`: the model under test, of the same weights as tiny("f32") (or their rounding, for a converted file).
void check_gate(const Gate& g, const std::shared_ptr<const Model>& low) {
  const auto f32 = tiny("f32");
  int masks_compared = 0;
  for (const char* img : {"images/groceries.jpg", "images/test_image.jpg"}) {
    SCOPED_TRACE(std::string(g.dtype) + " " + img);
    ImageState a(f32), b(low);
    a.set_embedding(f32->encode_file(golden_path(img)));
    b.set_embedding(low->encode_file(golden_path(img)));
    const std::vector<Prompt> ps = prompts(a.embedding().image_width(), a.embedding().image_height());
    const std::vector<double> cos = embedding_cosines(a.embedding(), b.embedding());
    for (size_t i = 0; i < cos.size(); ++i) EXPECT_GE(cos[i], g.cosine) << "FPN level " << i;
    for (float threshold : {0.5f, 0.05f}) {
      SegmentParams sp = segment_default_params();
      sp.threshold = threshold;
      const SegmentResult ra = segment(a, ps, sp), rb = segment(b, ps, sp);
      for (size_t p = 0; p < ra.prompts.size(); ++p) {
        const PromptComparison c = compare_prompt_results(ra.prompts[p], rb.prompts[p], f32->input_size(),
                                                          static_cast<float>(g.margin));
        SCOPED_TRACE("prompt " + std::to_string(p) + " threshold " + std::to_string(threshold));
        EXPECT_LE(c.max_prob_delta, g.prob);
        EXPECT_EQ(c.kept_differ_far, 0);
        double min_iou = 1, max_band = 0;
        for (const Instance& in : ra.prompts[p].instances) {
          double band = 0;
          min_iou = std::min(min_iou, conditioned_mask_iou(ra.prompts[p], rb.prompts[p], in.query, &band));
          max_band = std::max(max_band, band);
        }
        EXPECT_GE(min_iou, g.mask_iou);
        EXPECT_LE(max_band, g.max_band);
        const double box_1008 = c.max_box_delta_input * 1008.0 / f32->input_size();  // the gate is at 1008 px
        EXPECT_LE(box_1008, g.box_1008_px);
        masks_compared += c.masks_compared;
        std::printf("%s %s p%zu t%.2f: kept %d/%d (%d both, %d differ near the threshold), max|Δprob| %.2e, "
                    "min IoU %.4f (outside the noise band %.4f, band <= %.1f%% of pixels), max box Δ %.3f px@1008\n",
                    g.dtype, img, p, threshold, c.kept_a, c.kept_b, c.kept_both, c.kept_differ, c.max_prob_delta,
                    c.min_mask_iou, min_iou, 100 * max_band, box_1008);
      }
    }
    std::printf("%s %s: cosines", g.dtype, img);
    for (double c : cos) std::printf(" %.7f", c);
    std::printf("\n");
  }
  EXPECT_GT(masks_compared, 10) << "too few kept instances to compare masks: the gate would be vacuous";
}

}  // namespace

// The ISA-capped copy (tests/CMakeLists.txt) repeats the uncapped run on a CPU with nothing above AVX2.
bool capped_run_repeats_uncapped() {
  return std::getenv("ONEDNN_MAX_CPU_ISA") && !__builtin_cpu_supports("avx512f");
}

TEST(PrecisionGates, Bf16) {
  if (capped_run_repeats_uncapped()) GTEST_SKIP() << "no ISA above AVX2 here: the uncapped run covered this";
  const auto low = tiny("bf16");
  ASSERT_EQ(low->info().precision, "bf16");
  check_gate(kGates[0], low);
}
TEST(PrecisionGates, Int8) {
  if (capped_run_repeats_uncapped()) GTEST_SKIP() << "no ISA above AVX2 here: the uncapped run covered this";
  const auto low = tiny("int8");
  ASSERT_EQ(low->info().precision, "int8");
  check_gate(kGates[1], low);
}

// f16 storage: the file from `sam3 convert --dtype f16`, run f32 (its default). No oneDNN path: one run covers it.
TEST(PrecisionGates, F16File) {
  if (std::getenv("ONEDNN_MAX_CPU_ISA")) GTEST_SKIP() << "computed in f32: nothing to cap; the uncapped run covers it";
  TempDir dir;
  const std::string file = dir.file("tiny_f16.safetensors");
  ConvertOptions o;
  o.dtype = "f16";
  o.config_path = golden_path("tiny/config.json");
  convert_weights(golden_path("tiny/sam3_random.pt"), file, o);
  ModelParams p = model_default_params();
  p.dtype = "auto";
  const auto low = Model::load(file, p);
  ASSERT_EQ(low->info().precision, "f32");
  check_gate(kGates[2], low);
}

TEST(PrecisionGates, UnknownDtypeIsAnError) {
  EXPECT_THROW(tiny("fp16"), Error);
  EXPECT_EQ(tiny("auto")->info().precision, precision_support().auto_precision);
}
