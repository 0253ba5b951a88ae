// Module test: the whole per-prompt model (Sam3Image::encode_prompt + forward_grounding) on the REFERENCE kernels
// (RunContext::backend = Backend::Ref), all 10 cases, from each image's fixture neck levels. Every intermediate the
// case file holds (text.*, geo.*, prompt.*, enc.*, dec.*, score.*, seg.*, out.*) is compared, so this checks both
// that ops.cpp dispatches every op to a reference kernel and that those kernels compute the model.
// Tolerances (docs/numerics.md): "Prompt encoders" (atol 1e-5 × max|ref|) for text.*, geo.*, prompt.*; "Detector
// head" (detector_test_util.h) for the rest. The final outputs are also compared with the optimised back end's.
#include <gtest/gtest.h>

#include "detector_test_util.h"
#include "model/sam3_image.h"

using namespace sam3;
using namespace sam3::test;

namespace {

constexpr double kPromptRelScale = 1e-5;  // docs/numerics.md, "Prompt encoders"

bool starts_with(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

class RefBackendCase : public ::testing::TestWithParam<std::string> {};

TEST_P(RefBackendCase, WholePromptPathMatchesFixture) {
  const TinyModel& m = tiny_model();
  // One model per back end, so that each one's text cache holds only what that back end computed.
  static const Sam3Image model(m.cfg, m.root()), cpu_model(m.cfg, m.root());
  const std::string name = GetParam();
  TensorFile img = open_fixture("tiny/" + image_of(name) + ".image.safetensors");
  TensorFile c = open_fixture("tiny/" + name + ".safetensors");
  const ImageFeatures features = fixture_features(m, img);
  const std::vector<int64_t> ids = fixture_ids(c);
  const std::vector<BoxPrompt> boxes = fixture_boxes(c);

  DumpCapture cap;
  const RunContext ref_ctx{1, nullptr, cap.dumper(), Backend::Ref};
  ImagePromptCache fresh;
  // The text cache is per model: only the first case of each text records text.* (a cached text computes nothing),
  // and the comparison below takes what was recorded.
  const EncodedPrompt p = model.encode_prompt(ids, boxes, features, fresh, ref_ctx);
  const DetectorOutputs ref_out = model.forward_grounding(features, p, fresh, ref_ctx);
  TensorFile got = cap.read_back();

  int compared = 0;
  for (const auto& [key, want] : c.tensors) {
    if (starts_with(key, "geo.in.") || starts_with(key, "final.") || starts_with(key, "text.token_ids") ||
        !got.has(key))
      continue;
    const Tensor& ours = got.get(key);
    ASSERT_EQ(ours.numel(), want.numel()) << key;
    if (starts_with(key, "text.") || starts_with(key, "geo.") || starts_with(key, "prompt.")) {
      const CompareStats s = compare(ours, want, 0, 0);
      EXPECT_TRUE(tensors_close(ours, want, kPromptRelScale * s.ref_scale, 0)) << name << " " << key;
    } else {
      EXPECT_TRUE(matches_fixture(ours, want)) << name << " " << key;
    }
    ++compared;
  }
  EXPECT_GE(compared, 30) << "the reference run should dump the case's intermediates";

  // The optimised back end on the same inputs agrees with the reference one on the outputs.
  ImagePromptCache fresh_cpu;
  const RunContext cpu_ctx{2};
  const DetectorOutputs cpu_out =
      cpu_model.forward_grounding(features, cpu_model.encode_prompt(ids, boxes, features, fresh_cpu, cpu_ctx),
                                  fresh_cpu, cpu_ctx);
  EXPECT_TRUE(matches_fixture(cpu_out.pred_logits, ref_out.pred_logits)) << name;
  EXPECT_TRUE(matches_fixture(cpu_out.pred_boxes, ref_out.pred_boxes)) << name;
  EXPECT_TRUE(matches_fixture(cpu_out.pred_masks, ref_out.pred_masks)) << name;
}

INSTANTIATE_TEST_SUITE_P(Tiny, RefBackendCase, ::testing::ValuesIn(fixture_cases()), case_param_name);

}  // namespace
