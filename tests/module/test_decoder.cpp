// Module test: the DETR decoder (+ box head as in _update_scores_and_boxes) against the fixtures, all 10 cases:
// dec.* (query pos, RPB bias, per-layer outputs and presence, hs, reference boxes, presence logits/feats) and
// out.anchor_box_offsets, out.pred_boxes(_xyxy), out.presence_logit_dec, out.queries. Inputs are the fixture's
// enc.memory, neck.pos2 and prompt, so only the decoder is under test. Tolerances: docs/numerics.md.
#include <gtest/gtest.h>

#include <cmath>

#include "detector_test_util.h"
#include "model/decoder.h"
#include "nn/tokens.h"

using namespace sam3;
using namespace sam3::test;

namespace {

bool decoder_key(const std::string& k) {
  return k.rfind("dec.", 0) == 0 || k == "out.anchor_box_offsets" || k == "out.pred_boxes" ||
         k == "out.pred_boxes_xyxy" || k == "out.presence_logit_dec" || k == "out.queries";
}

class DecoderCase : public ::testing::TestWithParam<std::string> {};

TEST_P(DecoderCase, MatchesFixture) {
  const TinyModel& m = tiny_model();
  const std::string name = GetParam();
  TensorFile img = open_fixture("tiny/" + image_of(name) + ".image.safetensors");
  TensorFile c = open_fixture("tiny/" + name + ".safetensors");
  Decoder dec(m.cfg, m.scope("transformer.decoder."));
  const Tensor& pos_nchw = img.get("neck.pos2");
  const int64_t fh = pos_nchw.size(-2), fw = pos_nchw.size(-1);
  DumpCapture cap;
  DecoderOutput out = dec.forward(c.get("enc.memory"), nn::nchw_to_tokens(pos_nchw), fh, fw, fixture_prompt(c),
                                  RunContext{2, nullptr, cap.dumper()});
  TensorFile got = cap.read_back();
  int compared = 0;
  double worst = 0;
  std::string worst_key;
  for (const auto& [key, ref] : c.tensors) {
    if (!decoder_key(key)) continue;
    ASSERT_TRUE(got.has(key)) << key << " was not dumped";
    double ratio = 0;
    EXPECT_TRUE(matches_fixture(got.get(key), ref, &ratio)) << name << " " << key;
    std::printf("%s %-26s max_abs/scale %.3g max_abs %.3g\n", name.c_str(), key.c_str(), ratio,
                compare(got.get(key), ref, 0, 0).max_abs);
    if (ratio > worst) {
      worst = ratio;
      worst_key = key;
    }
    ++compared;
  }
  std::printf("%s: %d tensors, worst max_abs/scale %.3g (%s)\n", name.c_str(), compared, worst, worst_key.c_str());
  EXPECT_EQ(compared, 16);  // every decoder tensor the fixture stores (11 dec.* + 5 out.*)
  // Returned values equal the dumped ones.
  EXPECT_TRUE(tensors_close(out.pred_boxes.reshape({1, -1, 4}), got.get("out.pred_boxes"), 0, 0));
  EXPECT_EQ(out.presence_logit(), got.get("out.presence_logit_dec").f32()[0]);
}

INSTANTIATE_TEST_SUITE_P(Tiny, DecoderCase, ::testing::ValuesIn(fixture_cases()), case_param_name);

TEST(DecoderBoxes, InverseSigmoidClampsAndBoxConversion) {
  EXPECT_NEAR(inverse_sigmoid(0.0f), std::log(1e-3f / 1.0f), 1e-6);
  EXPECT_NEAR(inverse_sigmoid(1.5f), std::log(1.0f / 1e-3f), 1e-6);
  EXPECT_NEAR(inverse_sigmoid(sigmoid(0.7f)), 0.7f, 1e-6);
  const float b[4] = {0.5f, 0.25f, 0.2f, 0.1f};
  float o[4];
  box_cxcywh_to_xyxy(b, o);
  EXPECT_FLOAT_EQ(o[0], 0.4f);
  EXPECT_FLOAT_EQ(o[1], 0.2f);
  EXPECT_FLOAT_EQ(o[2], 0.6f);
  EXPECT_FLOAT_EQ(o[3], 0.3f);
}

TEST(Decoder, RejectsBadInputs) {
  const TinyModel& m = tiny_model();
  TensorFile c = open_fixture("tiny/test_image.case1.safetensors");
  Decoder dec(m.cfg, m.scope("transformer.decoder."));
  const Tensor& mem = c.get("enc.memory");
  EXPECT_THROW(dec.forward(mem, mem, 17, 18, fixture_prompt(c), RunContext{1}), Error);
  EXPECT_THROW(Decoder(m.cfg, m.scope("transformer.encoder.")), Error);
}

}  // namespace
