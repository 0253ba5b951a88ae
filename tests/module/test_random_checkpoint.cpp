// Random checkpoints: a tiny-config file in the official layout loads and validates strictly, its RoPE tables are the
// exact buffers, its values follow the init rules, and it is reproducible for any thread count.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "core/error.h"
#include "fixture.h"
#include "io/weight_file.h"
#include "model/config.h"
#include "model/random_checkpoint.h"
#include "model/weights_schema.h"

namespace sam3 {
namespace {

Config tiny_config() { return load_config_file(test::golden_path("tiny/config.json")); }

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "sam3_random_ckpt_" + std::to_string(::getpid()) + "_" + name;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Moments {
  double mean = 0, std = 0;
};
Moments moments(const float* v, int64_t n) {
  double s = 0, s2 = 0;
  for (int64_t i = 0; i < n; ++i) {
    s += v[i];
    s2 += static_cast<double>(v[i]) * v[i];
  }
  Moments m;
  m.mean = s / static_cast<double>(n);
  m.std = std::sqrt(std::max(0.0, s2 / static_cast<double>(n) - m.mean * m.mean));
  return m;
}

class RandomCheckpoint : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const auto& p : paths_) std::remove(p.c_str());
  }
  std::string write(const std::string& name, const RandomCheckpointOptions& opt) {
    const std::string p = temp_path(name);
    paths_.push_back(p);
    stats_ = write_random_checkpoint(p, tiny_config(), opt);
    return p;
  }
  std::vector<std::string> paths_;
  RandomCheckpointStats stats_;
};

TEST_F(RandomCheckpoint, TinyLoadsAndValidatesStrictly) {
  RandomCheckpointOptions opt;
  opt.seed = 42;
  opt.n_threads = 2;
  const std::string path = write("tiny.pt", opt);
  const Config c = tiny_config();
  EXPECT_EQ(stats_.parameters, 4497742);
  EXPECT_EQ(stats_.tensors, 320 + 22 + 3);  // image model + sam2_convs copy of the neck + tracker keys

  const WeightFile wf = load_weight_file(path);
  EXPECT_EQ(wf.format, "torch");
  EXPECT_NO_THROW(validate_weights(c, wf));
  EXPECT_EQ(wf.tensors.size(), 320u);
  int sam2 = 0, tracker = 0;
  for (const auto& k : wf.skipped) {
    sam2 += k.rfind("detector.backbone.vision_backbone.sam2_convs.", 0) == 0;
    tracker += k.rfind("tracker.", 0) == 0;
  }
  EXPECT_EQ(sam2, 22);
  EXPECT_EQ(tracker, 3);
  EXPECT_EQ(wf.skipped.size(), 25u);

  // RoPE buffers: exactly the deterministic tables.
  for (int b = 0; b < c.vit.depth; ++b) {
    const Tensor& t = wf.tensors.at("backbone.vision_backbone.trunk.blocks." + std::to_string(b) + ".attn.freqs_cis");
    const Tensor ref = vit_rope_table(c, b);
    ASSERT_EQ(t.shape(), ref.shape());
    EXPECT_EQ(std::memcmp(t.raw(), ref.raw(), ref.nbytes()), 0) << "block " << b;
  }

  // Values: element i is random_init_value(spec, seed, i); moments follow the init rules. Each std is checked to
  // 10%: with n >= 4096 samples the standard error of a sample std is < 1.2%, so 10% cannot fail by chance but
  // catches a wrong fan-in (the closest alternative, e.g. 64 vs 296, is a factor >= 2).
  double norm_sum = 0;
  int64_t norm_n = 0;
  for (const TensorSpec& s : expected_tensors(c)) {
    const InitRule r = init_rule(s);
    if (r.init == Init::Rope) continue;
    const Tensor& t = wf.tensors.at(s.name);
    const float* v = t.data<float>();
    const int64_t n = t.numel();
    for (int64_t i : {int64_t{0}, n / 2, n - 1}) EXPECT_EQ(v[i], random_init_value(s, 42, i)) << s.name << "[" << i << "]";
    if (r.init == Init::NormWeight) {
      for (int64_t i = 0; i < n; ++i) norm_sum += v[i];
      norm_n += n;
    }
    if (n < 4096) continue;
    const int64_t rows = s.shape[0], fan = n / rows;
    double expect_std = 0;
    switch (r.init) {
      case Init::FanIn: expect_std = r.gain / std::sqrt(static_cast<double>(fan)); break;
      case Init::FanInDim0: expect_std = r.gain / std::sqrt(static_cast<double>(rows)); break;
      case Init::Embedding: expect_std = 1.0; break;
      case Init::PosEmbed: expect_std = 0.5; break;
      case Init::FanInQK: {
        const int64_t qk = rows / 3 * 2 * fan;
        const Moments q = moments(v, qk), val = moments(v + qk, n - qk);
        EXPECT_NEAR(q.std, 1.5 / std::sqrt(static_cast<double>(fan)), 0.1 * q.std) << s.name;
        EXPECT_NEAR(val.std, 1.0 / std::sqrt(static_cast<double>(fan)), 0.1 * val.std) << s.name;
        continue;
      }
      default: continue;
    }
    const Moments m = moments(v, n);
    EXPECT_NEAR(m.std, expect_std, 0.1 * expect_std) << s.name;
    EXPECT_NEAR(m.mean, 0.0, 0.1 * expect_std) << s.name;
  }
  ASSERT_GT(norm_n, 1000);
  EXPECT_NEAR(norm_sum / static_cast<double>(norm_n), 1.0, 0.02);  // 1 + N(0, 0.1): SE 0.1/sqrt(n) < 0.003
}

TEST_F(RandomCheckpoint, ReproducibleForAnyThreadCount) {
  RandomCheckpointOptions a;
  a.seed = 5;
  a.n_threads = 1;
  RandomCheckpointOptions b = a;
  b.n_threads = 2;
  RandomCheckpointOptions other = a;
  other.seed = 6;
  // Same path each time: the zip's folder name comes from the file name.
  const std::string ba = file_bytes(write("same.pt", a));
  const std::string bb = file_bytes(write("same.pt", b));
  const std::string bo = file_bytes(write("same.pt", other));
  ASSERT_GT(ba.size(), 1000000u);
  EXPECT_TRUE(ba == bb) << "thread count changed the file";
  ASSERT_EQ(ba.size(), bo.size());
  EXPECT_FALSE(ba == bo) << "seed did not change the file";
}

TEST_F(RandomCheckpoint, WithoutExtraKeysAndInvalidConfig) {
  RandomCheckpointOptions opt;
  opt.extra_keys = false;
  const WeightFile wf = load_weight_file(write("plain.pt", opt));
  EXPECT_TRUE(wf.skipped.empty());
  EXPECT_NO_THROW(validate_weights(tiny_config(), wf));

  Config bad = tiny_config();
  bad.vit.num_heads = 5;
  paths_.push_back(temp_path("bad.pt"));
  EXPECT_THROW(write_random_checkpoint(paths_.back(), bad, opt), Error);
}

}  // namespace
}  // namespace sam3
