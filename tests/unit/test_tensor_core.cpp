// Unit tests for the tensor type, the arena, safetensors round trips and the fixture comparison helper.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/arena.h"
#include "core/error.h"
#include "core/tensor.h"
#include "fixture.h"
#include "io/mmap_file.h"
#include "io/safetensors.h"

using namespace sam3;

TEST(Tensor, ReshapeAndSlice) {
  Tensor t = Tensor::zeros({2, 3, 4});
  for (int i = 0; i < 24; ++i) t.f32()[i] = static_cast<float>(i);
  Tensor r = t.reshape({6, -1});
  EXPECT_EQ(r.shape(), (Shape{6, 4}));
  EXPECT_EQ(r.f32(), t.f32());
  Tensor s = t.slice0(1, 2);
  EXPECT_EQ(s.shape(), (Shape{1, 3, 4}));
  EXPECT_EQ(s.f32()[0], 12.0f);
  EXPECT_THROW(t.reshape({5, 5}), Error);
  EXPECT_THROW(t.slice0(1, 3), Error);
  EXPECT_THROW(Tensor::empty({2}, DType::I32).f32(), Error);
}

// Sizes are overflow-checked: 2^62 f32 elements are 2^64 bytes, which must not wrap to an allocation of 0 bytes.
TEST(Tensor, OverflowingSizesAreErrors) {
  const int64_t big = int64_t{1} << 31;
  EXPECT_THROW(Tensor::empty({big, big}, DType::F32), Error);                  // 2^62 elements, 2^64 bytes
  EXPECT_THROW(Tensor::empty({big, big, big}, DType::U8), Error);              // 2^93 elements
  EXPECT_THROW(shape_numel({int64_t{1} << 62, 4}), Error);
  EXPECT_THROW(shape_numel({2, -1}), Error);
  const Tensor t = Tensor::borrow(nullptr, {big, big}, DType::F32);
  EXPECT_EQ(t.numel(), int64_t{1} << 62);
  EXPECT_THROW(t.nbytes(), Error);
  EXPECT_EQ(Tensor::empty({big / 2, 0}).nbytes(), 0u);
}

TEST(Arena, AllocReleasePeak) {
  Arena a(1024);
  size_t m = a.mark();
  Tensor x = a.alloc({10});
  EXPECT_EQ(reinterpret_cast<uintptr_t>(x.raw()) % 64, 0u);
  a.alloc({100});
  EXPECT_GE(a.peak(), 440u);
  a.release(m);
  EXPECT_EQ(a.used(), 0u);
  EXPECT_THROW(a.alloc({1000}), Error);
}

// An allocation takes its payload rounded up to 64 bytes, which is what bytes_for() (the size plans) says.
TEST(Arena, AllocTakesPayloadRoundedTo64) {
  Arena a(1 << 20);
  const std::pair<Shape, size_t> f32[] = {{{1}, 64}, {{3, 5}, 64}, {{16}, 64}, {{17}, 128}, {{7, 9, 11}, 2816}};
  for (const auto& [s, bytes] : f32) {
    EXPECT_EQ(Arena::bytes_for(s), bytes) << shape_str(s);
    const size_t before = a.used();
    a.alloc(s);
    EXPECT_EQ(a.used() - before, bytes) << shape_str(s);
  }
  EXPECT_EQ(Arena::bytes_for({13}, DType::U8), 64u);
  const size_t before = a.used();
  a.alloc({13}, DType::U8);
  EXPECT_EQ(a.used() - before, 64u);
}

TEST(Arena, GrowableAddsBlocksThenMergesThem) {
  Arena a(256, Arena::Growth::Grow);
  const size_t m = a.mark();
  Tensor x = a.alloc({32});     // 128 bytes: fits the first block
  Tensor y = a.alloc({1000});   // does not fit: another block
  Tensor z = a.alloc({10});
  EXPECT_GE(a.blocks(), 2u);
  x.f32()[0] = 1.0f;
  y.f32()[999] = 2.0f;
  z.f32()[9] = 3.0f;
  EXPECT_EQ(x.f32()[0], 1.0f);  // no overlap between the allocations
  EXPECT_EQ(y.f32()[999], 2.0f);
  EXPECT_NE(x.raw(), y.raw());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(y.raw()) % 64, 0u);
  a.release(m);
  EXPECT_EQ(a.blocks(), 1u);  // merged into one block of the peak size
  EXPECT_GE(a.capacity(), a.peak());
  a.alloc({32});
  a.alloc({1000});
  a.alloc({10});
  EXPECT_EQ(a.blocks(), 1u);  // the same workload now fits
}

// Finding 13 (documented, not detected): replacing a mapped file by rename (the procedure docs/security.md gives)
// leaves the mapping on the old inode, whose bytes stay readable and unchanged.
TEST(MappedFile, RenameOverKeepsTheMappedData) {
  const std::string path = ::testing::TempDir() + "/mapped.bin", next = path + ".new";
  std::ofstream(path, std::ios::binary) << std::string(8192, 'a');
  std::shared_ptr<MappedFile> f = MappedFile::open(path);
  std::ofstream(next, std::ios::binary) << "b";
  ASSERT_EQ(std::rename(next.c_str(), path.c_str()), 0);
  ASSERT_EQ(f->size(), 8192u);
  EXPECT_EQ(f->data()[0], 'a');
  EXPECT_EQ(f->data()[8191], 'a');  // a truncation in place would make this read raise SIGBUS
  std::remove(path.c_str());
}

TEST(Safetensors, RoundTrip) {
  std::string path = ::testing::TempDir() + "/rt.safetensors";
  Tensor a = Tensor::empty({2, 3});
  for (int i = 0; i < 6; ++i) a.f32()[i] = i * 0.5f;
  Tensor b = Tensor::empty({4}, DType::I64);
  for (int i = 0; i < 4; ++i) b.data<int64_t>()[i] = -i;
  write_safetensors(path, {{"a", a}, {"b", b}}, {{"k", "v"}});
  TensorFile f = read_safetensors(path);
  EXPECT_EQ(f.metadata.at("k"), "v");
  EXPECT_TRUE(test::tensors_close(f.get("a"), a, 0, 0));
  EXPECT_EQ(f.get("b").data<int64_t>()[3], -3);
  EXPECT_THROW(f.get("c"), Error);
}

// data_offsets at an odd byte: the tensor is copied to aligned memory (a misaligned float* is undefined behaviour);
// an aligned one is still borrowed from the mapping.
TEST(Safetensors, UnalignedOffsetsAreCopied) {
  const std::string path = ::testing::TempDir() + "/unaligned.safetensors";
  std::string h = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[1,9]},"b":{"dtype":"F32","shape":[1],)"
                  R"("data_offsets":[12,16]}})";
  while ((h.size() + 8) % 8 != 0) h.push_back(' ');
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((h.size() >> (8 * i)) & 0xff);
  const float v[4] = {1.5f, -2.25f, 0.0f, 7.0f};
  std::string data(16, '\0');
  std::memcpy(&data[1], v, 8);       // a = [1.5, -2.25] at offset 1
  std::memcpy(&data[12], v + 3, 4);  // b = [7] at offset 12
  std::ofstream(path, std::ios::binary) << bytes + h + data;
  TensorFile f = read_safetensors(path);
  const Tensor& a = f.get("a");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.raw()) % alignof(float), 0u) << "misaligned float data";
  EXPECT_EQ(a.f32()[0], 1.5f);
  EXPECT_EQ(a.f32()[1], -2.25f);
  EXPECT_EQ(f.get("b").f32()[0], 7.0f);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(f.get("b").raw()) % alignof(float), 0u);
  std::remove(path.c_str());
}

TEST(Safetensors, RejectsMalformed) {
  std::string path = ::testing::TempDir() + "/bad.safetensors";
  auto write = [&](const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
  };
  auto with_header = [](const std::string& h, size_t data) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((h.size() >> (8 * i)) & 0xff);
    return s + h + std::string(data, '\0');
  };
  write("abc");
  EXPECT_THROW(read_safetensors(path), Error);
  write(with_header("{not json", 0));
  EXPECT_THROW(read_safetensors(path), Error);
  write(with_header(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4));  // truncated data
  EXPECT_THROW(read_safetensors(path), Error);
  write(with_header(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8));  // size mismatch
  EXPECT_THROW(read_safetensors(path), Error);
  write(with_header(R"({"x":{"dtype":"Q9","shape":[2],"data_offsets":[0,8]}})", 8));
  EXPECT_THROW(read_safetensors(path), Error);
  std::string huge(8, '\xff');
  write(huge);
  EXPECT_THROW(read_safetensors(path), Error);
}

TEST(Fixture, CompareReportsFirstDisagreement) {
  Tensor a = Tensor::zeros({2, 2}), b = Tensor::zeros({2, 2});
  a.f32()[3] = 1.0f;
  test::CompareStats s = test::compare(a, b, 1e-3, 0);
  EXPECT_EQ(s.first_bad, 3);
  EXPECT_EQ(s.n_bad, 1);
  EXPECT_NE(s.where.find("[1, 1]"), std::string::npos);
  EXPECT_FALSE(test::tensors_close(a, b, 1e-3, 0));
}

TEST(Fixture, OpensGolden) {
  TensorFile f = test::open_fixture("tiny/groceries.image.safetensors");
  EXPECT_TRUE(f.has("input.image_rgb_u8"));
}
