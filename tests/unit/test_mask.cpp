// Tests for sam3::Mask (a mask held as COCO run lengths, sam3.h) and the run arithmetic under it (io/rle.h:
// rle_counts_encode / decode / area / intersection / bounds). The expected runs come from a naive column-major encoder
// written here (maskApi.c's rleEncode loop, as the library had it before it encoded row by row), and from hand
// derivations on the edge cases.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/rle.h"
#include "sam3/sam3.h"

namespace sam3 {
namespace {

using Counts = std::vector<uint32_t>;

// maskApi.c (rleEncode): the row-major h×w mask read column by column, runs of 0s and 1s, 0s first.
Counts naive_encode(const std::vector<uint8_t>& m, int64_t h, int64_t w) {
  Counts c;
  uint8_t cur = 0;
  uint32_t run = 0;
  for (int64_t x = 0; x < w; ++x)
    for (int64_t y = 0; y < h; ++y) {
      const uint8_t v = m[static_cast<size_t>(y * w + x)] ? 1 : 0;
      if (v != cur) {
        c.push_back(run);
        run = 0;
        cur = v;
      }
      ++run;
    }
  c.push_back(run);
  return c;
}

std::vector<uint8_t> ones01(const std::vector<uint8_t>& m) {
  std::vector<uint8_t> o(m.size());
  for (size_t i = 0; i < m.size(); ++i) o[i] = m[i] ? 1 : 0;
  return o;
}

// Encodes through the public API and checks everything that must hold: the naive runs, the round trip, the area,
// the compressed string of both implementations, the self-intersection.
Mask check_round_trip(const std::vector<uint8_t>& m, int h, int w, const std::string& what) {
  const Mask mask = Mask::from_bitmap(m.data(), w, h);
  EXPECT_EQ(mask.width, w) << what;
  EXPECT_EQ(mask.height, h) << what;
  EXPECT_FALSE(mask.empty()) << what;
  EXPECT_EQ(mask.counts, naive_encode(m, h, w)) << what;
  EXPECT_EQ(mask.to_bitmap(), ones01(m)) << what;
  int64_t area = 0;
  for (uint8_t v : m) area += v != 0;
  EXPECT_EQ(mask.area(), area) << what;
  EXPECT_EQ(rle_counts_intersection(mask.counts, mask.counts), area) << what;
  EXPECT_EQ(mask_to_coco_rle(mask), rle_to_string(Rle{h, w, naive_encode(m, h, w)})) << what;
  // The tight box from the runs = the first / last row and column holding a 1.
  int64_t bx0 = w, by0 = h, bx1 = -1, by1 = -1;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      if (m[static_cast<size_t>(y * w + x)]) {
        bx0 = std::min<int64_t>(bx0, x);
        bx1 = std::max<int64_t>(bx1, x);
        by0 = std::min<int64_t>(by0, y);
        by1 = std::max<int64_t>(by1, y);
      }
  int64_t b[4] = {-7, -7, -7, -7};
  EXPECT_EQ(rle_counts_bounds(mask.counts, h, &b[0], &b[1], &b[2], &b[3]), area > 0) << what;
  if (area > 0) {
    EXPECT_EQ(b[0], bx0) << what;
    EXPECT_EQ(b[1], by0) << what;
    EXPECT_EQ(b[2], bx1) << what;
    EXPECT_EQ(b[3], by1) << what;
  } else {
    EXPECT_EQ(b[0], -7) << what << ": the box is left untouched";
  }
  return mask;
}

TEST(Mask, EmptySizes) {
  // 0×5 and 5×0: one run of 0 pixels (pycocotools' counts [0]), an empty bitmap, area 0.
  for (auto hw : {std::pair<int, int>{0, 5}, {5, 0}, {0, 0}}) {
    const Mask m = Mask::from_bitmap(nullptr, hw.second, hw.first);
    EXPECT_EQ(m.counts, (Counts{0}));
    EXPECT_TRUE(m.to_bitmap().empty());
    EXPECT_EQ(m.area(), 0);
    EXPECT_EQ(mask_to_coco_rle(m), "0");
  }
  // A default Mask holds no runs: "no mask made", distinct from an all-0 mask.
  EXPECT_TRUE(Mask{}.empty());
}

TEST(Mask, AllZerosAndAllOnes) {
  for (auto hw : {std::pair<int, int>{1, 1}, {3, 5}, {17, 9}, {1, 40}, {40, 1}}) {
    const int h = hw.first, w = hw.second;
    std::vector<uint8_t> m(static_cast<size_t>(h * w), 0);
    EXPECT_EQ(check_round_trip(m, h, w, "zeros").counts, (Counts{static_cast<uint32_t>(h * w)}));
    m.assign(m.size(), 1);
    EXPECT_EQ(check_round_trip(m, h, w, "ones").counts, (Counts{0, static_cast<uint32_t>(h * w)}));
  }
}

TEST(Mask, FirstAndLastPixel) {
  // 3×4, only (0, 0): runs [0, 1, 11]. Only (2, 3), the last pixel in both orders: [11, 1].
  std::vector<uint8_t> m(12, 0);
  m[0] = 1;
  EXPECT_EQ(check_round_trip(m, 3, 4, "first").counts, (Counts{0, 1, 11}));
  m[0] = 0;
  m[11] = 1;
  EXPECT_EQ(check_round_trip(m, 3, 4, "last").counts, (Counts{11, 1}));
  // Both: [0, 1, 10, 1].
  m[0] = 1;
  EXPECT_EQ(check_round_trip(m, 3, 4, "first and last").counts, (Counts{0, 1, 10, 1}));
}

TEST(Mask, OneRowAndOneColumn) {
  // 1×N: column-major order is the row itself. N×1: the column. Same pixels, same runs.
  const std::vector<uint8_t> m = {0, 1, 1, 0, 0, 0, 1, 0, 1, 1, 1};
  const Counts want = {1, 2, 3, 1, 1, 3};
  EXPECT_EQ(check_round_trip(m, 1, 11, "1xN").counts, want);
  EXPECT_EQ(check_round_trip(m, 11, 1, "Nx1").counts, want);
}

TEST(Mask, RunsCrossColumns) {
  // 2×3, row-major [[0, 1, 1], [1, 1, 0]]: columns (0,1), (1,1), (1,0) -> column-major 0 1 1 1 1 0: runs [1, 4, 1]
  // (the run of 1s spans three columns).
  EXPECT_EQ(check_round_trip({0, 1, 1, 1, 1, 0}, 2, 3, "2x3").counts, (Counts{1, 4, 1}));
  // A run of 1s from a column's last pixel into the next column's first: 3×2
  // [[0, 1], [0, 0], [1, 0]] -> 0 0 1 | 1 0 0: runs [2, 2, 2].
  EXPECT_EQ(check_round_trip({0, 1, 0, 0, 1, 0}, 3, 2, "3x2").counts, (Counts{2, 2, 2}));
}

TEST(Mask, AnyNonzeroByteIsInside) {
  // from_bitmap reads nonzero as inside (255 from an image, 1 from a mask), also where the 8-byte row comparison
  // sees different bytes of the same meaning (1 above 255).
  const int h = 3, w = 19;
  std::vector<uint8_t> m(static_cast<size_t>(h * w), 0);
  for (int x = 0; x < w; ++x) {
    m[static_cast<size_t>(x)] = 255;
    m[static_cast<size_t>(w + x)] = 1;
    m[static_cast<size_t>(2 * w + x)] = x % 3 ? 7 : 0;
  }
  check_round_trip(m, h, w, "nonzero");
}

TEST(Mask, RandomShapesMatchNaiveEncoder) {
  // Widths around the encoder's 8-byte steps, blobby and noisy masks: the runs equal the naive encoder's, the
  // decode is the input, and the intersection of two masks equals the pixel count of their AND.
  std::mt19937 rng(7);
  for (int iter = 0; iter < 400; ++iter) {
    const int h = std::uniform_int_distribution<int>(1, 37)(rng), w = std::uniform_int_distribution<int>(1, 37)(rng);
    auto make = [&](bool blobby) {
      std::vector<uint8_t> m(static_cast<size_t>(h * w));
      const double p = std::uniform_real_distribution<double>(0, 1)(rng);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const size_t i = static_cast<size_t>(y * w + x);
          const bool repeat = y > 0 && std::uniform_real_distribution<double>(0, 1)(rng) < 0.9;
          if (blobby)  // rows that mostly repeat the row above, as real masks do
            m[i] = repeat ? m[i - static_cast<size_t>(w)] : static_cast<uint8_t>((x * 7 + y * 3) % 11 < 5);
          else
            m[i] = static_cast<uint8_t>(std::uniform_real_distribution<double>(0, 1)(rng) < p);
        }
      return m;
    };
    const std::vector<uint8_t> a = make(iter % 2), b = make(iter % 3 == 0);
    const std::string what = std::to_string(h) + "x" + std::to_string(w) + " iter " + std::to_string(iter);
    const Mask ma = check_round_trip(a, h, w, what), mb = check_round_trip(b, h, w, what);
    int64_t inter = 0;
    for (size_t i = 0; i < a.size(); ++i) inter += a[i] && b[i];
    ASSERT_EQ(rle_counts_intersection(ma.counts, mb.counts), inter) << what;
  }
}

TEST(Mask, DecodeAcceptsZeroLengthRuns) {
  // Runs from outside (a COCO file) may hold 0-long runs after the first: [1, 0, 2, 3] on 2×3 is 1 zero, no 1s,
  // 2 more zeros, 3 ones -> column-major 0 0 0 1 1 1 -> rows [0, 0, 1], [0, 1, 1].
  Mask m;
  m.width = 3;
  m.height = 2;
  m.counts = {1, 0, 2, 3};
  EXPECT_EQ(m.to_bitmap(), (std::vector<uint8_t>{0, 0, 1, 0, 1, 1}));
  EXPECT_EQ(m.area(), 3);
}

TEST(Mask, BadRunsAreErrors) {
  Mask m;
  m.width = 3;
  m.height = 2;
  m.counts = {1, 2};  // 3 of 6 pixels
  EXPECT_THROW(m.to_bitmap(), Error);
  EXPECT_THROW(mask_to_coco_rle(m), Error);
  Mask other = m;
  other.counts = {6};
  EXPECT_THROW(rle_counts_intersection(m.counts, other.counts), Error);
  m.counts = {2, 4, 1};  // 7 of 6
  EXPECT_THROW(m.to_bitmap(), Error);
  m.width = -1;
  EXPECT_THROW(m.to_bitmap(), Error);
}

TEST(Mask, Equality) {
  const std::vector<uint8_t> a = {0, 1, 1, 0}, b = {0, 1, 0, 1};
  EXPECT_TRUE(Mask::from_bitmap(a.data(), 2, 2) == Mask::from_bitmap(a.data(), 2, 2));
  EXPECT_TRUE(Mask::from_bitmap(a.data(), 2, 2) != Mask::from_bitmap(b.data(), 2, 2));
  EXPECT_TRUE(Mask::from_bitmap(a.data(), 2, 2) != Mask::from_bitmap(a.data(), 4, 1));
}

}  // namespace
}  // namespace sam3
