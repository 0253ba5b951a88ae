// Slow test: the per-prompt detector head (fusion encoder → decoder → scoring → segmentation head → post-processing)
// at the official full size (preset "sam3": 5184 image tokens, 200 queries, 288² masks) on random weights drawn
// like the golden init (weights_schema Init rules). Checks shapes, finiteness and that the large attention and the
// full-size convolutions run within bounded memory, and prints per-stage wall times (docs/numerics.md quotes them).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include "core/parallel.h"
#include "model/config.h"
#include "model/decoder.h"
#include "model/fusion_encoder.h"
#include "model/postprocess.h"
#include "model/scoring.h"
#include "model/segmentation_head.h"
#include "model/random_checkpoint.h"
#include "model/weights_schema.h"
#include "nn/params.h"

using namespace sam3;

namespace {

bool detector_head_key(const std::string& k) {
  for (const char* p : {"transformer.encoder.", "transformer.decoder.", "dot_prod_scoring.", "segmentation_head."})
    if (k.rfind(p, 0) == 0) return true;
  return false;
}

Tensor random_tensor(const TensorSpec& s, std::mt19937& g) {
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
  std::normal_distribution<float> n(mean, sd);
  for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = n(g);
  return t;
}

Tensor random_input(const Shape& shape, std::mt19937& g, float sd = 1.0f) {
  Tensor t = Tensor::empty(shape);
  std::normal_distribution<float> n(0.0f, sd);
  for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = n(g);
  return t;
}

bool all_finite(const Tensor& t) {
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(t.f32()[i])) return false;
  return true;
}

// Peak resident set size of this process (VmHWM), MiB.
double peak_rss_mib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return -1;
}

// Wall and process-CPU seconds of one stage (the CPU time is the better measure on a shared machine).
struct Stopwatch {
  std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
  double cpu = cpu_seconds();
  static double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  }
  std::string lap() {
    const double w = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
    const double c = cpu_seconds() - cpu;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f s wall / %.2f s cpu", w, c);
    *this = Stopwatch();
    return buf;
  }
};

}  // namespace

TEST(DetectorHeadFullSize, RandomWeightsRunAndTimes) {
  const Config cfg = config_preset("sam3");
  const int n_threads = default_thread_count();
  std::mt19937 g(1234);
  std::map<std::string, Tensor> w;
  for (const TensorSpec& s : expected_tensors(cfg))
    if (detector_head_key(s.name)) w[s.name] = random_tensor(s, g);
  auto scope = [&](const std::string& p) { return nn::ParamScope(w, "random full-size weights", p); };
  FusionEncoder enc(cfg, scope("transformer.encoder."));
  Decoder dec(cfg, scope("transformer.decoder."));
  DotProductScoring scoring(cfg, scope("dot_prod_scoring."));
  SegmentationHead seg(cfg, scope("segmentation_head."));

  const int64_t d = cfg.d_model, G = cfg.vit_grid();  // 256, 72
  std::vector<int> sizes = cfg.fpn_sizes_all();       // 288, 144, 72, 36
  Tensor feat = random_input({1, d, G, G}, g), pos = random_input({1, d, G, G}, g, 0.7f);
  std::vector<Tensor> finer = {random_input({1, d, sizes[0], sizes[0]}, g), random_input({1, d, sizes[1], sizes[1]}, g)};
  const int64_t P = 35;  // 32 text slots (7 real) + 2 boxes + CLS
  Tensor tokens = random_input({P, 1, d}, g), mask = Tensor::zeros({1, P}, DType::U8);
  for (int64_t t = 7; t < 32; ++t) mask.data<uint8_t>()[t] = 1;
  const PromptView prompt{tokens, mask};
  const double rss0 = peak_rss_mib();

  Stopwatch sw;
  FusionEncoderOutput e = enc.forward(feat, pos, prompt, RunContext{n_threads});
  const std::string t_enc = sw.lap();
  DecoderOutput dd = dec.forward(e.memory, e.pos, G, G, prompt, RunContext{n_threads});
  const std::string t_dec = sw.lap();
  Tensor logits = scoring.forward(dd.hs, prompt, RunContext{n_threads});
  const std::string t_score = sw.lap();
  SegmentationOutput so = seg.forward(e.memory, G, G, finer, dd.queries(), prompt, RunContext{n_threads});
  const std::string t_seg = sw.lap();
  const double rss_model = peak_rss_mib();
  DetectorOutputs o{logits.slice0(logits.size(0) - 1, logits.size(0)).reshape({-1}), dd.presence_logit(),
                    dd.pred_boxes, so.pred_masks, so.semantic_seg};
  Detections det = postprocess(o, 0.0f, 1080, 1920, n_threads);  // threshold 0: all 200 masks, 1920x1080
  const std::string t_post = sw.lap();

  std::printf("full-size detector head, %d threads:\n  fusion encoder    %s\n  decoder           %s\n"
              "  scoring           %s\n  segmentation head %s\n  post-process      %s (%zu masks to 1920x1080)\n"
              "  peak RSS %.0f MiB before the forward, %.0f MiB after the heads, %.0f MiB after post-processing\n",
              n_threads, t_enc.c_str(), t_dec.c_str(), t_score.c_str(), t_seg.c_str(), t_post.c_str(),
              det.keep.size(), rss0, rss_model, peak_rss_mib());

  EXPECT_EQ(e.memory.shape(), (Shape{G * G, d}));
  EXPECT_EQ(dd.hs.shape(), (Shape{cfg.decoder.num_layers, cfg.decoder.num_queries, d}));
  EXPECT_EQ(so.pred_masks.shape(), (Shape{cfg.decoder.num_queries, sizes[0], sizes[0]}));
  EXPECT_EQ(det.keep.size(), static_cast<size_t>(cfg.decoder.num_queries));
  for (const Tensor* t : {&e.memory, &dd.hs, &dd.pred_boxes, &logits, &so.pred_masks, &so.semantic_seg})
    EXPECT_TRUE(all_finite(*t));
  // One materialised 8×5184² attention matrix alone would be 860 MiB; the whole head (the 288² feature maps and
  // the 200 mask-logit maps, ~70-85 MiB each) stays well under that on top of the inputs and weights.
  EXPECT_LT(rss_model - rss0, 800.0);
}
