// Tests for COCO RLE (src/io/rle.h). The expected strings are derived by hand from pycocotools' maskApi.c
// (column-major runs starting with zeros; 5-bit little-endian groups, bit 5 = more, bit 4 of the last group =
// sign, +48; the value stored for run i > 2 is cnts[i] - cnts[i-2]); the derivation is written next to each.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "fixture.h"
#include "io/rle.h"

namespace sam3 {
namespace {

std::vector<uint8_t> zeros(int64_t h, int64_t w) { return std::vector<uint8_t>(static_cast<size_t>(h * w), 0); }

std::string enc(const std::vector<uint8_t>& m, int64_t h, int64_t w) { return rle_to_string(rle_encode(m.data(), h, w)); }

TEST(Rle, AllZeros) {
  // 2x2 zeros: counts [4] -> 4 fits in one group (bit 4 clear) -> '0'+4 = '4'.
  EXPECT_EQ(enc(zeros(2, 2), 2, 2), "4");
  // 4x4 zeros: counts [16]: group 16 has bit 4 set (would read as negative), so a second group 0 follows:
  // (16|32)+48 = 96 '`', then '0'.
  EXPECT_EQ(enc(zeros(4, 4), 4, 4), "`0");
  // 10x10 zeros: counts [100] = 3*32 + 4 -> (4|32)+48 = 'T', then 3+48 = '3'.
  EXPECT_EQ(enc(zeros(10, 10), 10, 10), "T3");
  // 1000x1000 zeros: 1000000 = groups 0, 18, 16, 30 (LSB first); 30 has bit 4 set so a 0 group ends it:
  // 'P'(0|32), 'b'(18|32), '`'(16|32), 'n'(30|32), '0'.
  EXPECT_EQ(enc(zeros(1000, 1000), 1000, 1000), "Pb`n0");
}

TEST(Rle, AllOnes) {
  // counts [0, 4] -> "0" "4".
  std::vector<uint8_t> m(4, 1);
  Rle r = rle_encode(m.data(), 2, 2);
  EXPECT_EQ(r.counts, (std::vector<uint32_t>{0, 4}));
  EXPECT_EQ(rle_to_string(r), "04");
  EXPECT_EQ(rle_area(r), 4);
}

TEST(Rle, SinglePixel) {
  // 2x2, pixel (row 1, col 0): column-major index 1 -> counts [1, 1, 2] -> "112".
  auto m = zeros(2, 2);
  m[1 * 2 + 0] = 1;
  EXPECT_EQ(enc(m, 2, 2), "112");
  // 2x2, pixel (row 0, col 1): column-major index 2 -> counts [2, 1, 1] -> "211" (the row-major index would be 1).
  m = zeros(2, 2);
  m[0 * 2 + 1] = 1;
  EXPECT_EQ(enc(m, 2, 2), "211");
}

TEST(Rle, Checkerboard2x3) {
  // m[r][c] = (r + c) % 2, h=2, w=3. Column-major: 0,1 | 1,0 | 0,1 -> counts [1, 2, 2, 1].
  // Strings: 1 -> '1', 2 -> '2', 2 -> '2' (no delta for i = 2), i = 3: 1 - 2 = -1 -> group 31 with x = -1
  // afterwards, bit 4 set and x == -1 -> stop: 31+48 = 'O'.
  std::vector<uint8_t> m(6);
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 3; ++c) m[static_cast<size_t>(r * 3 + c)] = static_cast<uint8_t>((r + c) % 2);
  Rle rle = rle_encode(m.data(), 2, 3);
  EXPECT_EQ(rle.counts, (std::vector<uint32_t>{1, 2, 2, 1}));
  EXPECT_EQ(rle_to_string(rle), "122O");
  EXPECT_EQ(rle_area(rle), 3);
  // The other phase: 1,0 | 0,1 | 1,0 -> counts [0, 1, 2, 2, 1] -> '0' '1' '2', 2-1 = 1 -> '1', 1-2 = -1 -> 'O'.
  for (auto& v : m) v ^= 1;
  EXPECT_EQ(enc(m, 2, 3), "0121O");
}

TEST(Rle, MultiGroupNegativeDelta) {
  // 1x103: 0, then 100 ones, 0, 1 -> counts [1, 100, 1, 1]. i = 3 stores 1 - 100 = -99 = -4*32 + 29:
  // group 29 (bit 4 set, x = -4 != -1 -> more) -> (29|32)+48 = 'm'; group 28, x = -1 -> stop -> 28+48 = 'L'.
  std::vector<uint8_t> m(103, 0);
  for (int i = 1; i <= 100; ++i) m[static_cast<size_t>(i)] = 1;
  m[102] = 1;
  Rle r = rle_encode(m.data(), 1, 103);
  EXPECT_EQ(r.counts, (std::vector<uint32_t>{1, 100, 1, 1}));
  EXPECT_EQ(rle_to_string(r), "1T31mL");
  Rle back = rle_from_string("1T31mL", 1, 103);
  EXPECT_EQ(back.counts, r.counts);
}

TEST(Rle, EmptyMask) {
  Rle r = rle_encode(nullptr, 0, 5);
  EXPECT_EQ(r.counts, (std::vector<uint32_t>{0}));
  EXPECT_EQ(rle_to_string(r), "0");
  EXPECT_TRUE(rle_decode(r).empty());
}

TEST(Rle, RandomRoundTrips) {
  std::mt19937 rng(7);
  for (int iter = 0; iter < 300; ++iter) {
    const int64_t h = std::uniform_int_distribution<int>(1, 40)(rng);
    const int64_t w = std::uniform_int_distribution<int>(1, 40)(rng);
    // Mix of densities and blobby masks (long runs exercise multi-group values and large deltas).
    const double p = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    const bool blobby = iter % 2;
    std::vector<uint8_t> m(static_cast<size_t>(h * w));
    uint8_t state = 0;
    int64_t area = 0;
    for (auto& v : m) {
      if (blobby) {
        if (std::uniform_real_distribution<double>(0.0, 1.0)(rng) < 0.05) state ^= 1;
        v = state;
      } else {
        v = std::uniform_real_distribution<double>(0.0, 1.0)(rng) < p;
      }
      area += v;
    }
    Rle r = rle_encode(m.data(), h, w);
    EXPECT_EQ(rle_area(r), area);
    const std::string s = rle_to_string(r);
    Rle back = rle_from_string(s, h, w);
    ASSERT_EQ(back.counts, r.counts) << "h=" << h << " w=" << w << " s=" << s;
    ASSERT_EQ(rle_decode(back), m) << "h=" << h << " w=" << w;
  }
}

TEST(Rle, RejectsMalformed) {
  EXPECT_THROW(rle_from_string("4", 2, 3), Error);       // sums to 4, mask has 6 pixels
  EXPECT_THROW(rle_from_string("4\x7f", 2, 2), Error);   // char outside '0'..'o'
  EXPECT_THROW(rle_from_string("T", 10, 10), Error);     // 'T' announces another group
  EXPECT_THROW(rle_from_string("O", 1, 1), Error);       // -1 as a first run
  Rle bad;
  bad.h = 2;
  bad.w = 2;
  bad.counts = {1, 1};
  EXPECT_THROW(rle_decode(bad), Error);
}

// Every kept mask of every fixture case: unpack the bits (np.packbits, big bit order, row-major over H*W),
// encode, compress, parse back, decode: identical mask, and the area equals final.mask_pixel_counts.
TEST(Rle, FixtureMasksRoundTrip) {
  std::ifstream f(test::golden_path("tiny/manifest.json"));
  ASSERT_TRUE(f.good());
  const nlohmann::json manifest = nlohmann::json::parse(f);
  int n_files = 0, n_masks = 0;
  for (const char* img : {"test_image", "groceries"}) {
    for (int c = 1; c <= 5; ++c) {
      const std::string name = std::string(img) + ".case" + std::to_string(c) + ".safetensors";
      const auto& info = manifest.at("files").at(name);
      const int64_t H = info.at("H").get<int64_t>(), W = info.at("W").get<int64_t>();
      TensorFile tf = test::open_fixture("tiny/" + name);
      const Tensor& packed = tf.get("final.masks_packbits");
      const Tensor& counts = tf.get("final.mask_pixel_counts");
      ASSERT_EQ(packed.dim(), 2);
      const int64_t n = packed.size(0), row_bytes = packed.size(1);
      ASSERT_EQ(row_bytes, (H * W + 7) / 8) << name;
      ASSERT_EQ(counts.numel(), n);
      for (int64_t i = 0; i < n; ++i) {
        const uint8_t* bits = packed.data<uint8_t>() + i * row_bytes;
        std::vector<uint8_t> m(static_cast<size_t>(H * W));
        for (int64_t p = 0; p < H * W; ++p) m[static_cast<size_t>(p)] = (bits[p >> 3] >> (7 - (p & 7))) & 1;
        Rle r = rle_encode(m.data(), H, W);
        EXPECT_EQ(rle_area(r), counts.data<int64_t>()[i]) << name << " mask " << i;
        EXPECT_GT(r.counts.size(), 2u) << name << " mask " << i << " is trivial";
        Rle back = rle_from_string(rle_to_string(r), H, W);
        EXPECT_EQ(back.counts, r.counts) << name << " mask " << i;
        EXPECT_EQ(rle_decode(back), m) << name << " mask " << i;
        ++n_masks;
      }
      ++n_files;
    }
  }
  EXPECT_EQ(n_files, 10);
  EXPECT_GT(n_masks, 10);
}

}  // namespace
}  // namespace sam3
