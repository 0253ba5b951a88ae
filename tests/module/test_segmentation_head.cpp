// Module test: the segmentation head against the fixtures, all 10 cases (seg.prompt_xattn, seg.pixel_embed where
// stored, seg.mask_embed, out.pred_masks, out.semantic_seg), from the fixture's enc.memory, dec.hs and prompt.
// The finer neck levels: test_image stores neck.fpn0/fpn1; groceries does not, so they are computed from its
// vit.out with the project's Neck (itself tested against test_image's levels by the image-encoder tests), and the
// test first checks that this route reproduces test_image's stored levels. Tolerances: docs/numerics.md.
#include <gtest/gtest.h>

#include "detector_test_util.h"
#include "model/segmentation_head.h"

using namespace sam3;
using namespace sam3::test;

namespace {

// The last decoder layer's queries [Q, d] from a fixture's dec.hs (L, Q, 1, d).
Tensor last_layer_queries(const Tensor& hs) {
  const int64_t L = hs.size(0), Q = hs.size(1), d = hs.size(3);
  return hs.reshape({L, Q, d}).slice0(L - 1, L).reshape({Q, d});
}

TEST(SegmentationHeadInputs, NeckRouteReproducesStoredLevels) {
  const TinyModel& m = tiny_model();
  TensorFile img = open_fixture("tiny/test_image.image.safetensors");
  std::vector<Tensor> lv = neck_levels_from_trunk(m, img, 2);
  for (int i = 0; i < 2; ++i) EXPECT_TRUE(matches_fixture(lv[static_cast<size_t>(i)], img.get("neck.fpn" + std::to_string(i)))) << i;
}

class SegmentationHeadCase : public ::testing::TestWithParam<std::string> {};

TEST_P(SegmentationHeadCase, MatchesFixture) {
  const TinyModel& m = tiny_model();
  const std::string name = GetParam();
  TensorFile img = open_fixture("tiny/" + image_of(name) + ".image.safetensors");
  TensorFile c = open_fixture("tiny/" + name + ".safetensors");
  SegmentationHead head(m.cfg, m.scope("segmentation_head."));
  ASSERT_EQ(head.num_stages(), 2);
  const Tensor& p2 = img.get("neck.fpn2");
  const Tensor queries = last_layer_queries(c.get("dec.hs"));
  DumpCapture cap;
  SegmentationOutput out = head.forward(c.get("enc.memory"), p2.size(-2), p2.size(-1), finer_levels(m, img, 2), queries,
                                        fixture_prompt(c), RunContext{2, nullptr, cap.dumper()});
  TensorFile got = cap.read_back();
  int compared = 0;
  for (const char* key : {"seg.prompt_xattn", "seg.pixel_embed", "seg.mask_embed", "out.pred_masks", "out.semantic_seg"}) {
    if (!c.has(key)) continue;  // seg.pixel_embed is stored for test_image.case1 only
    double ratio = 0;
    EXPECT_TRUE(matches_fixture(got.get(key), c.get(key), &ratio)) << name << " " << key;
    CompareStats s = compare(got.get(key), c.get(key), 0, 0);
    std::printf("%s %-18s max_abs %.3g max_abs/scale %.3g\n", name.c_str(), key, s.max_abs, ratio);
    ++compared;
  }
  EXPECT_GE(compared, 4);
  EXPECT_TRUE(tensors_close(out.pred_masks.reshape(c.get("out.pred_masks").shape()), got.get("out.pred_masks"), 0, 0));
}

INSTANTIATE_TEST_SUITE_P(Tiny, SegmentationHeadCase, ::testing::ValuesIn(fixture_cases()), case_param_name);

// The pixel decoder's image half computed once and passed in (as ImagePromptCache does for every prompt on an
// image) gives the same bits as forward() computing it itself.
TEST(SegmentationHead, SharedImageTermsGiveTheSameBits) {
  const TinyModel& m = tiny_model();
  TensorFile img = open_fixture("tiny/test_image.image.safetensors");
  TensorFile c = open_fixture("tiny/test_image.case2.safetensors");
  SegmentationHead head(m.cfg, m.scope("segmentation_head."));
  const Tensor& p2 = img.get("neck.fpn2");
  const Tensor queries = last_layer_queries(c.get("dec.hs"));
  const int64_t d = queries.size(1);
  const std::vector<Tensor> finer = finer_levels(m, img, 2);
  const RunContext ctx{2};
  const std::vector<Tensor> terms = head.image_terms(finer, ctx);
  ASSERT_EQ(terms.size(), 2u);
  EXPECT_EQ(terms[0].shape(), (Shape{d, 36, 36}));  // coarse stage first
  EXPECT_EQ(terms[1].shape(), (Shape{d, 72, 72}));
  const SegmentationOutput a = head.forward(c.get("enc.memory"), p2.size(-2), p2.size(-1), finer, queries,
                                            fixture_prompt(c), ctx);
  const SegmentationOutput b = head.forward(c.get("enc.memory"), p2.size(-2), p2.size(-1), finer, queries,
                                            fixture_prompt(c), ctx, &terms);
  EXPECT_TRUE(tensors_close(a.pred_masks, b.pred_masks, 0, 0));
  EXPECT_TRUE(tensors_close(a.semantic_seg, b.semantic_seg, 0, 0));
  const std::vector<Tensor> one(terms.begin(), terms.begin() + 1);
  EXPECT_THROW(
      head.forward(c.get("enc.memory"), p2.size(-2), p2.size(-1), finer, queries, fixture_prompt(c), ctx, &one),
      Error);
  const std::vector<Tensor> swapped = {terms[1], terms[0]};  // not 2x the previous stage
  EXPECT_THROW(head.forward(c.get("enc.memory"), p2.size(-2), p2.size(-1), finer, queries, fixture_prompt(c), ctx,
                            &swapped),
               Error);
  EXPECT_THROW(head.image_terms(one, ctx), Error);
}

TEST(SegmentationHead, RejectsBadInputs) {
  const TinyModel& m = tiny_model();
  TensorFile img = open_fixture("tiny/test_image.image.safetensors");
  TensorFile c = open_fixture("tiny/test_image.case1.safetensors");
  SegmentationHead head(m.cfg, m.scope("segmentation_head."));
  const Tensor& q = c.get("seg.mask_embed");
  const Tensor& mem = c.get("enc.memory");
  EXPECT_THROW(head.forward(mem, 18, 18, {img.get("neck.fpn0")}, q, fixture_prompt(c), RunContext{1}), Error);
  EXPECT_THROW(head.forward(mem, 17, 18, {img.get("neck.fpn0"), img.get("neck.fpn1")}, q, fixture_prompt(c), RunContext{1}), Error);
}

}  // namespace
