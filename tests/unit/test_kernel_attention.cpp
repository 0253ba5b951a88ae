// Unit tests: the fused flash-style CPU attention against the reference (full score rows, double), on awkward
// sizes (1, primes, non-multiples of the 64-query / 256-key tiles and of the SIMD width), strided layouts
// (packed qkv, head-first, sequence-first), additive bias, key padding (incl. fully masked rows) and large logits;
// and bf16 products (ops.h) on every kernel that computes them: the CPU kernels' roundings, and the oneDNN tile
// kernel with f32 storage (every CPU) and bf16 storage (where oneDNN has bf16 kernels, emulated ones included).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/ops.h"
#include "kernels/cpu.h"
#include "kernels/cpu/onednn_matmul.h"
#include "kernels/quantize.h"
#include "kernels/ref.h"
#include "kernels/simd_math.h"  // SAM3_AVX2
#include "test_kernel_common.h"

using namespace sam3;
using namespace sam3::test;

namespace {

enum class Layout { kSeqFirst, kPackedQkv, kHeadFirst };

struct Case {
  int64_t heads, lq, lk, d;
  Layout layout = Layout::kSeqFirst;
  bool bias = false, pad = false;
  float qk_range = 1.0f;  // q, k ~ U(-r, r): large r gives peaked softmax and tests the running max
  bool bf16 = false;      // bf16 products
  bool causal = false;
};

// Which kernel computes the result compared with the reference: kernels::cpu::attention (its dispatch), the tile
// kernel with f32 or bf16 storage, or the AVX-512 kernels (then also compared bit for bit with the AVX2 ones).
enum class Kernel { kCpu, kTilesF32, kTilesBf16, kAvx512 };
constexpr double kBf16Ulp = 1.0 / 256;  // 2^-8: two bf16 roundings of the same weight differ by at most this

// Keys up to which every kernel the case may run visits one key tile (the CPU kernels' tiles hold 128, the oneDNN
// tiles 576): the running max is then the row's max, so the kernel rounds P on the reference's grid.
int64_t key_tile(Kernel k) { return k == Kernel::kCpu || k == Kernel::kAvx512 ? 128 : 576; }

void run_kernel(Kernel k, const ops::AttentionArgs& a, int threads) {
  if (k == Kernel::kCpu) return kernels::cpu::attention(a, threads);
  if (k == Kernel::kAvx512) return kernels::cpu::attention_avx512(a, threads);
  kernels::cpu::attention_bf16_tiles(
      a, threads, k == Kernel::kTilesF32 ? kernels::cpu::AttentionTileStorage::F32 : kernels::cpu::AttentionTileStorage::BF16);
}

// Tolerance per output element (i, h, d). With δ = the worst absolute error of query i's scores — dot_tol(D,
// scale·Σ|q||k|) for the f32 product plus 2 ulp of |s| for the scale/bias adds — each softmax weight is off by a
// relative ≲ 2δ (numerator and the normaliser), the fast exp adds ≤ 2 eps, and the f32 sums over Lk keys (of l
// and of Σ p·v) add ≲ (2·sqrt(Lk)+4)·eps relative. All of it multiplies max_j |v_jd|.
// bf16 products: the same with the rounded operands (scores in log2 units, where an error δ moves 2^s by ≤ δ·ln 2
// relative), plus 2^-8 relative: a kernel rounds each weight relative to its running max, the reference relative
// to the row's final max, two roundings of one value. Within one key tile both round on the same grid, so there
// the result must also be much closer to the reference than bf16's whole effect (the mean |Δ| below a tenth of the
// mean |bf16 − f32|): a rounding left out (of q, k, v or P) fails that.
void check(const Case& c, int threads, uint32_t seed, Kernel kernel = Kernel::kCpu) {
  std::mt19937 g(seed);
  const int64_t H = c.heads, D = c.d;
  ops::AttentionArgs a;
  std::vector<float> qb, kb, vb;
  // Lay out q, k, v according to c.layout.
  if (c.layout == Layout::kPackedQkv) {
    if (c.lq != c.lk) throw Error("packed qkv needs lq == lk");
    qb = random_vec(g, c.lq * 3 * H * D, -c.qk_range, c.qk_range);
    for (int64_t i = 0; i < c.lq; ++i)  // v part back to [-1, 1]
      for (int64_t e = 0; e < H * D; ++e) qb[static_cast<size_t>(i * 3 * H * D + 2 * H * D + e)] /= c.qk_range;
    a.q = qb.data();
    a.k = qb.data() + H * D;
    a.v = qb.data() + 2 * H * D;
    a.q_row = a.k_row = a.v_row = 3 * H * D;
    a.q_head = a.k_head = a.v_head = D;
  } else {
    qb = random_vec(g, c.lq * H * D, -c.qk_range, c.qk_range);
    kb = random_vec(g, c.lk * H * D, -c.qk_range, c.qk_range);
    vb = random_vec(g, c.lk * H * D);
    a.q = qb.data();
    a.k = kb.data();
    a.v = vb.data();
    if (c.layout == Layout::kSeqFirst) {
      a.q_row = a.k_row = a.v_row = H * D;
      a.q_head = a.k_head = a.v_head = D;
    } else {
      a.q_row = a.k_row = a.v_row = D;
      a.q_head = c.lq * D;
      a.k_head = a.v_head = c.lk * D;
    }
  }
  std::vector<float> bias;
  if (c.bias) {
    bias = random_vec(g, H * c.lq * c.lk, -2.0f, 2.0f);
    a.bias = bias.data();
    a.bias_head = c.lq * c.lk;
  }
  std::vector<uint8_t> pad;
  if (c.pad) {
    pad.resize(static_cast<size_t>(c.lk));
    for (int64_t j = 0; j < c.lk; ++j) pad[static_cast<size_t>(j)] = (g() % 3 == 0) ? 1 : 0;
    pad[0] = 0;  // at least one live key (the all-masked case has its own test)
    a.key_pad = pad.data();
  }
  a.n_heads = H;
  a.lq = c.lq;
  a.lk = c.lk;
  a.head_dim = D;
  a.scale = 1.0f / std::sqrt(static_cast<float>(D));
  a.bf16 = c.bf16;
  a.causal = c.causal;
  // Output: sequence-first (or head-first for the head-first layout), poisoned with NaN.
  std::vector<float> got(static_cast<size_t>(c.lq * H * D), NAN), want(got.size(), NAN);
  if (c.layout == Layout::kHeadFirst) {
    a.o_row = D;
    a.o_head = c.lq * D;
  } else {
    a.o_row = H * D;
    a.o_head = D;
  }
  ops::AttentionArgs r = a;
  a.out = got.data();
  r.out = want.data();
  run_kernel(kernel, a, threads);
  kernels::ref::attention(r);
  if (kernel == Kernel::kAvx512) {  // the same floats as the AVX2 kernels (attention_avx512.cpp)
    std::vector<float> avx2(got.size(), NAN);
    ops::AttentionArgs a2 = a;
    a2.out = avx2.data();
    kernels::cpu::attention_avx2(a2, threads);
    size_t differ = 0;
    for (size_t e = 0; e < got.size(); ++e)
      if (std::memcmp(&got[e], &avx2[e], sizeof(float)) != 0) ++differ;
    EXPECT_EQ(differ, 0u) << "AVX-512 vs AVX2 kernels, H=" << H << " lq=" << c.lq << " lk=" << c.lk << " d=" << D
                          << (c.bias ? " bias" : "") << (c.pad ? " pad" : "") << (c.causal ? " causal" : "")
                          << (c.bf16 ? " bf16" : "") << ": elements that differ";
  }

  // The operands as the products see them (bf16: rounded, q·scale·log2 e; scores in log2 units).
  const double log2e = 1.44269504088896340736;
  auto qop = [&](int64_t i, int64_t h, int64_t d) -> double {
    const float x = a.q[i * a.q_row + h * a.q_head + d];
    return c.bf16 ? kernels::round_bf16(x * static_cast<float>(a.scale * log2e)) : x * double(a.scale);
  };
  auto op = [&](float x) -> double { return c.bf16 ? kernels::round_bf16(x) : x; };
  const double bias_scale = c.bf16 ? log2e : 1.0;
  std::vector<double> tol(got.size());
  for (int64_t h = 0; h < H; ++h) {
    std::vector<double> vmax(static_cast<size_t>(D), 0.0);
    for (int64_t j = 0; j < c.lk; ++j)
      for (int64_t d = 0; d < D; ++d)
        vmax[static_cast<size_t>(d)] = std::max(vmax[static_cast<size_t>(d)], std::fabs(op(a.v[j * a.v_row + h * a.v_head + d])));
    for (int64_t i = 0; i < c.lq; ++i) {
      double delta = 0;
      for (int64_t j = 0; j < c.lk; ++j) {
        double abs_dot = 0, dot = 0;
        for (int64_t d = 0; d < D; ++d) {
          const double qv = qop(i, h, d), kv = op(a.k[j * a.k_row + h * a.k_head + d]);
          abs_dot += std::fabs(qv * kv);
          dot += qv * kv;
        }
        double s = dot + (c.bias ? bias[static_cast<size_t>(h * c.lq * c.lk + i * c.lk + j)] * bias_scale : 0.0);
        delta = std::max(delta, dot_tol(D, abs_dot) + 2 * kEps * std::fabs(s));
      }
      for (int64_t d = 0; d < D; ++d) {
        const size_t o = static_cast<size_t>(i * a.o_row + h * a.o_head + d);
        tol[o] = vmax[static_cast<size_t>(d)] * (2 * delta + (2 * std::sqrt(static_cast<double>(c.lk)) + 6) * kEps +
                                                 (c.bf16 ? kBf16Ulp : 0.0)) +
                 1e-30;
      }
    }
  }
  const std::string what = "attention H=" + std::to_string(H) + " lq=" + std::to_string(c.lq) + " lk=" +
                           std::to_string(c.lk) + " d=" + std::to_string(D) + " layout=" +
                           std::to_string(static_cast<int>(c.layout)) + (c.bias ? " bias" : "") +
                           (c.pad ? " pad" : "") + (c.causal ? " causal" : "") + (c.bf16 ? " bf16" : "") +
                           " kernel=" + std::to_string(static_cast<int>(kernel)) +
                           " threads=" + std::to_string(threads);
  EXPECT_TRUE(within(got, want, tol, what));
  if (c.bf16 && c.lk <= key_tile(kernel)) {
    std::vector<float> f32(got.size(), NAN);
    ops::AttentionArgs r32 = r;
    r32.bf16 = false;
    r32.out = f32.data();
    kernels::ref::attention(r32);
    double off = 0, effect = 0;
    for (size_t e = 0; e < got.size(); ++e) {
      if (std::isnan(want[e])) continue;  // layouts with gaps
      off += std::fabs(double(got[e]) - want[e]);
      effect += std::fabs(double(want[e]) - f32[e]);
    }
    EXPECT_LE(off, 0.1 * effect) << what << ": mean |kernel - ref| vs mean |bf16 - f32| (ref)";
  }
}

}  // namespace

TEST(KernelAttention, AwkwardSizes) {
  uint32_t seed = 1;
  for (int64_t lq : {1, 7, 64, 65, 131})
    for (int64_t lk : {1, 5, 255, 256, 257, 600})
      for (int64_t d : {1, 8, 13, 16, 32, 48, 64}) {
        check({2, lq, lk, d}, static_cast<int>(seed % 2) + 1, seed);
        ++seed;
      }
}

TEST(KernelAttention, Layouts) {
  check({3, 97, 97, 16, Layout::kPackedQkv}, 2, 1);
  check({4, 300, 300, 32, Layout::kPackedQkv}, 1, 2);
  check({3, 70, 301, 24, Layout::kHeadFirst}, 2, 3);
  check({1, 577, 577, 64, Layout::kSeqFirst}, 2, 4);
}

TEST(KernelAttention, BiasPadAndPeakedSoftmax) {
  check({2, 66, 300, 32, Layout::kSeqFirst, true, false}, 2, 5);
  check({2, 66, 300, 32, Layout::kSeqFirst, false, true}, 2, 6);
  check({3, 200, 513, 16, Layout::kHeadFirst, true, true}, 1, 7);
  check({2, 129, 777, 64, Layout::kSeqFirst, false, false, 4.0f}, 2, 8);  // logits up to ~±128: peaked rows
  check({2, 33, 300, 64, Layout::kSeqFirst, true, true, 3.0f}, 2, 9);
}

// bf16 products: every case on one kernel. Sizes span one and several key tiles (128 keys on the CPU kernels, 576
// on the tiles), query tiles (96 / 192) and their remainders; D = 8 and 13 take the CPU kernels' generic path.
void check_bf16_cases(Kernel kernel) {
  uint32_t seed = 100;
  for (int64_t lq : {1, 37, 200})
    for (int64_t lk : {1, 100, 300, 700})
      for (int64_t d : {8, 13, 16, 64}) {
        check({2, lq, lk, d, Layout::kSeqFirst, false, false, 1.0f, true}, static_cast<int>(seed % 2) + 1, seed, kernel);
        ++seed;
      }
  check({3, 97, 97, 16, Layout::kPackedQkv, false, false, 1.0f, true}, 2, 1, kernel);
  check({3, 70, 301, 24, Layout::kHeadFirst, false, false, 1.0f, true}, 2, 3, kernel);
  check({2, 66, 120, 32, Layout::kSeqFirst, true, true, 1.0f, true}, 2, 5, kernel);
  check({3, 200, 613, 16, Layout::kHeadFirst, true, true, 1.0f, true}, 1, 7, kernel);
  check({2, 129, 777, 64, Layout::kSeqFirst, false, false, 4.0f, true}, 2, 8, kernel);  // peaked rows
  check({2, 120, 120, 64, Layout::kSeqFirst, false, true, 3.0f, true, true}, 2, 9, kernel);   // causal
  check({2, 300, 300, 16, Layout::kSeqFirst, true, false, 1.0f, true, true}, 2, 11, kernel);  // causal
  check({1, 5184 / 8, 1300, 64, Layout::kSeqFirst, false, false, 1.0f, true}, 2, 12, kernel);
}

// kernels::cpu::attention with a.bf16: the oneDNN tiles where the CPU has bf16 instructions, else the CPU kernels with
// the roundings (this test's _isa_avx2 run takes the latter on every CPU).
TEST(KernelAttention, Bf16Products) { check_bf16_cases(Kernel::kCpu); }

// The oneDNN tile kernel with f32 storage of the bf16-rounded operands: oneDNN's f32 kernels, so every CPU runs the
// tile kernel's tiling, masks, online softmax and rescaling.
TEST(KernelAttention, Bf16TilesWithF32Storage) { check_bf16_cases(Kernel::kTilesF32); }

// The AVX-512 kernels where the CPU has AVX-512: against the reference, and bit for bit against the AVX2 kernels, on
// every case above whose head_dim they take (a multiple of 16). (Elsewhere, and in the _isa_avx2 run, they are
// not available: attention() takes the AVX2 kernels, which the tests above cover.)
TEST(KernelAttention, Avx512MatchesAvx2) {
  if (!kernels::cpu::attention_avx512_available())
    GTEST_SKIP() << "no AVX-512 here (" << kernels::cpu::onednn_isa_name() << ")";
  uint32_t seed = 1;
  for (int64_t lq : {1, 7, 64, 65, 131})
    for (int64_t lk : {1, 5, 255, 256, 257, 600})
      for (int64_t d : {16, 32, 48, 64}) {
        check({2, lq, lk, d}, static_cast<int>(seed % 2) + 1, seed, Kernel::kAvx512);
        ++seed;
      }
  check({3, 97, 97, 16, Layout::kPackedQkv}, 2, 1, Kernel::kAvx512);
  check({4, 300, 300, 32, Layout::kPackedQkv}, 1, 2, Kernel::kAvx512);
  check({1, 577, 577, 64, Layout::kSeqFirst}, 2, 4, Kernel::kAvx512);
  check({2, 66, 300, 32, Layout::kSeqFirst, true, false}, 2, 5, Kernel::kAvx512);
  check({2, 66, 300, 32, Layout::kSeqFirst, false, true}, 2, 6, Kernel::kAvx512);
  check({3, 200, 513, 16, Layout::kHeadFirst, true, true}, 1, 7, Kernel::kAvx512);
  check({2, 129, 777, 64, Layout::kSeqFirst, false, false, 4.0f}, 2, 8, Kernel::kAvx512);
  check({2, 33, 300, 64, Layout::kSeqFirst, true, true, 3.0f}, 2, 9, Kernel::kAvx512);
  check({2, 120, 120, 64, Layout::kSeqFirst, false, true, 3.0f, false, true}, 2, 10, Kernel::kAvx512);  // causal
  check({2, 300, 300, 48, Layout::kSeqFirst, true, false, 1.0f, false, true}, 2, 11, Kernel::kAvx512);  // causal
  for (int64_t lq : {1, 37, 200})  // bf16 products
    for (int64_t lk : {1, 100, 300, 700})
      for (int64_t d : {16, 32, 64}) {
        check({2, lq, lk, d, Layout::kSeqFirst, false, false, 1.0f, true}, static_cast<int>(seed % 2) + 1, seed,
              Kernel::kAvx512);
        ++seed;
      }
  check({2, 66, 120, 32, Layout::kSeqFirst, true, true, 1.0f, true}, 2, 5, Kernel::kAvx512);
  check({2, 120, 120, 64, Layout::kSeqFirst, false, true, 3.0f, true, true}, 2, 9, Kernel::kAvx512);
}

// The tile kernel as the model runs it where the CPU has bf16 kernels (AMX, AVX512-BF16); also where oneDNN only
// emulates bf16 (AVX-512 without AVX512-BF16: the model does not use the tiles there, too slow, but they run).
TEST(KernelAttention, Bf16TilesWithBf16Storage) {
  if (!kernels::cpu::onednn_has_kernel(kernels::cpu::OnednnMatmul::Kind::BF16))
    GTEST_SKIP() << "oneDNN has no bf16 kernel on this CPU (" << kernels::cpu::onednn_isa_name()
                 << "): bf16 attention runs on the CPU kernels (Bf16Products)";
  check_bf16_cases(Kernel::kTilesBf16);
}

TEST(KernelAttention, FullyMaskedRowsAndMaskedBias) {
  // All keys padded -> zero output (reference convention); a -inf bias masks like padding. D = 8 takes the
  // generic path, D = 16 the AVX2 micro-kernels.
  for (int64_t D : {8, 16}) {
    const int64_t H = 2, L = 70;
    std::mt19937 g(10);
    auto q = random_vec(g, L * H * D), k = random_vec(g, L * H * D), v = random_vec(g, L * H * D);
    std::vector<uint8_t> pad(static_cast<size_t>(L), 1);
    std::vector<float> bias(static_cast<size_t>(H * L * L), 0.0f);
    for (int64_t j = 0; j < L; ++j)
      for (int64_t i = 0; i < L; ++i) bias[static_cast<size_t>(i * L + j)] = (j > i) ? -INFINITY : 0.0f;  // causal, head 0
    ops::AttentionArgs a;
    a.q = q.data(), a.k = k.data(), a.v = v.data();
    a.q_row = a.k_row = a.v_row = a.o_row = H * D;
    a.q_head = a.k_head = a.v_head = a.o_head = D;
    a.n_heads = H, a.lq = L, a.lk = L, a.head_dim = D, a.scale = 0.3f;
    std::vector<float> out(static_cast<size_t>(L * H * D), NAN), want(out.size(), NAN);
    a.key_pad = pad.data();
    a.out = out.data();
    ops::attention(a, RunContext{2});
    for (float o : out) EXPECT_EQ(o, 0.0f);
    a.key_pad = nullptr;
    a.bias = bias.data();
    a.bias_head = L * L;
    ops::attention(a, RunContext{2});
    ops::AttentionArgs r = a;
    r.out = want.data();
    kernels::ref::attention(r);
    EXPECT_TRUE(within(out, want, {1e-5}, "causal bias D=" + std::to_string(D)));  // |v| ≤ 1, D ≤ 16, L = 70
  }
}

// The causal flag: against the reference (same tolerance as the causal bias above), and on the AVX2 micro-kernels
// (D a multiple of 16) bit-identical to attending each query i over the first i+1 keys alone, which is how the
// text encoder ran before (the masked keys add exact zeros). L = 300 spans three key tiles; D = 8 is the generic
// path; 2 threads.
TEST(KernelAttention, CausalEqualsPrefixAttention) {
  for (int64_t D : {8, 16, 64}) {
    const int64_t H = 3, L = D == 64 ? 32 : 300;  // 32 x 64: the text encoder's shape per head
    std::mt19937 g(12);
    auto q = random_vec(g, L * H * D, -2.0f, 2.0f), k = random_vec(g, L * H * D, -2.0f, 2.0f);
    auto v = random_vec(g, L * H * D);
    ops::AttentionArgs a;
    a.q = q.data(), a.k = k.data(), a.v = v.data();
    a.q_row = a.k_row = a.v_row = a.o_row = H * D;
    a.q_head = a.k_head = a.v_head = a.o_head = D;
    a.n_heads = H, a.lq = L, a.lk = L, a.head_dim = D, a.scale = 0.3f;
    a.causal = true;
    std::vector<float> out(static_cast<size_t>(L * H * D), NAN), want(out.size(), NAN), rows(out.size(), NAN);
    a.out = out.data();
    ops::attention(a, RunContext{2});
    ops::AttentionArgs r = a;
    r.out = want.data();
    kernels::ref::attention(r);
    EXPECT_TRUE(within(out, want, {1e-5}, "causal D=" + std::to_string(D)));
    for (int64_t i = 0; i < L; ++i) {
      ops::AttentionArgs one = a;
      one.causal = false;
      one.q = q.data() + i * H * D;
      one.out = rows.data() + i * H * D;
      one.lq = 1;
      one.lk = i + 1;
      ops::attention(one, RunContext{2});
    }
#ifdef SAM3_AVX2
    if (D % 16 == 0) {
      EXPECT_EQ(0, std::memcmp(out.data(), rows.data(), out.size() * sizeof(float))) << "D=" << D;
    }
#endif
    EXPECT_TRUE(within(out, rows, {1e-5}, "causal vs prefix D=" + std::to_string(D)));
  }
  ops::AttentionArgs bad;
  std::vector<float> buf(64, 0.0f), o(64);
  bad.q = bad.k = bad.v = buf.data();
  bad.out = o.data();
  bad.q_row = bad.k_row = bad.v_row = bad.o_row = 4;
  bad.n_heads = 1, bad.lq = 2, bad.lk = 3, bad.head_dim = 4, bad.scale = 1.0f;
  bad.causal = true;
  EXPECT_THROW(ops::attention(bad, RunContext{1}), Error);  // causal needs lq == lk
}

TEST(KernelAttention, OpChecks) {
  std::vector<float> buf(1000, 0.0f);
  ops::AttentionArgs a;
  a.q = a.k = a.v = buf.data();
  a.out = buf.data() + 500;
  a.q_row = a.k_row = a.v_row = a.o_row = 8;
  a.q_head = a.k_head = a.v_head = a.o_head = 4;
  a.n_heads = 2, a.lq = 10, a.lk = 10, a.head_dim = 4, a.scale = 0.5f;
  ops::attention(a, RunContext{1});
  ops::AttentionArgs b = a;
  b.out = buf.data() + 40;  // overlaps q/k/v
  EXPECT_THROW(ops::attention(b, RunContext{1}), Error);
  b = a;
  b.head_dim = 0;
  EXPECT_THROW(ops::attention(b, RunContext{1}), Error);
  b = a;
  b.v = nullptr;
  EXPECT_THROW(ops::attention(b, RunContext{1}), Error);
  b = a;
  b.o_row = 2;  // output rows overlap each other
  EXPECT_THROW(ops::attention(b, RunContext{1}), Error);
}
