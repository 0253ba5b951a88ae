// sam3.cpp — GEMM libraries and precisions at the model's shapes (docs/precision.md, "OpenBLAS or oneDNN for f32?"):
// OpenBLAS sgemm, oneDNN f32 on a pre-packed weight, and the bf16 / int8 linear layers (ops::linear with a packed
// weight, activation conversion included), best of --reps, in one run.
// Usage: bench_gemm [--threads N] [--reps N]   (or the two numbers alone, in that order)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/timer.h"
#include "kernels/cpu.h"
#include "kernels/cpu/onednn_matmul.h"

using namespace sam3;

namespace {

template <class F>
double best_seconds(int reps, F&& f) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    f();
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

// A whole positive number, or 0 (not one).
int positive(const char* s) {
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  return end != s && *end == '\0' && v > 0 && v <= 1024 ? static_cast<int>(v) : 0;
}

int usage(const char* why) {
  std::fprintf(stderr, "bench_gemm: %s\nusage: bench_gemm [--threads N] [--reps N]   (or: bench_gemm [N [REPS]])\n",
               why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, reps = 3, positional = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    int* target = arg == "--threads" ? &threads : arg == "--reps" ? &reps : nullptr;
    const char* value = argv[i];
    if (target) {
      if (i + 1 >= argc) return usage((arg + " needs a value").c_str());
      value = argv[++i];
    } else if (arg.rfind("--", 0) == 0) {
      return usage(("unknown option '" + arg + "'").c_str());
    } else if (positional < 2) {
      target = positional++ == 0 ? &threads : &reps;
    } else {
      return usage(("unexpected argument '" + arg + "'").c_str());
    }
    if (!(*target = positive(value))) return usage(("not a positive count: '" + std::string(value) + "'").c_str());
  }
  struct Shape3 {
    const char* name;
    int64_t M, N, K;
  };
  const Shape3 shapes[] = {{"vit mlp (issue shape)", 5184, 4736, 1024}, {"vit qkv", 5184, 3072, 1024},
                           {"vit proj", 5184, 1024, 1024},            {"vit fc2", 5184, 1024, 4736},
                           {"decoder ffn", 201, 2048, 256},           {"fusion ffn", 5216, 2048, 256}};
  std::printf("isa %s, %d threads, best of %d; GFLOP/s\n", ops::matmul_isa().c_str(), threads, reps);
  std::printf("%-24s %10s %10s %10s %10s\n", "shape", "openblas", "onednn f32", "bf16", "int8");
  std::mt19937 g(1);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (const Shape3& s : shapes) {
    Tensor x = Tensor::empty({s.M, s.K}), w = Tensor::empty({s.N, s.K}), y = Tensor::empty({s.M, s.N});
    for (int64_t i = 0; i < x.numel(); ++i) x.f32()[i] = u(g);
    for (int64_t i = 0; i < w.numel(); ++i) w.f32()[i] = u(g);
    const double flop = 2.0 * s.M * s.N * s.K;
    const double blas = best_seconds(reps, [&] {
      kernels::cpu::sgemm(false, true, s.M, s.N, s.K, x.f32(), s.K, w.f32(), s.K, y.f32(), s.N, false, threads);
    });
    auto dnnl = kernels::cpu::OnednnMatmul::create(kernels::cpu::OnednnMatmul::Kind::F32, w.f32(), s.N, s.K);
    const double onednn =
        dnnl ? best_seconds(reps, [&] { dnnl->run(x.f32(), nullptr, y.f32(), s.M, threads); }) : 0;
    double low[2] = {};
    int i = 0;
    for (Precision p : {Precision::BF16, Precision::Int8}) {
      auto packed = ops::pack_weight(w, p);
      RunContext ctx;
      ctx.n_threads = threads;
      low[i++] = best_seconds(reps, [&] { ops::linear(x, *packed, nullptr, y, ctx); });
    }
    std::printf("%-24s %10.1f %10.1f %10.1f %10.1f   (%lldx%lldx%lld)%s\n", s.name, flop / blas * 1e-9,
                onednn > 0 ? flop / onednn * 1e-9 : 0.0, flop / low[0] * 1e-9, flop / low[1] * 1e-9,
                static_cast<long long>(s.M), static_cast<long long>(s.N), static_cast<long long>(s.K),
                ops::has_fast_kernel(Precision::BF16) ? "" : "  bf16 emulated");
  }
  return 0;
}
