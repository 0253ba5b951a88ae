// Shared helpers for the prompt-encoder module tests (test_text_encoder, test_geometry_encoder): the tiny model's
// config and weights, the ten fixture cases, and a scratch dump directory.
#pragma once
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "core/dump.h"
#include "fixture.h"
#include "io/safetensors.h"
#include "io/weight_file.h"
#include "model/config.h"
#include "nn/params.h"

namespace sam3::test {

struct TinyModel {
  Config cfg;
  WeightFile weights;
  nn::ParamScope root() const { return nn::ParamScope(weights.tensors, golden_path("tiny/sam3_random.pt")); }
};

inline const TinyModel& tiny_model() {
  static const TinyModel m = [] {
    TinyModel t;
    t.cfg = load_config_file(golden_path("tiny/config.json"));
    t.weights = load_weight_file(golden_path("tiny/sam3_random.pt"));
    return t;
  }();
  return m;
}

// The ten prompt cases: "<image>.case<k>" for both images and k = 1..5.
inline std::vector<std::string> fixture_cases() {
  std::vector<std::string> v;
  for (const char* img : {"test_image", "groceries"})
    for (int k = 1; k <= 5; ++k) v.push_back(std::string(img) + ".case" + std::to_string(k));
  return v;
}

// A fresh directory under $TMPDIR (or /tmp) for Dumper output, removed (with its files) on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/sam3_prompt_test_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
    path_ = buf.data();
  }
  ~TempDir() {
    for (const auto& f : files_) std::remove((path_ + "/" + f).c_str());
    rmdir(path_.c_str());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Path of <stage>.safetensors inside, remembered for cleanup.
  std::string stage_file(const std::string& stage) {
    files_.push_back(stage + ".safetensors");
    return path_ + "/" + files_.back();
  }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

}  // namespace sam3::test
