// sam3.cpp — shared helpers for the detector-head module tests (fusion encoder, decoder, scoring, mask head,
// post-processing): the tiny config and checkpoint, the 10 fixture cases, and reading back a Dumper's output.
#pragma once
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/dump.h"
#include "core/error.h"
#include "fixture.h"
#include "io/safetensors.h"
#include "io/weight_file.h"
#include "model/config.h"
#include "model/fusion_encoder.h"
#include "nn/params.h"

namespace sam3::test {

// Every prompt case of the tiny fixtures: "<image>.case<k>" for both images, k = 1..5.
inline std::vector<std::string> detector_cases() {
  std::vector<std::string> v;
  for (const char* img : {"test_image", "groceries"})
    for (int k = 1; k <= 5; ++k) v.push_back(std::string(img) + ".case" + std::to_string(k));
  return v;
}
// GoogleTest parameter name for a case ("test_image_case1").
inline std::string case_param_name(const ::testing::TestParamInfo<std::string>& param_info) {
  std::string s = param_info.param;
  for (auto& ch : s)
    if (ch == '.') ch = '_';
  return s;
}
inline std::string image_of(const std::string& case_name) { return case_name.substr(0, case_name.find('.')); }

// The tiny model, loaded once per test binary (the mapping stays alive for the whole run).
struct TinyModel {
  Config cfg;
  WeightFile weights;
  nn::ParamScope scope(const std::string& prefix) const {
    return nn::ParamScope(weights.tensors, golden_path("tiny/sam3_random.pt"), prefix);
  }
};
inline const TinyModel& tiny_model() {
  static const TinyModel* m = [] {
    auto* t = new TinyModel;
    t->cfg = load_config_file(golden_path("tiny/config.json"));
    t->weights = load_weight_file(golden_path("tiny/sam3_random.pt"));
    return t;
  }();
  return *m;
}

// The standard detector-head tolerance (docs/numerics.md, "Detector head"): element-wise
//   |ours - ref| <= kAtolScale·max|ref| + kAtolFloor + kRtol·|ref|.
// kAtolScale: 10× the largest max_abs/scale measured on any detector tensor (≈2e-7..3e-6); kAtolFloor: the
// reference's own noise on O(1) operands, for values that are small only through cancellation (e.g. a presence
// logit of 0.018 computed from terms of size ~1).
constexpr double kAtolScale = 2e-6, kAtolFloor = 1e-6, kRtol = 1e-5;
inline ::testing::AssertionResult matches_fixture(const Tensor& actual, const Tensor& ref, double* ratio = nullptr) {
  const CompareStats s = compare(actual, ref, 0, 0);
  if (ratio) *ratio = s.ref_scale > 0 ? s.max_abs / s.ref_scale : s.max_abs;
  return tensors_close(actual, ref, kAtolScale * s.ref_scale + kAtolFloor, kRtol);
}

// The fixture's prompt for a case (prompt.tokens (P,1,d), prompt.mask (1,P)).
inline PromptView fixture_prompt(const TensorFile& c) { return PromptView{c.get("prompt.tokens"), c.get("prompt.mask")}; }

// A Dumper writing into a fresh temporary directory; read_back() flushes it and returns the tensors.
class DumpCapture {
 public:
  DumpCapture() {
    char tmpl[] = "/tmp/sam3_detector_dump_XXXXXX";
    const char* d = mkdtemp(tmpl);
    if (!d) throw std::runtime_error("mkdtemp failed");
    dir_ = d;
    dumper_ = std::make_unique<Dumper>(dir_);
  }
  ~DumpCapture() {
    std::remove((dir_ + "/capture.safetensors").c_str());
    std::remove(dir_.c_str());
  }
  Dumper* dumper() { return dumper_.get(); }
  TensorFile read_back() {
    dumper_->flush("capture");
    return read_safetensors(dir_ + "/capture.safetensors");
  }

 private:
  std::string dir_;
  std::unique_ptr<Dumper> dumper_;
};

}  // namespace sam3::test
