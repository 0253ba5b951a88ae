// Slow test: the image encoder at the official full size (preset "sam3": 1008² input, 72×72 tokens of 1024, 32
// blocks, 4 global, neck to 288/144/72) on random weights drawn in memory like the golden init. Checks: the RoPE
// buffers made by weights_schema's vit_rope_table (an independent implementation) pass the encoder's freqs_cis
// check; output shapes; finiteness; the scratch arena is exactly what was planned and is returned; peak RSS stays
// under the 4.5 GB goal with no O(L²) buffer. Prints per-stage wall and CPU times.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include "core/arena.h"
#include "core/dump.h"
#include "core/parallel.h"
#include "model/config.h"
#include "model/image_encoder.h"
#include "model/random_checkpoint.h"
#include "model/weights_schema.h"
#include "nn/params.h"

using namespace sam3;

namespace {

// Peak resident set size of this process, GiB.
double peak_rss_gib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / (1024.0 * 1024.0);
  return -1;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Values like the golden init (config.json "init"), uniform with the same standard deviation (fast to draw).
Tensor random_tensor(const TensorSpec& s, uint32_t seed, int n_threads) {
  Tensor t = Tensor::empty(s.shape);
  const int64_t fan_in = s.shape.empty() ? 1 : t.numel() / s.shape[0];
  float mean = 0, sd = 1;
  const InitRule r = init_rule(s);
  switch (r.init) {
    case Init::FanIn:
    case Init::FanInQK: sd = r.gain / std::sqrt(static_cast<float>(fan_in)); break;
    case Init::FanInDim0: sd = r.gain / std::sqrt(static_cast<float>(s.shape[0])); break;
    case Init::Bias:
    case Init::NormBias: sd = 0.1f; break;
    case Init::NormWeight: mean = 1.0f, sd = 0.1f; break;
    case Init::PosEmbed: sd = 0.5f; break;
    default: break;
  }
  const int64_t chunk = 1 << 16, n = t.numel();
  parallel_for(n_threads, (n + chunk - 1) / chunk, [&](int64_t c) {
    std::mt19937 g(seed * 7919u + static_cast<uint32_t>(c));
    std::uniform_real_distribution<float> u(-std::sqrt(3.0f), std::sqrt(3.0f));  // unit variance
    for (int64_t i = c * chunk; i < std::min(n, (c + 1) * chunk); ++i) t.f32()[i] = mean + sd * u(g);
  });
  return t;
}

bool all_finite(const Tensor& t) {
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(t.f32()[i])) return false;
  return true;
}

}  // namespace

TEST(ImageEncoderFullSize, RandomWeightsRunWithinBoundedMemory) {
  const Config cfg = config_preset("sam3");
  const int n_threads = default_thread_count();
  std::map<std::string, Tensor> w;
  uint32_t seed = 1;
  for (const TensorSpec& s : expected_tensors(cfg)) {
    if (s.name.rfind("backbone.vision_backbone.", 0) != 0) continue;
    if (is_rope_buffer(s.name)) {
      const std::string rest = s.name.substr(std::string("backbone.vision_backbone.trunk.blocks.").size());
      w[s.name] = vit_rope_table(cfg, std::stoi(rest.substr(0, rest.find('.'))));
    } else {
      w[s.name] = random_tensor(s, seed++, n_threads);
    }
  }
  const ImageEncoder enc(cfg, nn::ParamScope(w, "random full-size weights"));
  const double rss_weights = peak_rss_gib();

  const int64_t R = cfg.vit.img_size;
  Tensor image = Tensor::empty({1, 3, R, R});
  for (int64_t i = 0; i < image.numel(); ++i) image.f32()[i] = static_cast<float>((i * 37) % 255) / 127.5f - 1.0f;
  Arena arena(enc.scratch_bytes());
  Dumper none;
  ImageFeatures f;
  EncoderTimings t;
  const auto w0 = std::chrono::steady_clock::now();
  const double c0 = cpu_seconds();
  enc.forward(image, f, RunContext{n_threads, &arena, &none}, &t);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  const double cpu = cpu_seconds() - c0;

  ASSERT_EQ(f.fpn.size(), 3u);
  EXPECT_EQ(f.fpn[0].shape(), (Shape{1, 256, 288, 288}));
  EXPECT_EQ(f.fpn[1].shape(), (Shape{1, 256, 144, 144}));
  EXPECT_EQ(f.fpn[2].shape(), (Shape{1, 256, 72, 72}));
  EXPECT_EQ(f.pos[0].shape(), (Shape{1, 256, 288, 288}));
  for (const Tensor& x : f.fpn) EXPECT_TRUE(all_finite(x));
  EXPECT_EQ(arena.used(), 0u);
  EXPECT_LE(arena.peak(), arena.capacity());
  EXPECT_GT(arena.peak(), arena.capacity() / 2);  // the plan is not wildly oversized
  // Weights (1.82 GB of f32 here, owned; mmapped in the real tool) + the arena + outputs; nothing of size L².
  const double rss = peak_rss_gib();
  EXPECT_LT(rss, 4.5);
  EXPECT_LT(rss - rss_weights, 0.75) << "the forward pass needed more than the planned scratch + outputs";

  const EncoderFlops fl = encoder_flops(cfg);
  std::printf("full-size image encoder, %d threads: %.1f s wall, %.1f s CPU, %.1f GFLOP/s (wall)\n"
              "  patch embed %.2f s, windowed blocks %.2f s, global blocks %.2f s, neck %.2f s\n"
              "  scratch arena %.1f MiB; peak RSS %.2f GiB after building the weights, %.2f GiB at the end\n",
              n_threads, wall, cpu, fl.total() / wall * 1e-9, t.vit.patch_embed, t.vit.window_blocks,
              t.vit.global_blocks, t.neck + t.vit.output, static_cast<double>(arena.capacity()) / (1 << 20),
              rss_weights, rss);
}
