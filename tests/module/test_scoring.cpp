// Module test: DotProductScoring against the fixtures, all 10 cases (score.prompt_mlp, score.dot_prod_logits,
// out.pred_logits), from the fixture's dec.hs and prompt. Tolerances: docs/numerics.md (Detector head).
#include <gtest/gtest.h>

#include <cmath>

#include "detector_test_util.h"
#include "model/scoring.h"

using namespace sam3;
using namespace sam3::test;

namespace {

class ScoringCase : public ::testing::TestWithParam<std::string> {};

TEST_P(ScoringCase, MatchesFixture) {
  const TinyModel& m = tiny_model();
  const std::string name = GetParam();
  TensorFile c = open_fixture("tiny/" + name + ".safetensors");
  DotProductScoring sc(m.cfg, m.scope("dot_prod_scoring."));
  const Tensor& hs = c.get("dec.hs");  // (L,Q,1,d)
  DumpCapture cap;
  Tensor logits = sc.forward(hs.reshape({hs.size(0), hs.size(1), hs.size(3)}), fixture_prompt(c), RunContext{2, nullptr, cap.dumper()});
  TensorFile got = cap.read_back();
  for (const char* key : {"score.prompt_mlp", "score.dot_prod_logits", "out.pred_logits"}) {
    double ratio = 0;
    EXPECT_TRUE(matches_fixture(got.get(key), c.get(key), &ratio)) << name << " " << key;
    std::printf("%s %-22s max_abs/scale %.3g\n", name.c_str(), key, ratio);
  }
  EXPECT_TRUE(tensors_close(logits.reshape({hs.size(0), 1, hs.size(1), 1}), got.get("score.dot_prod_logits"), 0, 0));
}

INSTANTIATE_TEST_SUITE_P(Tiny, ScoringCase, ::testing::ValuesIn(fixture_cases()), case_param_name);

TEST(Scoring, ClampsAndRejectsBadInputs) {
  const TinyModel& m = tiny_model();
  TensorFile c = open_fixture("tiny/test_image.case1.safetensors");
  DotProductScoring sc(m.cfg, m.scope("dot_prod_scoring."));
  // Queries scaled up by 1e4 give logits far beyond ±12: every one must be clamped exactly to ±12.
  const Tensor& hs = c.get("dec.hs");
  Tensor big = hs.clone().reshape({hs.size(0), hs.size(1), hs.size(3)});
  for (int64_t i = 0; i < big.numel(); ++i) big.f32()[i] *= 1e4f;
  Tensor logits = sc.forward(big, fixture_prompt(c), RunContext{1});
  for (int64_t i = 0; i < logits.numel(); ++i) EXPECT_EQ(std::fabs(logits.f32()[i]), 12.0f) << i;
  EXPECT_THROW(sc.forward(hs, fixture_prompt(c), RunContext{1}), Error);  // 4-D hs
}

}  // namespace
