// Unit tests: one oneDNN product (kernels/cpu/onednn_matmul.h) run by several threads at once, as the library's
// contract allows (sam3.h: a Model may be used from any number of threads), gives each thread exactly the numbers
// it gives when it runs alone. With oneDNN's library-managed scratchpad this failed on AVX-512 (brgemm kernels: f32
// and int8 products off by up to the products' size), so every primitive takes its scratchpad from the caller
// (onednn_engine.h). Each kind oneDNN has a kernel for on this CPU; run again capped to AVX2 (tests/CMakeLists.txt).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "kernels/cpu/onednn_matmul.h"

using sam3::kernels::cpu::OnednnMatmul;

namespace {

// Operand bytes of the kind's type: f32 in [-1, 1], bf16 bits of values in [1, 2), u8 / s8 anything.
std::vector<uint8_t> operand(OnednnMatmul::Kind kind, int64_t n, bool weight, std::mt19937& g) {
  std::vector<uint8_t> out;
  if (kind == OnednnMatmul::Kind::F32) {
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = u(g);
    out.resize(v.size() * sizeof(float));
    std::memcpy(out.data(), v.data(), out.size());
  } else if (kind == OnednnMatmul::Kind::BF16) {
    std::vector<uint16_t> v(static_cast<size_t>(n));
    for (uint16_t& x : v) x = static_cast<uint16_t>(0x3f80 + g() % 128);
    out.resize(v.size() * sizeof(uint16_t));
    std::memcpy(out.data(), v.data(), out.size());
  } else {
    out.resize(static_cast<size_t>(n));
    for (uint8_t& x : out) x = static_cast<uint8_t>(weight ? g() % 255 : g() % 256);  // s8 weights avoid -128
  }
  return out;
}

void concurrent_equals_alone(OnednnMatmul::Kind kind, const char* name) {
  if (!sam3::kernels::cpu::onednn_has_kernel(kind)) GTEST_SKIP() << name << ": no oneDNN kernel on this CPU";
  constexpr int64_t N = 256, K = 256, M = 1000;  // M large enough for oneDNN to copy A blocks into its scratchpad
  constexpr int kThreads = 3, kReps = 40;
  std::mt19937 g(7);
  const std::vector<uint8_t> w = operand(kind, N * K, true, g);
  auto mm = OnednnMatmul::create(kind, w.data(), N, K);
  ASSERT_NE(mm, nullptr);
  std::vector<std::vector<uint8_t>> x, alone;
  for (int t = 0; t < kThreads; ++t) {
    x.push_back(operand(kind, M * K, false, g));
    alone.emplace_back(static_cast<size_t>(M * N * 4));  // f32 or s32
    mm->run(x.back().data(), nullptr, alone.back().data(), M, 1);
  }
  std::vector<int> mismatched_runs(kThreads, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < kThreads; ++t)
    pool.emplace_back([&, t] {
      std::vector<uint8_t> y(alone[static_cast<size_t>(t)].size());
      for (int r = 0; r < kReps; ++r) {
        mm->run(x[static_cast<size_t>(t)].data(), nullptr, y.data(), M, 1);
        if (y != alone[static_cast<size_t>(t)]) ++mismatched_runs[static_cast<size_t>(t)];
      }
    });
  for (std::thread& th : pool) th.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(mismatched_runs[static_cast<size_t>(t)], 0)
        << name << ": thread " << t << " got other numbers than alone in that many of " << kReps << " runs ("
        << sam3::kernels::cpu::onednn_isa_name() << ")";
}

}  // namespace

TEST(OnednnConcurrency, F32) { concurrent_equals_alone(OnednnMatmul::Kind::F32, "f32"); }
TEST(OnednnConcurrency, Bf16) { concurrent_equals_alone(OnednnMatmul::Kind::BF16, "bf16"); }
TEST(OnednnConcurrency, Int8) { concurrent_equals_alone(OnednnMatmul::Kind::Int8, "int8"); }
