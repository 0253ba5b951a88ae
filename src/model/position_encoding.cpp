// ref: sam3/model/position_encoding.py (PositionEmbeddingSine)
#include "model/position_encoding.h"

#include <cmath>
#include <vector>

#include "core/error.h"

namespace sam3 {

namespace {

// One axis: n positions -> [n, half] values, sin/cos interleaved, in float32 like the reference.
std::vector<float> encode_axis(const PosEncConfig& cfg, int64_t n, int64_t half) {
  const float scale = static_cast<float>(2.0 * M_PI);  // `scale = 2 * math.pi`, used as a float32 operand
  const float eps = 1e-6f;
  const float last = static_cast<float>(n) + eps;      // y_embed[:, -1:] + eps
  std::vector<float> dim_t(static_cast<size_t>(half));
  for (int64_t k = 0; k < half; ++k) {
    // temperature ** (2 * (k // 2) / half), all float32
    const float e = (2.0f * std::floor(static_cast<float>(k) / 2.0f)) / static_cast<float>(half);
    dim_t[static_cast<size_t>(k)] = std::pow(static_cast<float>(cfg.temperature), e);
  }
  std::vector<float> out(static_cast<size_t>(n * half));
  for (int64_t i = 0; i < n; ++i) {
    float p = static_cast<float>(i + 1);
    if (cfg.normalize) p = p / last * scale;
    for (int64_t k = 0; k < half; ++k) {
      const float a = p / dim_t[static_cast<size_t>(k)];
      out[static_cast<size_t>(i * half + k)] = (k % 2 == 0) ? std::sin(a) : std::cos(a);
    }
  }
  return out;
}

}  // namespace

Tensor sine_position_encoding(const PosEncConfig& cfg, int64_t h, int64_t w) {
  if (cfg.num_pos_feats <= 0 || cfg.num_pos_feats % 2)
    throw Error("pos_enc.num_pos_feats must be a positive even number, got " + std::to_string(cfg.num_pos_feats));
  if (h <= 0 || w <= 0) throw Error("sine_position_encoding: empty map");
  const int64_t half = cfg.num_pos_feats / 2;
  const std::vector<float> ey = encode_axis(cfg, h, half), ex = encode_axis(cfg, w, half);
  Tensor pos = Tensor::empty({1, 2 * half, h, w});
  float* p = pos.f32();
  for (int64_t k = 0; k < half; ++k) {
    float* py = p + k * h * w;           // channel k: row encoding
    float* px = p + (half + k) * h * w;  // channel half+k: column encoding
    for (int64_t r = 0; r < h; ++r)
      for (int64_t c = 0; c < w; ++c) {
        py[r * w + c] = ey[static_cast<size_t>(r * half + k)];
        px[r * w + c] = ex[static_cast<size_t>(c * half + k)];
      }
  }
  return pos;
}

}  // namespace sam3
