// sam3.cpp — per-prompt stages of `sam3 bench`: one prompt on a cached image embedding, stage by stage (text encoder
// uncached and cached, geometry encoder, fusion encoder, decoder, scoring, segmentation head, post-processing), each
// with its analytic FLOPs and GFLOP/s, against the sgemm rate measured in the same run. The embedding is synthetic
// (smooth values in the used FPN levels' shapes): the work of a prompt does not depend on the pixels.
#include <stdlib.h>  // getloadavg

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "api/internal.h"
#include "commands.h"
#include "model/image_embedding.h"

namespace sam3::cli {

namespace {

// Analytic FLOPs (2 × multiply-adds of the matrix products and attention; element-wise work not counted) of one
// prompt with P prompt tokens, for a config. For the preset (≈ 443 GFLOP with the text encoder).
struct PromptFlops {
  double text = 0, geometry = 0, fusion = 0, decoder = 0, scoring = 0, mask_head = 0;
  double fusion_prefix = 0;  // layer 0's self-attention, computed by the first prompt on an image only
  double mask_prefix = 0;    // the pixel decoder's image terms (conv3x3 of the neck levels), first prompt only
  double model_per_prompt = 0;  // what the model defines per prompt, the pixel decoder's convs whole (the goal's count)
  double per_prompt() const { return geometry + fusion + decoder + scoring + mask_head; }  // text cached
};

PromptFlops prompt_flops(const Config& c, int64_t boxes) {
  PromptFlops f;
  const double d = c.d_model, L = c.text.context_length, W = c.text.width;
  const double P = L + static_cast<double>(boxes) + 1;
  const double s = c.vit_grid(), HW = s * s;  // the detector's image level (72² for the preset)
  // Text: per layer qkv 3W², out W², MLP 2·W·hidden, attention 2·L²·W; then the resizer W→d.
  f.text = c.text.layers * (2 * L * (4 * W * W + 2 * W * c.text_mlp_hidden()) + 4 * L * L * W) + 2 * L * W * d;
  // Geometry: per layer the K/V projections of the image tokens dominate (+ the box tokens' own small products).
  const double G = static_cast<double>(boxes) + 1, roi = c.geometry.roi_size;
  f.geometry = c.geometry.num_layers * (4 * HW * d * d + 2 * G * (6 * d * d + 2 * d * c.geometry.dim_feedforward) +
                                        4 * G * (G + HW) * d) +
               2 * static_cast<double>(boxes) * d * (d * roi * roi + d + 2 + 4) + 2 * G * d * d;
  // Fusion encoder, per layer: self-attention (q, k, v, out projections + 5184² attention), cross-attention to
  // the prompt, FFN; less layer 0's self-attention, which the first prompt on an image computes for all of them.
  f.fusion_prefix = 8 * HW * d * d + 4 * HW * HW * d;
  f.fusion = c.encoder.num_layers * (8 * HW * d * d + 4 * HW * HW * d + 4 * HW * d * d + 4 * P * d * d +
                                     4 * HW * P * d + 4 * HW * d * c.encoder.dim_feedforward) -
             f.fusion_prefix;
  // Decoder, per layer (Q queries + presence): self-attn, text cross-attn, image cross-attn (K/V of the memory),
  // FFN, query-pos MLP, box-RPB MLPs (2 axes × s positions × Q), box head.
  const double Q = c.decoder.num_queries, T = Q + 1;
  f.decoder = c.decoder.num_layers *
              (8 * T * d * d + 4 * T * T * d + 4 * T * d * d + 4 * P * d * d + 4 * T * P * d + 4 * T * d * d +
               4 * HW * d * d + 4 * T * HW * d + 4 * T * d * c.decoder.dim_feedforward + 2 * Q * (2 * d * d + d * d) +
               2 * 2 * Q * s * (2 * d + d * c.decoder.num_heads) + 2 * Q * (2 * d * d + 4 * d));
  // Scoring: prompt MLP on P tokens, hs_proj on every layer's queries.
  f.scoring = 4 * P * d * c.scoring.prompt_mlp_hidden + 2 * d * c.scoring.d_proj +
              2 * c.decoder.num_layers * Q * d * c.scoring.d_proj;
  // Segmentation head: prompt cross-attention, 3×3 convs of the pixel decoder stages, 1×1 instance and semantic
  // heads, mask-embed MLP, the mask einsum. Each stage's conv is split (SegmentationHead::image_terms): its
  // neck-level half (9 taps) once per image, the prompt's half on the map before the 2× up-sampling (4 taps).
  const std::vector<int> sizes = c.fpn_sizes_all();
  double convs = 0;
  for (int i = 0; i + 1 < c.fpn_levels_used(); ++i) convs += 2.0 * sizes[i] * sizes[i] * d * d * 9;
  const double M = static_cast<double>(sizes[0]) * sizes[0];
  const double rest = 4 * HW * d * d + 4 * P * d * d + 4 * HW * P * d + 2 * M * d * d + 2 * M * d + 6 * Q * d * d +
                      2 * Q * d * M;
  f.mask_head = rest + convs * 4 / 9;
  f.mask_prefix = convs;
  f.model_per_prompt = f.geometry + f.fusion + f.decoder + f.scoring + rest + convs;
  return f;
}

// A synthetic embedding in the model's level shapes: smooth values of unit scale.
ImageEmbedding synthetic_embedding(const Model& model, int width, int height) {
  const Config& cfg = model.impl().config;
  auto impl = std::make_shared<ImageEmbedding::Impl>();
  impl->features.config_name = cfg.name;
  impl->features.image_width = width;
  impl->features.image_height = height;
  auto fill = [](const Shape& s, float phase) {
    Tensor t = Tensor::empty(s);
    float* p = t.f32();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = std::sin(0.37f * static_cast<float>(i % 9973) + phase);
    return t;
  };
  for (const Shape& s : image_feature_shapes(cfg)) impl->features.fpn.push_back(fill(s, 0.1f));
  for (const Shape& s : image_pos_shapes(cfg)) impl->features.pos.push_back(fill(s, 1.3f));
  return ImageEmbedding(std::move(impl));
}

}  // namespace

void bench_prompt_stages(std::shared_ptr<const Model> model, int n_threads, double rate_before,
                         const std::function<double()>& measure_rate, const char* rate_name, int runs) {
  const int W = 1280, H = 720;  // a common photo size: sets the cost of mask up-sampling
  ImageState state(model);
  state.set_embedding(synthetic_embedding(*model, W, H));
  SegmentParams sp = segment_default_params();
  sp.n_threads = n_threads;
  sp.threshold = 0.0f;
  const Prompt text_only{"a yellow school bus", {}};
  Prompt with_box{"a yellow school bus", {PromptBox::from_xyxy(400, 200, 900, 600, W, H)}};

  // First call: uncached text (and the per-image box-free geometry), every query kept (the worst case of
  // post-processing). Then `runs` calls with everything cached at a threshold that keeps 5 queries, a typical prompt.
  const PromptResult first = segment(state, text_only, sp);
  std::vector<float> sorted = first.probs;
  std::sort(sorted.begin(), sorted.end(), std::greater<float>());
  sp.threshold = sorted.size() > 5 ? sorted[5] : 0.0f;
  PromptTimings best;
  best.total_ms = 1e30;
  size_t kept = 0;
  for (int r = 0; r < std::max(1, runs); ++r) {
    const PromptResult res = segment(state, text_only, sp);
    std::fprintf(stderr, "prompt run %d: %.2f s\n", r + 1, res.timings.total_ms * 1e-3);
    if (res.timings.total_ms < best.total_ms) best = res.timings, kept = res.instances.size();
  }
  PromptResult boxed;  // the goal's prompt: best of `runs` too
  for (int r = 0; r < std::max(1, runs); ++r) {
    PromptResult res = segment(state, with_box, sp);
    if (r == 0 || res.timings.total_ms - res.timings.text_ms < boxed.timings.total_ms - boxed.timings.text_ms)
      boxed = std::move(res);
  }
  // Several prompts in one call (new texts; they share the image's fusion-encoder prefix).
  std::vector<Prompt> eight;
  for (const char* t : {"a red car", "a dog", "a person", "a bicycle", "a traffic light", "a tree", "a cup", "a cat"})
    eight.push_back(Prompt{t, {}});
  const SegmentResult several = segment(state, eight, sp);
  // Its baseline: one more new text under the same conditions (warm state, same threshold). The first call above is
  // no baseline: it also pays the per-image prefix, the box-free geometry, 200 kept masks and, on a cold page
  // cache, the first reads of the weights.
  const PromptResult one_new = segment(state, Prompt{"a green bench", {}}, sp);
  const PromptResult rethr = rethreshold(first, 0.5f, n_threads);
  double load[3] = {0, 0, 0};
  const bool has_load = getloadavg(load, 3) == 3;
  const double rate_after = measure_rate();
  const double rate_gflops = std::max(rate_before, rate_after);
  std::printf("matmul 5184x4736x1024 %s: %.1f GFLOP/s before the prompt runs, %.1f after; the ratios use %.1f\n",
              rate_name, rate_before, rate_after, rate_gflops);

  const Config& cfg = model->impl().config;
  const PromptFlops f = prompt_flops(cfg, 0), fb = prompt_flops(cfg, 1);
  auto row = [](const char* name, double ms, double flop) {
    if (flop > 0)
      std::printf("  %-24s %9.3f %10.1f %9.1f\n", name, ms * 1e-3, flop * 1e-9, ms > 0 ? flop / (ms * 1e-3) * 1e-9 : 0);
    else
      std::printf("  %-24s %9.3f %10s %9s\n", name, ms * 1e-3, "-", "-");
  };
  std::printf("one prompt on a cached %dx%d image embedding, %d thread%s, best of %d run%s (%zu of %zu queries kept):\n",
              W, H, n_threads, n_threads == 1 ? "" : "s", std::max(1, runs), runs == 1 ? "" : "s", kept,
              first.probs.size());
  std::printf("  %-24s %9s %10s %9s\n", "stage", "time (s)", "GFLOP", "GFLOP/s");
  row("text encoder (uncached)", first.timings.text_ms, f.text);
  row("text (cached)", best.text_ms, 0);
  row("geometry, no box (1st)", first.timings.geometry_ms, f.geometry);
  row("geometry, no box", best.geometry_ms, 0);
  row("geometry, 1 box", boxed.timings.geometry_ms, fb.geometry);
  row("fusion encoder (1st)", first.timings.fusion_ms, f.fusion + f.fusion_prefix);
  row("fusion encoder", best.fusion_ms, f.fusion);
  row("decoder", best.decoder_ms, f.decoder);
  row("scoring", best.scoring_ms, f.scoring);
  row("segmentation head (1st)", first.timings.mask_head_ms, f.mask_head + f.mask_prefix);
  row("segmentation head", best.mask_head_ms, f.mask_head);
  row("post-process", best.postprocess_ms, 0);
  row("post-process, all kept", first.timings.postprocess_ms, 0);
  row("re-threshold", rethr.timings.total_ms, 0);
  row("total (cached text)", best.total_ms, f.per_prompt());
  // The goal is stated for a prompt with its geometry work, in the model's FLOPs (0.44 TFLOP with the text); the
  // FLOPs this implementation computes are fewer (the pixel decoder's split): both ratios are printed.
  const double flop = fb.model_per_prompt, computed = fb.per_prompt();
  const double ideal = flop * 1e-9 / rate_gflops;
  const double boxed_s = (boxed.timings.total_ms - boxed.timings.text_ms) * 1e-3;
  std::printf("goal: a prompt (text cached, 1 box) <= 1.3 x FLOP / %s matmul rate = 1.3 x %.1f GFLOP / %.1f GFLOP/s = "
              "%.2f s: %s (%.2f s = %.2f x; %.2f x the %.1f GFLOP computed)\n",
              rate_name, flop * 1e-9, rate_gflops, 1.3 * ideal, boxed_s <= 1.3 * ideal ? "met" : "NOT met", boxed_s,
              boxed_s / ideal, boxed_s / (computed * 1e-9 / rate_gflops), computed * 1e-9);
  std::printf("goal: 8 prompts (new texts) in one call <= 5 x one prompt with a new text: %s (%.2f s = %.2f x %.2f s)\n",
              several.total_ms <= 5 * one_new.timings.total_ms ? "met" : "NOT met", several.total_ms * 1e-3,
              several.total_ms / one_new.timings.total_ms, one_new.timings.total_ms * 1e-3);
  // What no scheduling of the eight can beat: their FLOPs (nothing more is shared between new texts than the
  // per-image prefix, already computed) at the matmul rate, against the one prompt measured.
  const double flop_one_new = f.text + f.per_prompt();
  const double floor_s = 8 * flop_one_new * 1e-9 / rate_gflops;
  std::printf("  (8 x %.1f GFLOP at the matmul rate take at least %.2f s = %.2f x the one prompt: the floor of that "
              "ratio without sharing work between prompts)\n",
              flop_one_new * 1e-9, floor_s, floor_s / (one_new.timings.total_ms * 1e-3));
  if (has_load)
    std::printf("load average during the prompt runs: %.2f (1 min); wall times above are only meaningful when it is "
                "below the core count\n", load[0]);
}

}  // namespace sam3::cli
