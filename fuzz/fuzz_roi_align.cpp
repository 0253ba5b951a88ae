// Fuzz target: RoIAlign (kernels ref and cpu) with fuzzed boxes (any float bits: huge, inverted, NaN, inf), scale,
// aligned mode and output size on a small map; both kernels must finish, agree and give finite values.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/cpu.h"
#include "kernels/ref.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const int64_t H = 1 + data[0] % 24, W = 1 + data[1] % 24, C = 2;
  const bool aligned = data[2] & 1;
  const int sampling_ratio = (data[2] >> 1) % 4 == 3 ? -1 : (data[2] >> 1) % 4;  // 0 and -1: adaptive
  const int64_t out = 1 + data[3] % 8;
  data += 4;
  size -= 4;
  const int64_t n = static_cast<int64_t>(size / 16);
  if (n == 0 || n > 64) return 0;
  std::vector<float> boxes(static_cast<size_t>(n * 4));
  std::memcpy(boxes.data(), data, boxes.size() * sizeof(float));
  std::vector<float> x(static_cast<size_t>(C * H * W));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7) - 3.0f;
  sam3::kernels::RoiAlignArgs a;
  a.x = x.data();
  a.c = C;
  a.h = H;
  a.w = W;
  a.boxes = boxes.data();
  a.n = n;
  a.spatial_scale = 0.5f;
  a.sampling_ratio = sampling_ratio;
  a.aligned = aligned;
  a.out_h = out;
  a.out_w = out;
  std::vector<float> y_ref(static_cast<size_t>(n * C * out * out)), y_cpu(y_ref.size());
  a.y = y_ref.data();
  sam3::kernels::ref::roi_align(a);
  a.y = y_cpu.data();
  sam3::kernels::cpu::roi_align(a, 1);
  for (size_t i = 0; i < y_ref.size(); ++i) {
    const bool close = std::fabs(y_cpu[i] - y_ref[i]) <= 1e-3f * (1 + std::fabs(y_ref[i]));
    if (!std::isfinite(y_cpu[i]) || !close) __builtin_trap();
  }
  return 0;
}
