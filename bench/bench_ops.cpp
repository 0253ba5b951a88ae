// sam3.cpp — per-op benchmark at the full-size SAM 3 shapes (1008² input: 72×72 = 5184 ViT tokens, width 1024,
// MLP 4736, 16 heads; 576-token windows; 256-wide fusion encoder with 8 heads; FPN neck at 288/144/72).
// Every op is timed next to a plain sgemm of 5184×4736×1024 in the same run, so the numbers read as ratios
// (the machine is shared; absolute rates drift). Best-of-N wall time per case; also the process CPU time per
// run divided by the thread count ("cpu GFLOP/s"), which is what the kernel would reach on an otherwise idle
// machine when other processes compete for the cores (the two agree when the machine is idle).
//
//   bench_ops [--threads N] [--min-time SECONDS] [--filter SUBSTRING]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <time.h>

#include "core/ops.h"
#include "core/parallel.h"
#include "kernels/cpu.h"

using namespace sam3;

namespace {

struct Options {
  int threads = default_thread_count();
  double min_time = 1.0;
  std::string filter;
};

Tensor random_tensor(const Shape& s, std::mt19937& g, float r = 1.0f) {
  Tensor t = Tensor::empty(s);
  std::uniform_real_distribution<float> u(-r, r);
  float* p = t.f32();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = u(g);
  return t;
}

double process_cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

struct Result {
  std::string name;
  double best_s = 0, median_s = 0, cpu_s = 0;  // cpu_s: median process CPU seconds per run / threads
  double flops = 0, bytes = 0;
  int reps = 0;
};

// Runs f once to warm up, then until min_time has passed (at least 3 runs).
Result time_it(const std::string& name, double flops, double bytes, const Options& opt, const std::function<void()>& f) {
  using clk = std::chrono::steady_clock;
  f();
  std::vector<double> ts, cs;
  const auto start = clk::now();
  while (ts.size() < 3 || std::chrono::duration<double>(clk::now() - start).count() < opt.min_time) {
    const auto t0 = clk::now();
    const double c0 = process_cpu_seconds();
    f();
    cs.push_back((process_cpu_seconds() - c0) / opt.threads);
    ts.push_back(std::chrono::duration<double>(clk::now() - t0).count());
  }
  std::sort(ts.begin(), ts.end());
  std::sort(cs.begin(), cs.end());
  return {name, ts.front(), ts[ts.size() / 2], cs[cs.size() / 2], flops, bytes, static_cast<int>(ts.size())};
}

ops::AttentionArgs seq_first_args(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& o, int64_t heads,
                                  int64_t lq, int64_t lk, int64_t d) {
  ops::AttentionArgs a;
  a.q = q.f32(), a.k = k.f32(), a.v = v.f32(), a.out = o.f32();
  a.q_row = a.k_row = a.v_row = a.o_row = heads * d;
  a.q_head = a.k_head = a.v_head = a.o_head = d;
  a.n_heads = heads, a.lq = lq, a.lk = lk, a.head_dim = d;
  a.scale = 1.0f / std::sqrt(static_cast<float>(d));
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_ops: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--threads") opt.threads = std::atoi(next().c_str());
    else if (a == "--min-time") opt.min_time = std::atof(next().c_str());
    else if (a == "--filter") opt.filter = next();
    else {
      std::fprintf(stderr, "usage: bench_ops [--threads N] [--min-time SECONDS] [--filter SUBSTRING]\n");
      return 2;
    }
  }
  const int T = opt.threads;
  std::mt19937 g(1);
  std::vector<Result> results;
  auto want = [&](const std::string& n) { return opt.filter.empty() || n.find(opt.filter) != std::string::npos || n.rfind("sgemm", 0) == 0; };
  auto run = [&](const std::string& n, double flops, double bytes, const std::function<void()>& f) {
    if (!want(n)) return;
    results.push_back(time_it(n, flops, bytes, opt, f));
    const Result& r = results.back();
    std::fprintf(stderr, "  %-44s %9.2f ms\n", n.c_str(), r.best_s * 1e3);
  };
  const int64_t L = 5184, C = 1024, HID = 4736;

  // ---- reference: plain sgemm, the MLP fc1 product ----
  {
    Tensor a = random_tensor({L, C}, g), b = random_tensor({HID, C}, g), c = Tensor::empty({L, HID});
    run("sgemm 5184x4736x1024", 2.0 * L * HID * C, 0, [&] {
      kernels::cpu::sgemm(false, true, L, HID, C, a.f32(), C, b.f32(), C, c.f32(), HID, false, T);
    });
  }
  // ---- linear ----
  {
    Tensor x = random_tensor({L, C}, g), h = random_tensor({L, HID}, g);
    Tensor w1 = random_tensor({HID, C}, g), b1 = random_tensor({HID}, g), w2 = random_tensor({C, HID}, g),
           b2 = random_tensor({C}, g), wq = random_tensor({3 * C, C}, g), bq = random_tensor({3 * C}, g);
    Tensor y1 = Tensor::empty({L, HID}), y2 = Tensor::empty({L, C}), yq = Tensor::empty({L, 3 * C});
    run("linear qkv 5184x3072x1024 +b", 2.0 * L * 3 * C * C, 0, [&] { ops::linear(x, wq, &bq, yq, RunContext{T}); });
    run("linear fc1 5184x4736x1024 +b", 2.0 * L * HID * C, 0, [&] { ops::linear(x, w1, &b1, y1, RunContext{T}); });
    run("linear fc2 5184x1024x4736 +b", 2.0 * L * C * HID, 0, [&] { ops::linear(h, w2, &b2, y2, RunContext{T}); });
    // ---- element-wise (bytes = bytes moved; "flops" = elements) ----
    run("gelu 5184x4736 (in place)", 1.0 * L * HID, 8.0 * L * HID, [&] { ops::gelu_inplace(h, RunContext{T}); });
    Tensor gm = random_tensor({C}, g), bt = random_tensor({C}, g), xo = Tensor::empty({L, C});
    run("layer_norm 5184x1024", 1.0 * L * C, 8.0 * L * C, [&] { ops::layer_norm(x, gm, bt, 1e-5f, xo, RunContext{T}); });
    run("add 5184x1024", 1.0 * L * C, 12.0 * L * C, [&] { ops::add(x, xo, xo, RunContext{T}); });
    Tensor r = random_tensor({L, 2048}, g);
    run("relu 5184x2048 (in place)", 1.0 * L * 2048, 8.0 * L * 2048, [&] { ops::relu_inplace(r, RunContext{T}); });
  }
  // ---- attention ----
  {
    // ViT global: packed qkv output (L, 3, 16, 64) used in place.
    Tensor qkv = random_tensor({L, 3, 16, 64}, g), o = Tensor::empty({L, 16, 64});
    ops::AttentionArgs a;
    a.q = qkv.f32(), a.k = qkv.f32() + C, a.v = qkv.f32() + 2 * C, a.out = o.f32();
    a.q_row = a.k_row = a.v_row = 3 * C;
    a.q_head = a.k_head = a.v_head = 64;
    a.o_row = C, a.o_head = 64;
    a.n_heads = 16, a.lq = L, a.lk = L, a.head_dim = 64, a.scale = 0.125f;
    run("attention ViT global 16h 5184 d64", 4.0 * 16 * L * L * 64, 0, [&] { ops::attention(a, RunContext{T}); });
    // ViT windows: 9 windows of 24×24 = 576 tokens (each a separate call, packed qkv per window).
    const int64_t W = 576;
    ops::AttentionArgs w = a;
    w.lq = w.lk = W;
    run("attention ViT window 9x16h 576 d64", 9 * 4.0 * 16 * W * W * 64, 0, [&] {
      for (int64_t i = 0; i < 9; ++i) {
        ops::AttentionArgs wi = w;
        wi.q += i * W * 3 * C, wi.k += i * W * 3 * C, wi.v += i * W * 3 * C, wi.out += i * W * C;
        ops::attention(wi, RunContext{T});
      }
    });
    // Fusion encoder self-attention: 8 heads × 32 over the 72×72 image tokens (sequence-first, d_model 256).
    Tensor q = random_tensor({L, 256}, g), k = random_tensor({L, 256}, g), v = random_tensor({L, 256}, g);
    Tensor o2 = Tensor::empty({L, 256});
    ops::AttentionArgs f = seq_first_args(q, k, v, o2, 8, L, L, 32);
    run("attention fusion 8h 5184 d32", 4.0 * 8 * L * L * 32, 0, [&] { ops::attention(f, RunContext{T}); });
    // Decoder cross-attention to the image: 201 queries (200 + presence) with a box relative-position bias.
    const int64_t Q = 201;
    Tensor dq = random_tensor({Q, 256}, g), dout = Tensor::empty({Q, 256}), bias = random_tensor({8, Q, L}, g);
    ops::AttentionArgs d = seq_first_args(dq, k, v, dout, 8, Q, L, 32);
    d.bias = bias.f32(), d.bias_head = Q * L;
    run("attention decoder x-attn 8h 201x5184 +bias", 4.0 * 8 * Q * L * 32, 0, [&] { ops::attention(d, RunContext{T}); });
    // Where attention() takes the AVX-512 kernels: the AVX2 ones on the same shapes (the baseline they replace).
    if (kernels::cpu::attention_avx512_available()) {
      run("attention ViT global, AVX2 kernels", 4.0 * 16 * L * L * 64, 0, [&] { kernels::cpu::attention_avx2(a, T); });
      run("attention fusion, AVX2 kernels", 4.0 * 8 * L * L * 32, 0, [&] { kernels::cpu::attention_avx2(f, T); });
      run("attention decoder x-attn, AVX2 kernels", 4.0 * 8 * Q * L * 32, 0, [&] { kernels::cpu::attention_avx2(d, T); });
    }
    // bf16 products (AttentionArgs::bf16): oneDNN tiles where the CPU has bf16 instructions, else the CPU kernels with
    // the roundings; and the tile kernel on f32 storage (oneDNN's f32 kernels), its overhead on any CPU.
    const bool tiles = kernels::cpu::attention_bf16_tiles_available();
    const std::string how = tiles ? ", oneDNN" : ", rounded";
    ops::AttentionArgs ab = a, fb = f;
    ab.bf16 = fb.bf16 = true;
    run("attention ViT global bf16" + how, 4.0 * 16 * L * L * 64, 0, [&] { ops::attention(ab, RunContext{T}); });
    run("attention ViT window 9x bf16" + how, 9 * 4.0 * 16 * W * W * 64, 0, [&] {
      for (int64_t i = 0; i < 9; ++i) {
        ops::AttentionArgs wi = ab;
        wi.lq = wi.lk = W;
        wi.q += i * W * 3 * C, wi.k += i * W * 3 * C, wi.v += i * W * 3 * C, wi.out += i * W * C;
        ops::attention(wi, RunContext{T});
      }
    });
    run("attention fusion bf16" + how, 4.0 * 8 * L * L * 32, 0, [&] { ops::attention(fb, RunContext{T}); });
    run("attention ViT global bf16 tiles, f32 storage", 4.0 * 16 * L * L * 64, 0, [&] {
      kernels::cpu::attention_bf16_tiles(ab, T, kernels::cpu::AttentionTileStorage::F32);
    });
  }
  // ---- convolutions (FPN neck, patch embed) ----
  {
    Tensor img = random_tensor({3, 1008, 1008}, g), pw = random_tensor({1024, 3, 14, 14}, g);
    Tensor pe = Tensor::empty({1024, 72, 72});
    run("conv2d patch 3->1024 k14 s14 @1008", 2.0 * 1024 * 588 * L, 0, [&] { ops::conv2d(img, pw, nullptr, 14, 0, pe, RunContext{T}); });
    Tensor x = random_tensor({256, 288, 288}, g), w3 = random_tensor({256, 256, 3, 3}, g),
           w1 = random_tensor({256, 256, 1, 1}, g), b = random_tensor({256}, g), y = Tensor::empty({256, 288, 288});
    run("conv2d 3x3 256->256 @288 pad1", 2.0 * 256 * 256 * 9 * 288 * 288, 0, [&] { ops::conv2d(x, w3, &b, 1, 1, y, RunContext{T}); });
    run("conv2d 1x1 256->256 @288", 2.0 * 256 * 256 * 288 * 288, 0, [&] { ops::conv2d(x, w1, &b, 1, 0, y, RunContext{T}); });
    Tensor t1w = random_tensor({1024, 512, 2, 2}, g), t1b = random_tensor({512}, g), t1 = Tensor::empty({512, 144, 144});
    run("conv_transpose 1024->512 @72->144", 2.0 * 1024 * 512 * 4 * L, 0, [&] { ops::conv_transpose2d_k2s2(pe, t1w, &t1b, t1, RunContext{T}); });
    Tensor t2w = random_tensor({512, 256, 2, 2}, g), t2b = random_tensor({256}, g), t2 = Tensor::empty({256, 288, 288});
    run("conv_transpose 512->256 @144->288", 2.0 * 512 * 256 * 4 * 144 * 144, 0, [&] { ops::conv_transpose2d_k2s2(t1, t2w, &t2b, t2, RunContext{T}); });
    Tensor mp = Tensor::empty({1024, 36, 36});
    run("max_pool2d 1024x72x72", 1.0 * 1024 * L, 4.0 * 1024 * L * 1.25, [&] { ops::max_pool2d_k2s2(pe, mp, RunContext{T}); });
  }
  // ---- the sgemm again, to see drift from other load during the run ----
  {
    Tensor a = random_tensor({L, C}, g), b = random_tensor({HID, C}, g), c = Tensor::empty({L, HID});
    run("sgemm 5184x4736x1024 (again)", 2.0 * L * HID * C, 0, [&] {
      kernels::cpu::sgemm(false, true, L, HID, C, a.f32(), C, b.f32(), C, c.f32(), HID, false, T);
    });
  }

  double ref = 0, ref_cpu = 0;
  for (const Result& r : results)
    if (r.name.rfind("sgemm", 0) == 0) {
      ref = std::max(ref, r.flops / r.best_s);
      ref_cpu = std::max(ref_cpu, r.flops / r.cpu_s);
    }
  std::printf("bench_ops: %d threads, best of >= 3 runs (>= %.1f s per case). ratio = GFLOP/s / sgemm GFLOP/s (wall);\n"
              "cpu = the same from median process CPU time / threads (robust to other load on a shared machine)\n",
              T, opt.min_time);
  std::printf("%-44s %9s %9s %9s %7s %9s %7s %8s\n", "case", "best ms", "median ms", "GFLOP/s", "ratio", "cpuGF/s",
              "cpu rat", "GB/s");
  for (const Result& r : results) {
    std::printf("%-44s %9.2f %9.2f ", r.name.c_str(), r.best_s * 1e3, r.median_s * 1e3);
    if (r.bytes > 0) {  // memory-bound element-wise op: flops holds the element count
      std::printf("%9s %7s %9s %7s %8.2f  (%.2f Gelem/s)\n", "-", "-", "-", "-", r.bytes / r.best_s * 1e-9,
                  r.flops / r.best_s * 1e-9);
    } else {
      std::printf("%9.1f %7.3f %9.1f %7.3f %8s\n", r.flops / r.best_s * 1e-9, r.flops / r.best_s / ref,
                  r.flops / r.cpu_s * 1e-9, r.flops / r.cpu_s / ref_cpu, "-");
    }
  }
  return 0;
}
