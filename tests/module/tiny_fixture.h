// sam3.cpp — shared helpers for the module tests that run the tiny fixtures: the tiny config and checkpoint (loaded
// once per test binary), the ten prompt cases, GoogleTest parameter names, and a scratch directory.
#pragma once
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "fixture.h"
#include "io/weight_file.h"
#include "model/config.h"
#include "model/geometry_encoder.h"
#include "nn/params.h"

namespace sam3::test {

// The tiny model, loaded once per test binary (the mapping stays alive for the whole run).
struct TinyModel {
  Config cfg;
  WeightFile weights;
  nn::ParamScope root() const { return nn::ParamScope(weights.tensors, golden_path("tiny/sam3_random.pt")); }
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

// The ten prompt cases: "<image>.case<k>" for both images and k = 1..5.
inline std::vector<std::string> fixture_cases() {
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

// A fresh directory under $TMPDIR (or /tmp), removed with the files named through file() on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/sam3_module_test_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
    path_ = buf.data();
  }
  ~TempDir() {
    for (const auto& f : files_) std::remove(f.c_str());
    rmdir(path_.c_str());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Path of `name` inside, remembered for cleanup.
  std::string file(const std::string& name) {
    files_.push_back(path_ + "/" + name);
    return files_.back();
  }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

// A case's prompt inputs as the processor passes them: the token ids (text.token_ids) and the exemplar boxes
// (geo.in.box_cxcywh / box_labels / box_mask, never padded).
inline std::vector<int64_t> fixture_ids(const TensorFile& f) {
  const Tensor& t = f.get("text.token_ids");
  EXPECT_EQ(t.dtype(), DType::I64);
  return std::vector<int64_t>(t.data<int64_t>(), t.data<int64_t>() + t.numel());
}

inline std::vector<BoxPrompt> fixture_boxes(const TensorFile& f) {
  const Tensor& b = f.get("geo.in.box_cxcywh");  // [N, 1, 4]
  const Tensor& l = f.get("geo.in.box_labels");  // [N, 1] I64
  const Tensor& m = f.get("geo.in.box_mask");    // [1, N] U8
  EXPECT_EQ(b.dtype(), DType::F32);
  EXPECT_EQ(l.dtype(), DType::I64);
  const int64_t n = b.size(0);
  EXPECT_EQ(l.numel(), n);
  EXPECT_EQ(m.numel(), n);
  std::vector<BoxPrompt> v;
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_EQ(m.data<uint8_t>()[i], 0) << "the processor never pads boxes";
    const float* p = b.f32() + i * 4;
    v.push_back(BoxPrompt{p[0], p[1], p[2], p[3], l.data<int64_t>()[i] != 0});
  }
  return v;
}

}  // namespace sam3::test
