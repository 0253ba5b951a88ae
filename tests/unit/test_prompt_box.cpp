// PromptBox::from_user_xyxy / check_user_xyxy: the one check of a user's pixel box that `sam3 segment` and
// `sam3 serve` share (degenerate or wholly outside -> error naming the box, partly outside -> clipped).
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <string>

#include "core/error.h"
#include "sam3/sam3.h"

namespace sam3 {
namespace {

// Expects f() to throw sam3::Error whose message contains `fragment`.
template <class F>
void expect_error(F f, const std::string& fragment) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one containing '" << fragment << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

bool same_bits(const PromptBox& a, const PromptBox& b) {
  return std::memcmp(&a.cx, &b.cx, sizeof(float)) == 0 && std::memcmp(&a.cy, &b.cy, sizeof(float)) == 0 &&
         std::memcmp(&a.w, &b.w, sizeof(float)) == 0 && std::memcmp(&a.h, &b.h, sizeof(float)) == 0 &&
         a.positive == b.positive;
}

TEST(PromptBoxUser, InsideIsFromXyxyBitForBit) {
  const PromptBox a = PromptBox::from_user_xyxy(359.68f, 280.08f, 492.8f, 661.68f, 1280, 720, false);
  EXPECT_TRUE(same_bits(a, PromptBox::from_xyxy(359.68f, 280.08f, 492.8f, 661.68f, 1280, 720, false)));
  // Touching the edges from inside is inside.
  const PromptBox full = PromptBox::from_user_xyxy(0, 0, 1280, 720, 1280, 720);
  EXPECT_TRUE(same_bits(full, PromptBox::from_xyxy(0, 0, 1280, 720, 1280, 720)));
}

TEST(PromptBoxUser, PartlyOutsideIsClipped) {
  const PromptBox b = PromptBox::from_user_xyxy(-50, -40, 200, 300, 1280, 720);
  EXPECT_TRUE(same_bits(b, PromptBox::from_xyxy(0, 0, 200, 300, 1280, 720)));
  const PromptBox c = PromptBox::from_user_xyxy(1200, 700, 1400, 900, 1280, 720);
  EXPECT_TRUE(same_bits(c, PromptBox::from_xyxy(1200, 700, 1280, 720, 1280, 720)));
  float xyxy[4];
  c.to_xyxy(1280, 720, xyxy);
  EXPECT_FLOAT_EQ(xyxy[2], 1280.0f);
  EXPECT_FLOAT_EQ(xyxy[3], 720.0f);
}

TEST(PromptBoxUser, DegenerateIsAnError) {
  expect_error([] { PromptBox::from_user_xyxy(10, 10, 5, 20, 1280, 720); }, "degenerate box [10, 10, 5, 20]: x1 < x0");
  expect_error([] { PromptBox::from_user_xyxy(10, 30, 20, 20, 1280, 720); }, "y1 < y0");
  expect_error([] { PromptBox::check_user_xyxy(50, 2, 10, 4); }, "x0 <= x1");
  expect_error([] { PromptBox::from_user_xyxy(10, 10, 30, 10, 1280, 720); }, "degenerate box [10, 10, 30, 10]: y0 == y1");
  expect_error([] { PromptBox::check_user_xyxy(7, 1, 7, 9); }, "no area");
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  expect_error([&] { PromptBox::check_user_xyxy(0, 0, inf, 4); }, "finite");
  expect_error([&] { PromptBox::from_user_xyxy(nan, 0, 3, 4, 10, 10); }, "finite");
}

TEST(PromptBoxUser, WhollyOutsideIsAnError) {
  expect_error([] { PromptBox::from_user_xyxy(2000, 0, 2100, 50, 1280, 720); },
               "box [2000, 0, 2100, 50] lies entirely outside the 1280x720 image");
  expect_error([] { PromptBox::from_user_xyxy(-30, -20, -1, -1, 1280, 720); }, "lies entirely outside");
  // Touching the image only along an edge: no area inside it.
  expect_error([] { PromptBox::from_user_xyxy(-50, 0, 0, 100, 1280, 720); }, "lies entirely outside");
  expect_error([] { PromptBox::from_user_xyxy(10, 720, 20, 800, 1280, 720); }, "lies entirely outside");
  expect_error([] { PromptBox::from_user_xyxy(1, 2, 3, 4, 0, 720); }, "is empty");
}

}  // namespace
}  // namespace sam3
