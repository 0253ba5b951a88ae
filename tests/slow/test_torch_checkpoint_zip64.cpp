// Slow test: a real ZIP64 checkpoint (> 4 GiB), as a full-size sam3.pt may need: one storage larger than 4 GiB (ZIP64
// sizes in the local and central headers) followed by a small one whose header lies past 4 GiB (ZIP64 offset).
// Writes ~4.3 GB to the temp dir and removes it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "io/torch_writer.h"
#include "io/weight_file.h"
#include "io/zip_reader.h"

using namespace sam3;

TEST(TorchCheckpointSlow, RealZip64) {
  const std::string path = ::testing::TempDir() + "sam3_ckpt_zip64_" + std::to_string(getpid()) + ".pt";
  const int64_t big = (int64_t{1} << 32) + 4096 + 3;  // bytes, > 4 GiB
  auto value = [](uint64_t i) { return static_cast<uint8_t>((i * 2654435761u) >> 13); };
  const auto t0 = std::chrono::steady_clock::now();
  {
    TorchCheckpointWriter w(path);
    w.add("detector.big", DType::U8, {big}, [&](uint8_t* dst, uint64_t off, size_t n) {
      for (size_t i = 0; i < n; ++i) dst[i] = value(off + i);
    });
    Tensor small = Tensor::empty({4});
    for (int i = 0; i < 4; ++i) small.f32()[i] = 0.25f * static_cast<float>(i);
    w.add("detector.after", small);
    w.finish();
  }
  const auto t1 = std::chrono::steady_clock::now();
  {
    ZipReader z = ZipReader::open(path);
    EXPECT_TRUE(z.zip64());
    const std::string archive = path.substr(path.rfind('/') + 1, path.rfind('.') - path.rfind('/') - 1);
    EXPECT_EQ(z.get(archive + "/data/0").size, static_cast<uint64_t>(big));
    EXPECT_GT(z.get(archive + "/data/1").header_offset, uint64_t{0xFFFFFFFF});
    WeightFile wf = load_weight_file(path);
    const auto t2 = std::chrono::steady_clock::now();
    std::printf("write %.1f s, load %.2f ms\n", std::chrono::duration<double>(t1 - t0).count(),
                std::chrono::duration<double, std::milli>(t2 - t1).count());
    const Tensor& b = wf.tensors.at("big");
    ASSERT_EQ(b.numel(), big);
    for (int64_t i : {int64_t{0}, int64_t{1} << 31, (int64_t{1} << 32) - 1, int64_t{1} << 32, big - 1})
      EXPECT_EQ(b.data<uint8_t>()[i], value(static_cast<uint64_t>(i))) << i;
    EXPECT_EQ(wf.tensors.at("after").f32()[3], 0.75f);
  }
  std::remove(path.c_str());
}
