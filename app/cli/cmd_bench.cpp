// sam3.cpp — `sam3 bench -m MODEL [--config C] [--threads N] [--runs N]`: times the image encoder on a synthetic
// input (no image decoding): checkpoint load, each encoder stage with its achieved GFLOP/s, the rate of a plain
// sgemm of the ViT's MLP shape (5184×4736×1024) measured in the same run for comparison, and the peak RSS.
#include <CLI/CLI.hpp>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>

#include "api/internal.h"
#include "commands.h"
#include "model_options.h"
#include "core/ops.h"
#include "core/dump.h"
#include "core/parallel.h"
#include "core/timer.h"
#include "model/image_encoder.h"

namespace sam3::cli {

namespace {

// Process CPU time (all threads), seconds: next to the wall time it shows how much of the machine we really had.
double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// The 1-minute load average: on a shared machine, timings taken under load above the thread count are not
// the machine's speed.
double load_average() {
  double l = -1;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &l) != 1) l = -1;
    std::fclose(f);
  }
  return l;
}

double peak_rss_gib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / (1024.0 * 1024.0);  // ru_maxrss is in KiB on Linux
}

// Best-of-`reps` rate of y[M,N] = x[M,K]·w[N,K]ᵀ through ops::linear in `precision` (f32: one OpenBLAS sgemm;
// bf16/int8: the packed weight, activation conversion included), GFLOP/s.
double matmul_rate(int64_t M, int64_t N, int64_t K, int reps, int n_threads, Precision precision) {
  Tensor x = Tensor::empty({M, K}), w = Tensor::empty({N, K}), y = Tensor::empty({M, N});
  std::mt19937 g(1);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (int64_t i = 0; i < x.numel(); ++i) x.f32()[i] = u(g);
  for (int64_t i = 0; i < w.numel(); ++i) w.f32()[i] = u(g);
  std::shared_ptr<const ops::PackedWeight> packed;
  if (precision != Precision::F32) packed = ops::pack_weight(w, precision);
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    if (packed)
      ops::linear(x, *packed, nullptr, y, RunContext{n_threads});
    else
      ops::linear(x, w, nullptr, y, RunContext{n_threads});
    best = std::min(best, seconds_since(t0));
  }
  return 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K) / best * 1e-9;
}

}  // namespace

int cmd_bench(int argc, char** argv) {
  CLI::App app{"Benchmark the image encoder on a synthetic input (use a full-size checkpoint, e.g. from "
               "'sam3 make-random-checkpoint').",
               "sam3 bench"};
  ModelOptions mo;
  int n_threads = default_thread_count(), runs = 1, sgemm_reps = 3;
  app.add_option("-m,--model", mo.path, "checkpoint (.pt or .safetensors)")->required();
  add_model_options(app, mo);
  app.add_option("--threads", n_threads, "threads")->capture_default_str()->check(CLI::Range(1, 4096));
  app.add_option("--runs", runs, "encoder runs (the best one is reported)")->capture_default_str()->check(CLI::Range(1, 100));
  app.add_option("--sgemm-reps", sgemm_reps, "sgemm repetitions (best reported)")->capture_default_str()->check(CLI::Range(1, 100));
  bool pick_only = false, prompt_only = false, load_only = false;
  app.add_flag("--pick-only", pick_only, "time only the interactive pick (SAM2 neck, one pick), not the encoder");
  app.add_flag("--prompt-only", prompt_only, "time only the per-prompt stages (on a synthetic embedding), not the encoder");
  app.add_flag("--load-only", load_only, "only load the model: the load time and the peak RSS after loading");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  std::printf("load average (1 min) at start: %.2f on %d online CPUs\n", load_average(), default_thread_count());
  if (load_only) {
    std::shared_ptr<const Model> model = load_model(mo, "sam3 bench");
    std::printf("checkpoint load: %.3f s (%s, config '%s', %s precision, weights: %s); peak RSS: %.2f GiB\n",
                model->load_seconds(), mo.path.c_str(), model->config_name().c_str(), model->info().precision.c_str(),
                model->info().weight_format.c_str(), peak_rss_gib());
    return 0;
  }
  if (pick_only) {
    std::shared_ptr<const Model> model = load_model(mo, "sam3 bench");
    bench_pick_stages(model, n_threads, runs);
    std::printf("load average (1 min) at the end: %.2f\n", load_average());
    return 0;
  }
  if (prompt_only) {
    std::shared_ptr<const Model> model = load_model(mo, "sam3 bench");
    const PrecisionSupport ps = precision_support();
    Precision p = Precision::F32;
    precision_from_name(model->info().precision, &p);
    if (p == Precision::Int8) p = ps.bf16_fast ? Precision::BF16 : Precision::F32;  // prompts run int8 models so
    const auto measure = [&] { return matmul_rate(5184, 4736, 1024, sgemm_reps, n_threads, p); };
    bench_prompt_stages(model, n_threads, measure(), measure, precision_name(p), runs);
    return 0;
  }
  // The reference matmul rates first, so their buffers are gone before the model's peak memory is measured.
  const int64_t M = 5184, N = 4736, K = 1024;
  const PrecisionSupport ps = precision_support();
  double rate[3] = {};
  for (Precision p : {Precision::F32, Precision::BF16, Precision::Int8}) {
    rate[static_cast<int>(p)] = matmul_rate(M, N, K, sgemm_reps, n_threads, p);
    const bool slow = (p == Precision::BF16 && !ps.bf16_fast) || (p == Precision::Int8 && !ps.int8_fast);
    std::printf("matmul %lldx%lldx%lld %-4s (ops::linear, best of %d): %7.1f GFLOP/s%s\n", static_cast<long long>(M),
                static_cast<long long>(N), static_cast<long long>(K), precision_name(p), sgemm_reps,
                rate[static_cast<int>(p)], slow ? " (emulated on this CPU)" : "");
  }

  std::shared_ptr<const Model> model = load_model(mo, "sam3 bench");
  Precision precision = Precision::F32;
  precision_from_name(model->info().precision, &precision);
  std::printf("checkpoint load: %.3f s (%s, config '%s', %zu tensors mapped)\n", model->load_seconds(),
              mo.path.c_str(), model->config_name().c_str(), model->impl().weights.tensors.size());

  // A smooth synthetic image in [-1, 1] (content does not change the work).
  const int64_t R = model->input_size();
  Tensor input = Tensor::empty({1, 3, R, R});
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < R; ++y)
      for (int64_t x = 0; x < R; ++x)
        input.f32()[(c * R + y) * R + x] = static_cast<float>(((x * 7 + y * 3 + c * 50) % 256) / 127.5 - 1.0);

  const ImageEncoder& enc = model->impl().sam3->image_encoder();
  Arena scratch(enc.scratch_bytes());
  Dumper no_dump;
  EncoderTimings best;
  best.total = 1e30;
  double best_cpu = 0;
  for (int r = 0; r < runs; ++r) {
    ImageFeatures feats;
    EncoderTimings t;
    const double c0 = cpu_seconds();
    enc.forward(input, feats, RunContext{n_threads, &scratch, &no_dump}, &t);
    const double cpu = cpu_seconds() - c0;
    std::fprintf(stderr, "run %d: %.2f s wall, %.2f s CPU (%.2f of %d threads busy on average)\n", r + 1, t.total, cpu,
                 cpu / t.total, n_threads);
    if (t.total < best.total) {
      best = t;
      best_cpu = cpu;
    }
  }

  std::printf("scratch arena: %.1f MiB; peak RSS: %.2f GiB\n", static_cast<double>(scratch.capacity()) / (1 << 20),
              peak_rss_gib());
  // The rates again after the encode: the ratios use the higher measurement of each (the stricter baseline on a
  // machine whose speed drifts during a run).
  for (Precision p : {Precision::F32, Precision::BF16, Precision::Int8}) {
    const double again = matmul_rate(M, N, K, sgemm_reps, n_threads, p);
    std::printf("matmul %lldx%lldx%lld %-4s again after the encode: %7.1f GFLOP/s\n", static_cast<long long>(M),
                static_cast<long long>(N), static_cast<long long>(K), precision_name(p), again);
    rate[static_cast<int>(p)] = std::max(rate[static_cast<int>(p)], again);
  }
  const double sgemm = rate[0];
  const double model_rate = rate[static_cast<int>(precision)];

  const EncoderFlops f = encoder_flops(model->impl().config);
  auto row = [](const char* name, double s, double flop) {
    if (flop > 0)
      std::printf("  %-18s %9.3f %10.1f %9.1f\n", name, s, flop * 1e-9, s > 0 ? flop / s * 1e-9 : 0.0);
    else
      std::printf("  %-18s %9.3f %10s %9s\n", name, s, "-", "-");
  };
  std::printf("image encoder, %d thread%s, best of %d run%s:\n", n_threads, n_threads == 1 ? "" : "s", runs,
              runs == 1 ? "" : "s");
  std::printf("  %-18s %9s %10s %9s\n", "stage", "time (s)", "GFLOP", "GFLOP/s");
  row("patch embed", best.vit.patch_embed, f.patch_embed);
  row("windowed blocks", best.vit.window_blocks, f.window_blocks);
  row("global blocks", best.vit.global_blocks, f.global_blocks);
  row("neck", best.neck + best.vit.output, f.neck);
  row("total", best.total, f.total());
  std::printf("  (total CPU time %.2f s: %.2f of %d threads busy on average)\n", best_cpu, best_cpu / best.total,
              n_threads);
  const VitTimings::Ops& o = best.vit.ops;
  std::printf("inside the blocks, by operation:\n");
  row("  qkv linear", o.qkv, f.qkv);
  row("  attn (windowed)", o.attn_window, f.attn_window);
  row("  attn (global)", o.attn_global, f.attn_global);
  row("  proj linear", o.proj, f.proj);
  row("  mlp fc1", o.fc1, f.fc1);
  row("  mlp fc2", o.fc2, f.fc2);
  row("  gelu", o.gelu, 0);
  row("  layer norms", o.norm, 0);
  row("  rope", o.rope, 0);
  row("  residual adds", o.add, 0);
  // Goals (docs/precision.md): f32 <= 1.15x, bf16 <= 1.5x, int8 <= 1.6x the FLOP at that precision's matmul rate.
  const double factor = precision == Precision::F32 ? 1.15 : precision == Precision::BF16 ? 1.5 : 1.6;
  const double ideal = f.total() * 1e-9 / model_rate, target = factor * ideal;
  std::printf("goal: %s encode <= %.2f x FLOP / %s matmul rate = %.2f s: %s (encode = %.2f x FLOP / %s rate; "
              "%.2f x FLOP / f32 rate)\n",
              precision_name(precision), factor, precision_name(precision), target,
              best.total <= target ? "met" : "NOT met", best.total / ideal, precision_name(precision),
              best.total / (f.total() * 1e-9 / sgemm));
  // The per-prompt modules run int8 models' prompts at bf16 where that is fast, else f32 (docs/precision.md).
  const Precision prompt_precision =
      precision != Precision::Int8 ? precision : (ps.bf16_fast ? Precision::BF16 : Precision::F32);
  const auto measure = [&] { return matmul_rate(M, N, K, sgemm_reps, n_threads, prompt_precision); };
  bench_prompt_stages(model, n_threads, rate[static_cast<int>(prompt_precision)], measure,
                      precision_name(prompt_precision), runs);
  bench_pick_stages(model, n_threads, runs);  // interactive pick (bench_pick.cpp)
  return 0;
}

}  // namespace sam3::cli
