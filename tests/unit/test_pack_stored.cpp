// Unit tests: packing weights as a converted file stores them (ops::pack_weight with BF16 / I8 + scale / F16
// inputs) gives exactly what packing the f32 weight gives; the f16 conversions (kernels/quantize.h) against the
// compiler's _Float16; the stored-form conversions (ops::to_bf16, quantize_s8, to_f16); the checks of bad inputs;
// MappedFile::release keeps the bytes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/ops.h"
#include "io/mmap_file.h"
#include "kernels/packed_weight.h"
#include "kernels/quantize.h"

using namespace sam3;

namespace {

Tensor random_weight(int64_t n, int64_t k, uint32_t seed) {
  Tensor w = Tensor::empty({n, k});
  std::mt19937 g(seed);
  std::normal_distribution<float> d(0.f, 0.05f);
  for (int64_t i = 0; i < w.numel(); ++i) w.f32()[i] = d(g);
  for (int64_t j = 0; j < k; ++j) w.f32()[2 * k + j] = 0;  // an all-zero row (scale 1)
  return w;
}

// y = x·wᵀ + b through the packed weight (the CPU kernels).
std::vector<float> run(const ops::PackedWeight& p, const Tensor& x, const Tensor& b) {
  Tensor y = Tensor::empty({x.size(0), p.n});
  ops::linear(x, p, &b, y, RunContext{2});
  return std::vector<float>(y.f32(), y.f32() + y.numel());
}

struct Problem {
  Tensor w, x, b;
};
Problem problem(int64_t n, int64_t k) {
  Problem p{random_weight(n, k, 1), Tensor::empty({7, k}), Tensor::empty({n})};
  std::mt19937 g(2);
  std::uniform_real_distribution<float> u(-2.f, 2.f);
  for (int64_t i = 0; i < p.x.numel(); ++i) p.x.f32()[i] = u(g);
  for (int64_t i = 0; i < n; ++i) p.b.f32()[i] = u(g);
  return p;
}

}  // namespace

TEST(PackStored, Bf16BitsPackLikeTheF32Weight) {
  const Problem pr = problem(48, 40);
  const auto from_f32 = ops::pack_weight(pr.w, Precision::BF16);
  const Tensor bits = ops::to_bf16(pr.w);
  const auto from_bits = ops::pack_weight(bits, nullptr, Precision::BF16);
  EXPECT_EQ(from_f32->bf16(), from_bits->bf16());
  EXPECT_EQ(run(*from_f32, pr.x, pr.b), run(*from_bits, pr.x, pr.b));
  // Where the library does not use oneDNN for bf16 (no bf16 instructions) the stored bits are used in place
  // (zero-copy), else packed by oneDNN.
  EXPECT_EQ(ops::packed_weight_borrows(*from_bits), from_bits->onednn == nullptr);
  if (!from_bits->onednn) {
    EXPECT_EQ(from_bits->bf16_plain.data(), bits.data<uint16_t>());
  }
  EXPECT_FALSE(ops::packed_weight_borrows(*from_f32));
}

TEST(PackStored, S8WithScalePacksLikeTheF32Weight) {
  const Problem pr = problem(48, 40);
  const auto from_f32 = ops::pack_weight(pr.w, Precision::Int8);
  Tensor scale;
  const Tensor q = ops::quantize_s8(pr.w, &scale);
  ASSERT_EQ(q.dtype(), DType::I8);
  ASSERT_EQ(scale.shape(), Shape{48});
  EXPECT_EQ(scale.f32()[2], 1.0f);  // the all-zero row
  const auto from_q = ops::pack_weight(q, &scale, Precision::Int8);
  EXPECT_EQ(from_f32->s8(), from_q->s8());
  EXPECT_EQ(from_f32->scale, from_q->scale);
  EXPECT_EQ(from_f32->colsum, from_q->colsum);
  EXPECT_EQ(from_f32->act_levels, from_q->act_levels);
  EXPECT_EQ(run(*from_f32, pr.x, pr.b), run(*from_q, pr.x, pr.b));
  // Rows of a stored weight pack like the same rows of the f32 one (the attention projections pack q, k, v apart).
  const Tensor rows_scale = scale.slice0(16, 32);
  EXPECT_EQ(ops::pack_weight(pr.w.slice0(16, 32), Precision::Int8)->s8(),
            ops::pack_weight(q.slice0(16, 32), &rows_scale, Precision::Int8)->s8());
}

TEST(PackStored, F16PacksAsItsF32Values) {
  const Problem pr = problem(24, 40);
  const Tensor h = ops::to_f16(pr.w, "w");
  const Tensor back = ops::f16_to_f32(h);
  for (Precision p : {Precision::BF16, Precision::Int8}) {
    const auto a = ops::pack_weight(back, p), b = ops::pack_weight(h, nullptr, p);
    EXPECT_EQ(run(*a, pr.x, pr.b), run(*b, pr.x, pr.b)) << precision_name(p);
  }
}

TEST(PackStored, BadInputsAreErrors) {
  const Problem pr = problem(8, 16);
  Tensor scale;
  const Tensor q = ops::quantize_s8(pr.w, &scale);
  const Tensor bits = ops::to_bf16(pr.w);
  auto message = [](auto f) -> std::string {
    try {
      f();
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  auto has = [](const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; };
  EXPECT_TRUE(has(message([&] { ops::pack_weight(bits, nullptr, Precision::Int8); }), "rounded twice"));
  EXPECT_TRUE(has(message([&] { ops::pack_weight(q, &scale, Precision::BF16); }), "rounded twice"));
  EXPECT_TRUE(has(message([&] { ops::pack_weight(q, nullptr, Precision::Int8); }), "needs its scale"));
  EXPECT_TRUE(has(message([&] { ops::pack_weight(pr.w, &scale, Precision::Int8); }), "only I8 weights have a scale"));
  const Tensor short_scale = scale.slice0(0, 7);
  EXPECT_TRUE(has(message([&] { ops::pack_weight(q, &short_scale, Precision::Int8); }), "must be F32 [8]"));
  for (float v : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(), 0.f, -0.5f}) {
    Tensor s = scale.clone();
    s.f32()[3] = v;
    EXPECT_TRUE(has(message([&] { ops::pack_weight(q, &s, Precision::Int8); }), "finite and positive")) << v;
  }
  Tensor q128 = q.clone();
  q128.data<int8_t>()[5] = -128;
  EXPECT_TRUE(has(message([&] { ops::pack_weight(q128, &scale, Precision::Int8); }), "-128"));
  EXPECT_TRUE(has(message([&] { ops::pack_weight(Tensor::zeros({4, 4}, DType::I32), nullptr, Precision::Int8); }),
                  "must be F32, F16, BF16 or I8"));
  EXPECT_TRUE(has(message([&] { ops::pack_weight(bits, nullptr, Precision::F32); }), "not packed"));
  Tensor big = Tensor::zeros({2, 2});
  big.f32()[1] = 70000.f;
  EXPECT_TRUE(has(message([&] { ops::to_f16(big, "tensor 'x'"); }), "tensor 'x': value 70000"));
}

// Every f16 bit pattern expands exactly, and f32 -> f16 rounds as the compiler's conversion (nearest, ties even)
// over a sweep of f32 patterns that covers normals, subnormals, ties, overflow, infinities and NaN.
TEST(PackStored, F16ConversionsMatchTheCompiler) {
#if defined(__FLT16_MAX__)
  for (uint32_t h = 0; h < 65536; ++h) {
    _Float16 f;
    const auto hb = static_cast<uint16_t>(h);
    std::memcpy(&f, &hb, 2);
    const float want = static_cast<float>(f), got = kernels::f16_value(hb);
    EXPECT_EQ(std::memcmp(&got, kernels::f16_value_table() + h, 4), 0) << h;
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got)) << h;
    } else {
      EXPECT_EQ(std::memcmp(&want, &got, 4), 0) << h;
    }
  }
  int checked = 0;
  for (uint64_t u = 0; u < (uint64_t{1} << 32); u += 4093) {  // a prime stride: every exponent, many mantissas
    const auto bits = static_cast<uint32_t>(u);
    for (uint32_t v : {bits, (bits & 0xffffe000u) | 0x1000u, (bits & 0xffffe000u) | 0x0fffu}) {  // + ties, near
      float f;
      std::memcpy(&f, &v, 4);
      const _Float16 want = static_cast<_Float16>(f);
      uint16_t wb;
      std::memcpy(&wb, &want, 2);
      const uint16_t got = kernels::f16_bits(f);
      if (std::isnan(f)) {
        EXPECT_EQ(got & 0x7c00u, 0x7c00u);
        EXPECT_NE(got & 0x3ffu, 0u);
      } else if (wb != got) {
        ADD_FAILURE() << "f16_bits(" << f << " = 0x" << std::hex << v << ") = 0x" << got << ", want 0x" << wb;
        return;
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 3000000);
#else
  GTEST_SKIP() << "no _Float16 in this compiler";
#endif
}

TEST(PackStored, MappedFileReleaseKeepsTheBytes) {
  const std::string path = ::testing::TempDir() + "/release.bin";
  std::vector<uint8_t> bytes(5 * 4096 + 123);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + 3);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
  auto f = MappedFile::open(path);
  ASSERT_EQ(std::memcmp(f->data(), bytes.data(), bytes.size()), 0);  // every page resident now
  f->release(f->data() + 100, 4 * 4096);                              // three whole pages inside
  f->release(f->data(), f->size());                                   // everything
  f->release(bytes.data(), 100);                                      // not this mapping: ignored
  f->release(f->data() + f->size() - 10, 100);                        // runs past the end: ignored
  EXPECT_EQ(std::memcmp(f->data(), bytes.data(), bytes.size()), 0);
  std::remove(path.c_str());
}
