// Geometry encoder and prompt assembly vs the official outputs, for every fixture case (0, 1 or 2 boxes, positive
// and negative): from neck.fpn2 / neck.pos2 of the image and geo.in.* of the case, reproduce every geo.* tensor,
// then prompt.tokens / prompt.mask (with the text part from text.token_ids).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <string>

#include "core/error.h"
#include "core/ops.h"
#include "kernels/cpu.h"
#include "kernels/ref.h"
#include "model/geometry_encoder.h"
#include "model/sam3_image.h"
#include "tiny_fixture.h"

namespace sam3 {
namespace {

using test::tiny_model;

// Tolerance (docs/numerics.md, "Prompt encoders"): atol = 1e-5 × the tensor's max |ref|, rtol 0 — the same bound
// for every geo.* and prompt.* tensor. Measured: see the printed worst ratio (≤ 1e-6 on the tiny fixtures).
constexpr double kRelScale = 1e-5;

using test::fixture_boxes;
using test::fixture_ids;

// Every fixture tensor whose name starts with one of `prefixes` must be in the dump and match.
// Records, per tensor name, the worst max_abs / scale seen (printed for docs/numerics.md).
using Worst = std::map<std::string, double>;

void compare_all(const TensorFile& got, const TensorFile& ref, const std::vector<std::string>& prefixes,
                 Worst* worst, int* n_compared) {
  for (const auto& [name, want] : ref.tensors) {
    bool match = false;
    for (const auto& p : prefixes) match = match || name.rfind(p, 0) == 0;
    if (!match || name.rfind("geo.in.", 0) == 0) continue;
    SCOPED_TRACE(name);
    ASSERT_TRUE(got.has(name)) << "not produced: " << name;
    const Tensor& t = got.get(name);
    if (want.dtype() == DType::U8) {
      EXPECT_TRUE(test::tensors_close(t, want, 0, 0));
    } else {
      const test::CompareStats s = test::compare(t, want, 0, 0);
      EXPECT_TRUE(test::tensors_close(t, want, kRelScale * s.ref_scale, 0));
      if (s.ref_scale > 0) (*worst)[name] = std::max((*worst)[name], s.max_abs / s.ref_scale);
    }
    ++*n_compared;
  }
}

TEST(GeometryEncoder, MatchesFixturesAllCases) {
  const auto& m = tiny_model();
  GeometryEncoder enc(m.root().sub("geometry_encoder"), m.cfg);
  Worst worst;
  int n_compared = 0, n_boxes_total = 0, n_negative = 0;
  for (const std::string& c : test::fixture_cases()) {
    SCOPED_TRACE(c);
    TensorFile ref = test::open_fixture("tiny/" + c + ".safetensors");
    const std::string img_name = c.substr(0, c.find(".case"));
    TensorFile image = test::open_fixture("tiny/" + img_name + ".image.safetensors");
    const std::vector<BoxPrompt> boxes = fixture_boxes(ref);
    n_boxes_total += static_cast<int>(boxes.size());
    for (const auto& b : boxes) n_negative += b.positive ? 0 : 1;

    test::TempDir dir;
    Dumper dump(dir.path());
    GeometryFeatures out = enc.encode(boxes, image.get("neck.fpn2"), image.get("neck.pos2"), RunContext{2, nullptr, &dump});
    dump.flush("geo");
    TensorFile got = read_safetensors(dir.file("geo.safetensors"));
    compare_all(got, ref, {"geo."}, &worst, &n_compared);
    // The returned tensors are the dumped ones.
    EXPECT_TRUE(test::tensors_close(out.tokens, ref.get("geo.out.tokens"), kRelScale * 10, 0));
    EXPECT_TRUE(test::tensors_close(out.mask, ref.get("geo.out.mask"), 0, 0));
    // Single-threaded gives the same within the same tolerance.
    GeometryFeatures one = enc.encode(boxes, image.get("neck.fpn2"), image.get("neck.pos2"), RunContext{1});
    const test::CompareStats s = test::compare(one.tokens, ref.get("geo.out.tokens"), 0, 0);
    EXPECT_TRUE(test::tensors_close(one.tokens, ref.get("geo.out.tokens"), kRelScale * s.ref_scale, 0));
  }
  EXPECT_EQ(n_boxes_total, 12);  // 0+1+1+2+2 per image
  EXPECT_EQ(n_negative, 2);
  EXPECT_GT(n_compared, 100);
  std::printf("geometry encoder: %d tensors compared; worst max_abs / scale per tensor:\n", n_compared);
  for (const auto& [name, w] : worst) std::printf("  %-24s %.3g\n", name.c_str(), w);
}

// The RoIAlign op alone on the reference's own pooling source (geo.img_pre_norm): isolates the sampling grid (the
// adaptive ceil(size/7) samples per bin, aligned=False, boxes × [W, H, W, H]) from LayerNorm rounding. Sample
// positions and weights are float32 in torchvision's order (no FMA), so the result should be bit-identical to
// torchvision's CPU kernel; we allow 1e-6 × scale (an FMA-contracted box corner alone gives 1.4e-6).
TEST(GeometryEncoder, RoiAlignOnReferenceFeatures) {
  double worst = 0;
  int n = 0;
  for (const std::string& c : test::fixture_cases()) {
    SCOPED_TRACE(c);
    TensorFile ref = test::open_fixture("tiny/" + c + ".safetensors");
    const std::vector<BoxPrompt> boxes = fixture_boxes(ref);
    if (boxes.empty()) continue;
    // geo.img_pre_norm is only stored for case 1 of each image (it does not depend on the prompt).
    TensorFile c1 = test::open_fixture("tiny/" + c.substr(0, c.find(".case")) + ".case1.safetensors");
    const Tensor& pre = c1.get("geo.img_pre_norm");  // [HW, 1, d]
    const int64_t HW = pre.size(0), d = pre.size(2);
    const int64_t side = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(HW))));
    ASSERT_EQ(side * side, HW);
    Tensor nchw = Tensor::empty({d, side, side});
    for (int64_t p = 0; p < HW; ++p)
      for (int64_t ch = 0; ch < d; ++ch) nchw.f32()[ch * HW + p] = pre.f32()[p * d + ch];
    const Tensor xyxy = roi_boxes_xyxy(boxes, side, side);
    const Tensor& want = ref.get("geo.box_roi_align");
    Tensor got = Tensor::empty(want.shape());
    ops::roi_align(nchw, xyxy, 1.0f, -1, false, got, RunContext{2});
    const test::CompareStats s = test::compare(got, want, 0, 0);
    EXPECT_TRUE(test::tensors_close(got, want, 1e-6 * s.ref_scale, 0));
    worst = std::max(worst, s.max_abs / s.ref_scale);
    ++n;
  }
  EXPECT_EQ(n, 8);
  std::printf("roi_align on the reference's features: worst max_abs / scale %.3g\n", worst);
}

TEST(Sam3ImageEncodePrompt, AssemblesPromptAllCases) {
  const auto& m = tiny_model();
  const Sam3Image model(m.cfg, m.root());
  Worst worst;
  int n_compared = 0;
  for (const std::string& c : test::fixture_cases()) {
    SCOPED_TRACE(c);
    TensorFile ref = test::open_fixture("tiny/" + c + ".safetensors");
    TensorFile image = test::open_fixture("tiny/" + c.substr(0, c.find(".case")) + ".image.safetensors");
    test::TempDir dir;
    Dumper dump(dir.path());
    ImageFeatures features;
    features.fpn = {image.get("neck.fpn2")};
    features.pos = {image.get("neck.pos2")};
    ImagePromptCache image_cache;
    EncodedPrompt p =
        model.encode_prompt(fixture_ids(ref), fixture_boxes(ref), features, image_cache, RunContext{2, nullptr, &dump});
    dump.flush("prompt");
    TensorFile got = read_safetensors(dir.file("prompt.safetensors"));
    compare_all(got, ref, {"prompt."}, &worst, &n_compared);
    const int64_t L = m.cfg.text.context_length, N = ref.get("geo.in.box_cxcywh").size(0);
    EXPECT_EQ(p.tokens.shape(), (Shape{L + N + 1, 1, m.cfg.d_model}));
    EXPECT_EQ(p.mask.shape(), (Shape{1, L + N + 1}));
  }
  EXPECT_EQ(n_compared, 20);
  // Three distinct texts over the ten cases ('child', 'paper bag', and 'visual' for the box-only cases 3 and 5 of
  // both images): each is encoded once per model.
  EXPECT_EQ(model.text_cache().misses(), 3u);
  EXPECT_EQ(model.text_cache().hits(), 7u);
  for (const auto& [name, w] : worst) std::printf("prompt assembly: %-14s worst max_abs / scale %.3g\n", name.c_str(), w);
}

TEST(GeometryEncoder, RejectsMismatchedImageFeatures) {
  const auto& m = tiny_model();
  GeometryEncoder enc(m.root().sub("geometry_encoder"), m.cfg);
  Tensor img = Tensor::zeros({1, m.cfg.d_model + 1, 4, 4});
  EXPECT_THROW(enc.encode({}, img, img, RunContext{1}), Error);
  Tensor ok = Tensor::zeros({1, m.cfg.d_model, 4, 4});
  Tensor pos = Tensor::zeros({1, m.cfg.d_model, 4, 5});
  EXPECT_THROW(enc.encode({}, ok, pos, RunContext{1}), Error);
  BoxPrompt nan_box{0.5f, std::nanf(""), 0.1f, 0.1f, true};
  EXPECT_THROW(enc.encode({nan_box}, ok, ok, RunContext{1}), Error);
}

}  // namespace
}  // namespace sam3
