// Module test: the fusion encoder against the fixtures, all 10 cases (enc.layer*, enc.memory). Inputs are the
// fixture's own neck.fpn2 / neck.pos2 and prompt.tokens / prompt.mask, so only the encoder is under test.
// Tolerances: docs/numerics.md, "Detector head".
#include <gtest/gtest.h>

#include <cstring>

#include "detector_test_util.h"
#include "model/fusion_encoder.h"

using namespace sam3;
using namespace sam3::test;

namespace {

class FusionEncoderCase : public ::testing::TestWithParam<std::string> {};

TEST_P(FusionEncoderCase, MatchesFixture) {
  const TinyModel& m = tiny_model();
  const std::string name = GetParam();
  TensorFile img = open_fixture("tiny/" + image_of(name) + ".image.safetensors");
  TensorFile c = open_fixture("tiny/" + name + ".safetensors");
  FusionEncoder enc(m.cfg, m.scope("transformer.encoder."));
  DumpCapture cap;
  FusionEncoderOutput out = enc.forward(img.get("neck.fpn2"), img.get("neck.pos2"), fixture_prompt(c), RunContext{2, nullptr, cap.dumper()});
  TensorFile got = cap.read_back();
  int compared = 0;
  for (const auto& [key, ref] : c.tensors) {
    if (key.rfind("enc.", 0) != 0) continue;
    ASSERT_TRUE(got.has(key)) << key << " was not dumped";
    double ratio = 0;
    EXPECT_TRUE(matches_fixture(got.get(key), ref, &ratio)) << name << " " << key;
    std::printf("%s %-12s max_abs/scale %.3g\n", name.c_str(), key.c_str(), ratio);
    ++compared;
  }
  EXPECT_EQ(compared, m.cfg.encoder.num_layers);  // enc.layer0..L-2 and enc.memory
  EXPECT_TRUE(tensors_close(out.memory.reshape({-1, 1, m.cfg.d_model}), got.get("enc.memory"), 0, 0));

  // Starting from the image-only prefix (what prompts on one image share) gives the same memory, bit for bit.
  const Tensor prefix = enc.image_prefix(img.get("neck.fpn2"), img.get("neck.pos2"), RunContext{2});
  const FusionEncoderOutput from_prefix =
      enc.forward(img.get("neck.fpn2"), img.get("neck.pos2"), fixture_prompt(c), RunContext{2}, &prefix);
  ASSERT_EQ(from_prefix.memory.shape(), out.memory.shape());
  EXPECT_EQ(0, std::memcmp(from_prefix.memory.f32(), out.memory.f32(),
                           static_cast<size_t>(out.memory.numel()) * sizeof(float)));
}

INSTANTIATE_TEST_SUITE_P(Tiny, FusionEncoderCase, ::testing::ValuesIn(fixture_cases()), case_param_name);

TEST(FusionEncoder, RejectsBadInputs) {
  const TinyModel& m = tiny_model();
  TensorFile img = open_fixture("tiny/test_image.image.safetensors");
  TensorFile c = open_fixture("tiny/test_image.case1.safetensors");
  FusionEncoder enc(m.cfg, m.scope("transformer.encoder."));
  EXPECT_THROW(enc.forward(img.get("neck.fpn1"), img.get("neck.pos2"), fixture_prompt(c), RunContext{1}), Error);
  PromptView bad{c.get("prompt.tokens"), c.get("text.language_mask")};
  EXPECT_THROW(enc.forward(img.get("neck.fpn2"), img.get("neck.pos2"), bad, RunContext{1}), Error);
  EXPECT_THROW(FusionEncoder(m.cfg, m.scope("transformer.decoder.")), Error);
  const Tensor wrong = Tensor::zeros({3, m.cfg.d_model});  // a prefix of another image size
  EXPECT_THROW(enc.forward(img.get("neck.fpn2"), img.get("neck.pos2"), fixture_prompt(c), RunContext{1}, &wrong),
               Error);
}

}  // namespace
