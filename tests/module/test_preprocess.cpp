// Pre-processing vs the official pipeline (golden/resize/resize_cases.safetensors and the preprocess.* tensors of
// golden/tiny/<image>.image.safetensors), and the optimised resize kernels vs the reference kernels.
//
// Tolerances (docs/numerics.md, "Decoding and pre-processing"): none. The kernels reproduce torch's float32
// operation sequence exactly (kernels/resize_taps.h), so every uint8 must match (0 differing pixels, the bound asserted
// below) and every float must be identical; the float comparisons use atol 1e-6 only as the documented ceiling
// (measured: 0 on every case), and kMaxU8Mismatches = 0.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/ops.h"
#include "fixture.h"
#include "io/image_decode.h"
#include "io/preprocess.h"
#include "kernels/cpu.h"
#include "kernels/ref.h"
#include "kernels/resize_taps.h"

namespace sam3 {
namespace {

constexpr int64_t kMaxU8Mismatches = 0;  // measured 0 on every fixture case
constexpr double kFloatAtol = 1e-6;      // measured max |diff| = 0 on every fixture case
constexpr int kThreads = 2;

const TensorFile& cases() {
  static const TensorFile f = test::open_fixture("resize/resize_cases.safetensors");
  return f;
}

int64_t u8_mismatches(const uint8_t* a, const uint8_t* b, int64_t n) {
  int64_t bad = 0;
  for (int64_t i = 0; i < n; ++i) bad += a[i] != b[i];
  return bad;
}

// A CHW uint8 fixture tensor [3, H, W] as an Image (HWC), the layout the pipeline starts from.
Image image_from_chw(const Tensor& chw) {
  const int64_t H = chw.size(1), W = chw.size(2);
  Image img = Image::allocate(H, W);
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < H * W; ++i) img.pixels[static_cast<size_t>(i * 3 + c)] = chw.data<uint8_t>()[c * H * W + i];
  return img;
}

ops::U8Planes chw_planes(const Tensor& chw) {
  ops::U8Planes p;
  p.data = chw.data<uint8_t>();
  p.channels = chw.size(0);
  p.height = chw.size(1);
  p.width = chw.size(2);
  p.c_stride = p.height * p.width;
  p.y_stride = p.width;
  p.x_stride = 1;
  return p;
}

// ---- anti-aliased resize of synthetic inputs ---------------------------------------------------------------------

class ResizeCase : public ::testing::TestWithParam<const char*> {};

TEST_P(ResizeCase, MatchesTorchExactly) {
  const std::string name = GetParam();
  const Tensor& in = cases().get(name + ".in_u8");  // [3, h, w]
  const Tensor& want = cases().get(name + ".out_u8");
  const int64_t oh = want.size(1), ow = want.size(2);

  // The production path (HWC image, optimised kernel).
  const Tensor got = resize_image_u8(image_from_chw(in), oh, ow, kThreads);
  const int64_t bad = u8_mismatches(got.data<uint8_t>(), want.data<uint8_t>(), want.numel());
  EXPECT_LE(bad, kMaxU8Mismatches) << bad << " of " << want.numel() << " pixels differ";

  // Both kernels on the CHW planes, before rounding.
  if (cases().has(name + ".out_f32_before_round")) {
    const Tensor& want_f = cases().get(name + ".out_f32_before_round");
    Tensor ref_f = Tensor::empty(want_f.shape(), DType::F32), cpu_f = Tensor::empty(want_f.shape(), DType::F32);
    kernels::ref::resize_aa_f32(chw_planes(in), oh, ow, ref_f.f32());
    kernels::cpu::resize_aa_f32(chw_planes(in), oh, ow, cpu_f.f32(), kThreads);
    EXPECT_TRUE(test::tensors_close(ref_f, want_f, kFloatAtol, 0));
    EXPECT_TRUE(test::tensors_close(cpu_f, want_f, kFloatAtol, 0));
  }
}

INSTANTIATE_TEST_SUITE_P(Noise, ResizeCase,
                         ::testing::Values("noise_61x97_to_252", "noise_150x205_to_37x61", "noise_120x50_to_64x80",
                                           "noise_33x33_to_33x33"));

TEST(Preprocess, GradientToModelInput) {
  const Tensor& in = cases().get("gradient_45x80.in_u8");
  const Tensor& want = cases().get("gradient_45x80.r252.resized_u8");
  const Tensor& want_norm = cases().get("gradient_45x80.r252.normalized_rows0_7");  // [3, 8, 252]
  const Image img = image_from_chw(in);
  const Tensor resized = resize_image_u8(img, 252, 252, kThreads);
  EXPECT_LE(u8_mismatches(resized.data<uint8_t>(), want.data<uint8_t>(), want.numel()), kMaxU8Mismatches);
  const Tensor x = preprocess_image(img, 252, kThreads);  // [1, 3, 252, 252]
  ASSERT_EQ(x.shape(), (Shape{1, 3, 252, 252}));
  Tensor rows = Tensor::empty({3, 8, 252}, DType::F32);
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < 8 * 252; ++i) rows.f32()[c * 8 * 252 + i] = x.f32()[c * 252 * 252 + i];
  EXPECT_TRUE(test::tensors_close(rows, want_norm, kFloatAtol, 0));
}

// ---- the real images at 1008 (the full model's resolution) ------------------------------------------------------

class RealImage : public ::testing::TestWithParam<const char*> {};

TEST_P(RealImage, ResizeTo1008MatchesEveryRowAndColumnSum) {
  const std::string stem = GetParam();
  const Image img = decode_image_file(test::golden_path("images/" + stem + ".jpg"));
  const Tensor got = resize_image_u8(img, 1008, 1008, kThreads);  // [3, 1008, 1008]
  const uint8_t* g = got.data<uint8_t>();

  const Tensor& rows = cases().get(stem + ".r1008.rows");
  const Tensor& band = cases().get(stem + ".r1008.resized_u8_rowband");  // [3, 48, 1008]
  const int64_t nr = rows.numel();
  int64_t bad = 0;
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t k = 0; k < nr; ++k)
      bad += u8_mismatches(g + (c * 1008 + rows.data<int64_t>()[k]) * 1008, band.data<uint8_t>() + (c * nr + k) * 1008,
                           1008);
  EXPECT_LE(bad, kMaxU8Mismatches) << "row band";

  // Whole image through its row and column sums.
  const Tensor& row_sums = cases().get(stem + ".r1008.resized_row_sums");  // [3, 1008]
  const Tensor& col_sums = cases().get(stem + ".r1008.resized_col_sums");
  int64_t bad_rows = 0, bad_cols = 0;
  for (int64_t c = 0; c < 3; ++c) {
    for (int64_t i = 0; i < 1008; ++i) {
      int64_t rs = 0, cs = 0;
      for (int64_t j = 0; j < 1008; ++j) {
        rs += g[(c * 1008 + i) * 1008 + j];
        cs += g[(c * 1008 + j) * 1008 + i];
      }
      bad_rows += rs != row_sums.data<int64_t>()[c * 1008 + i];
      bad_cols += cs != col_sums.data<int64_t>()[c * 1008 + i];
    }
  }
  EXPECT_EQ(bad_rows, 0);
  EXPECT_EQ(bad_cols, 0);

  // Normalised values of the first 16 listed rows.
  const Tensor x = normalize_image(got, kThreads);
  const Tensor& want_norm = cases().get(stem + ".r1008.normalized_rowband");  // [3, 16, 1008]
  Tensor ours = Tensor::empty(want_norm.shape(), DType::F32);
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t k = 0; k < 16; ++k)
      for (int64_t j = 0; j < 1008; ++j)
        ours.f32()[(c * 16 + k) * 1008 + j] = x.f32()[(c * 1008 + rows.data<int64_t>()[k]) * 1008 + j];
  EXPECT_TRUE(test::tensors_close(ours, want_norm, kFloatAtol, 0));
}

TEST_P(RealImage, TinyFixturePreprocessing) {
  const std::string stem = GetParam();
  TensorFile tf = test::open_fixture("tiny/" + stem + ".image.safetensors");
  const Image img = decode_image_file(test::golden_path("images/" + stem + ".jpg"));
  const Tensor& want = tf.get("preprocess.resized_u8");  // [3, 252, 252]
  const Tensor got = resize_image_u8(img, 252, 252, kThreads);
  EXPECT_LE(u8_mismatches(got.data<uint8_t>(), want.data<uint8_t>(), want.numel()), kMaxU8Mismatches);
  if (tf.has("preprocess.image")) {
    const Tensor x = preprocess_image(img, 252, kThreads);
    EXPECT_TRUE(test::tensors_close(x, tf.get("preprocess.image"), kFloatAtol, 0));
  }
}

INSTANTIATE_TEST_SUITE_P(Images, RealImage, ::testing::Values("test_image", "groceries"));

TEST(Preprocess, SameSizeIsAnExactCopyAndBadArgumentsThrow) {
  Image img = Image::allocate(5, 7);
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<uint8_t>(i * 31);
  const Tensor t = resize_image_u8(img, 5, 7, 1);
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < 35; ++i) EXPECT_EQ(t.data<uint8_t>()[c * 35 + i], img.pixels[static_cast<size_t>(i * 3 + c)]);
  EXPECT_THROW(resize_image_u8(Image{}, 4, 4, 1), Error);
  EXPECT_THROW(resize_image_u8(img, 0, 4, 1), Error);
  EXPECT_THROW(preprocess_image(img, -1, 1), Error);
  EXPECT_THROW(normalize_image(Tensor::zeros({3, 4, 4}, DType::F32), 1), Error);
  EXPECT_THROW(resize_bilinear(Tensor::zeros({2, 3, 4, 4}, DType::F32), 8, 8, 1), Error);
}

// ---- plain bilinear (mask logits to the original size) ----------------------------------------------------------

class MaskCase : public ::testing::TestWithParam<const char*> {};

TEST_P(MaskCase, MatchesTorchExactly) {
  const std::string name = GetParam();
  const Tensor& logits = cases().get(name + ".logits");  // [n, h, w]
  const Tensor& want = cases().get(name + ".up");        // [n, H, W]
  const Tensor up = resize_bilinear(logits, want.size(1), want.size(2), kThreads);
  EXPECT_TRUE(test::tensors_close(up, want, kFloatAtol, 0));
  Tensor ref = Tensor::empty(want.shape(), DType::F32);
  kernels::ref::upsample_bilinear_f32(logits.f32(), logits.size(0), logits.size(1), logits.size(2), ref.f32(),
                                      want.size(1), want.size(2));
  EXPECT_TRUE(test::tensors_close(ref, want, kFloatAtol, 0));
  if (cases().has(name + ".masks_u8")) {  // sigmoid(up) > 0.5  <=>  up > 0
    const Tensor& masks = cases().get(name + ".masks_u8");
    int64_t bad = 0;
    for (int64_t i = 0; i < masks.numel(); ++i)
      bad += (1.0f / (1.0f + std::exp(-up.f32()[i])) > 0.5f) != (masks.data<uint8_t>()[i] != 0);
    EXPECT_EQ(bad, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Masks, MaskCase,
                         ::testing::Values("mask_72_to_267x400", "mask_288_to_200x300", "mask_72_to_97x131"));

TEST(ResizeBilinear, MaskTo720x1280Rows) {
  const std::string name = "mask_288_to_720x1280_rows";
  const Tensor& logits = cases().get(name + ".logits");  // [1, 288, 288]
  const Tensor& rows = cases().get(name + ".rows");
  const Tensor& want = cases().get(name + ".up_rows");  // [1, 20, 1280]
  const Tensor up = resize_bilinear(logits, 720, 1280, kThreads);
  Tensor ours = Tensor::empty(want.shape(), DType::F32);
  for (int64_t k = 0; k < rows.numel(); ++k)
    for (int64_t x = 0; x < 1280; ++x) ours.f32()[k * 1280 + x] = up.f32()[rows.data<int64_t>()[k] * 1280 + x];
  EXPECT_TRUE(test::tensors_close(ours, want, kFloatAtol, 0));
  const Tensor& row_sums = cases().get(name + ".masks_row_sums");  // [1, 720] mask pixels per row
  int64_t bad = 0;
  for (int64_t y = 0; y < 720; ++y) {
    int64_t n = 0;
    for (int64_t x = 0; x < 1280; ++x) n += 1.0f / (1.0f + std::exp(-up.f32()[y * 1280 + x])) > 0.5f;
    bad += n != row_sums.data<int64_t>()[y];
  }
  EXPECT_EQ(bad, 0);
}

// ---- optimised kernels vs reference kernels (random shapes, strides, thread counts) ------------------------------

TEST(ResizeKernels, CpuEqualsReferenceOnRandomShapes) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 40; ++trial) {
    const int64_t h = 1 + rng() % 90, w = 1 + rng() % 90, oh = 1 + rng() % 90, ow = 1 + rng() % 90;
    const int64_t C = 1 + rng() % 4;
    const bool hwc = trial % 2 == 0;
    std::vector<uint8_t> data(static_cast<size_t>(C * h * w));
    for (auto& v : data) v = static_cast<uint8_t>(rng());
    ops::U8Planes p;
    p.data = data.data();
    p.channels = C;
    p.height = h;
    p.width = w;
    p.c_stride = hwc ? 1 : h * w;
    p.y_stride = hwc ? w * C : w;
    p.x_stride = hwc ? C : 1;
    const size_t n = static_cast<size_t>(C * oh * ow);
    std::vector<float> ref_f(n), cpu_f(n);
    std::vector<uint8_t> ref_u(n), cpu_u(n);
    kernels::ref::resize_aa_f32(p, oh, ow, ref_f.data());
    kernels::ref::resize_aa_u8(p, oh, ow, ref_u.data());
    const int threads = 1 + trial % 3;
    kernels::cpu::resize_aa_f32(p, oh, ow, cpu_f.data(), threads);
    kernels::cpu::resize_aa_u8(p, oh, ow, cpu_u.data(), threads);
    int64_t bad_f = 0, bad_u = 0;
    for (size_t i = 0; i < n; ++i) {
      bad_f += ref_f[i] != cpu_f[i];  // bit-identical by construction: same operations in the same order
      bad_u += ref_u[i] != cpu_u[i];
    }
    EXPECT_EQ(bad_f, 0) << C << "x" << h << "x" << w << " -> " << oh << "x" << ow << (hwc ? " HWC" : " CHW");
    EXPECT_EQ(bad_u, 0) << C << "x" << h << "x" << w << " -> " << oh << "x" << ow << (hwc ? " HWC" : " CHW");
  }
}

TEST(ResizeKernels, LargeDownscaleCpuEqualsReference) {
  // A photo-like downscale with many taps per output (both axes > 4 taps: the mul+add / fma split matters).
  std::mt19937 rng(5);
  Image img = Image::allocate(397, 611);
  for (auto& v : img.pixels) v = static_cast<uint8_t>(rng());
  ops::U8Planes p{img.pixels.data(), 3, img.height, img.width, 1, img.width * 3, 3};
  std::vector<uint8_t> ref(3 * 64 * 72), cpu(3 * 64 * 72);
  kernels::ref::resize_aa_u8(p, 64, 72, ref.data());
  kernels::cpu::resize_aa_u8(p, 64, 72, cpu.data(), 2);
  EXPECT_EQ(ref, cpu);
}

TEST(ResizeKernels, BilinearCpuEqualsReferenceOnRandomShapes) {
  std::mt19937 rng(13);
  std::normal_distribution<float> nd(0.0f, 6.0f);
  for (int trial = 0; trial < 25; ++trial) {
    const int64_t n = 1 + rng() % 3, h = 1 + rng() % 70, w = 1 + rng() % 70, oh = 1 + rng() % 150,
                  ow = 1 + rng() % 150;
    std::vector<float> in(static_cast<size_t>(n * h * w));
    for (auto& v : in) v = nd(rng);
    std::vector<float> ref(static_cast<size_t>(n * oh * ow)), cpu(ref.size());
    kernels::ref::upsample_bilinear_f32(in.data(), n, h, w, ref.data(), oh, ow);
    kernels::cpu::upsample_bilinear_f32(in.data(), n, h, w, cpu.data(), oh, ow, 1 + trial % 3);
    EXPECT_EQ(ref, cpu) << n << "x" << h << "x" << w << " -> " << oh << "x" << ow;
  }
}

// The ops route the resize to the kernel of the context's back end: both back ends give the same bytes and floats.
TEST(ResizeOps, BothBackEndsThroughTheOps) {
  std::mt19937 rng(21);
  Image img = Image::allocate(97, 131);
  for (auto& v : img.pixels) v = static_cast<uint8_t>(rng());
  const ops::U8Planes p{img.pixels.data(), 3, img.height, img.width, 1, img.width * 3, 3};
  const RunContext cpu{2}, ref{1, nullptr, nullptr, Backend::Ref};
  Tensor u_cpu = Tensor::empty({3, 40, 57}, DType::U8), u_ref = Tensor::empty({3, 40, 57}, DType::U8);
  ops::resize_aa(p, u_cpu, cpu);
  ops::resize_aa(p, u_ref, ref);
  EXPECT_TRUE(test::tensors_close(u_cpu, u_ref, 0, 0));
  Tensor f_cpu = Tensor::empty({3, 40, 57}), f_ref = Tensor::empty({3, 40, 57});
  ops::resize_aa(p, f_cpu, cpu);
  ops::resize_aa(p, f_ref, ref);
  EXPECT_TRUE(test::tensors_close(f_cpu, f_ref, 0, 0));
  Tensor m_cpu = Tensor::empty({2, 90, 70}), m_ref = Tensor::empty({2, 90, 70});
  ops::upsample_bilinear(f_cpu.slice0(0, 2), m_cpu, cpu);
  ops::upsample_bilinear(f_cpu.slice0(0, 2), m_ref, ref);
  EXPECT_TRUE(test::tensors_close(m_cpu, m_ref, 0, 0));
  Tensor bad = Tensor::empty({3, 40, 57}, DType::I32);
  EXPECT_THROW(ops::resize_aa(p, bad, cpu), Error);
}

}  // namespace
}  // namespace sam3
