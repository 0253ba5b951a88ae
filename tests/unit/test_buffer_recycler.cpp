// Unit tests: BufferRecycler hands a block given back to the next tensor of its size, keeps at most its limit, and
// frees blocks given back after it is gone.
#include <gtest/gtest.h>

#include <thread>

#include "core/buffer_recycler.h"
#include "core/error.h"

using namespace sam3;

TEST(BufferRecycler, ReusesABlockOfTheSameSize) {
  BufferRecycler r(2);
  Tensor a = r.empty({1000, 3});
  const void* p = a.raw();
  a.f32()[2999] = 1.0f;
  EXPECT_EQ(r.free_bytes(), 0u);
  a = Tensor();
  EXPECT_EQ(r.free_bytes(), 12032u);  // 12,000 bytes rounded up to 64
  Tensor other = r.empty({10});       // another size: a new block
  EXPECT_NE(other.raw(), p);
  Tensor b = r.empty({3000});  // the same byte size: the same block
  EXPECT_EQ(b.raw(), p);
  EXPECT_EQ(r.free_bytes(), 0u);
  Tensor view = b.reshape({30, 100});  // views keep the block
  b = Tensor();
  EXPECT_EQ(r.free_bytes(), 0u);
  view = Tensor();
  EXPECT_EQ(r.free_bytes(), 12032u);
  r.clear();
  EXPECT_EQ(r.free_bytes(), 0u);
}

TEST(BufferRecycler, KeepsAtMostItsLimit) {
  BufferRecycler r(2);
  std::vector<Tensor> ts;
  for (int i = 0; i < 4; ++i) ts.push_back(r.empty({64}));
  ts.clear();
  EXPECT_EQ(r.free_bytes(), 2u * 256u);
  BufferRecycler none(0);
  Tensor t = none.empty({64});
  t = Tensor();
  EXPECT_EQ(none.free_bytes(), 0u);
}

TEST(BufferRecycler, OutlivedAndOtherThreads) {
  Tensor survivor;
  {
    BufferRecycler r(2);
    survivor = r.empty({5, 5});
    Tensor t = r.empty({7});
    std::thread([moved = std::move(t)]() mutable { moved = Tensor(); }).join();  // given back from another thread
    EXPECT_EQ(r.free_bytes(), 64u);
  }
  survivor.f32()[24] = 2.0f;  // still valid after the recycler is gone; freed when dropped (ASan would tell)
  survivor = Tensor();
  BufferRecycler r(1);
  EXPECT_THROW(r.empty({-1}), Error);
  EXPECT_THROW(r.empty({int64_t{1} << 40, int64_t{1} << 40}), Error);
}
