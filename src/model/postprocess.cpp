// sam3.cpp — processor post-processing (see postprocess.h).
// ref: sam3/model/sam3_image_processor.py (Sam3Processor._forward_grounding);
//      torch upsample_bilinear2d (aten/src/ATen/native/cpu/UpSampleKernel.cpp, compute_indices_weights_linear)
#include "model/postprocess.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "core/parallel.h"
#include "model/decoder.h"

namespace sam3 {

std::vector<float> detection_probs(const Tensor& pred_logits, float presence_logit) {
  const float presence = sigmoid(presence_logit);
  std::vector<float> p(static_cast<size_t>(pred_logits.numel()));
  for (size_t q = 0; q < p.size(); ++q) p[q] = sigmoid(pred_logits.f32()[q]) * presence;
  return p;
}

std::vector<int64_t> select_detections(const std::vector<float>& probs, float threshold) {
  std::vector<int64_t> keep;
  for (size_t q = 0; q < probs.size(); ++q)
    if (probs[q] > threshold) keep.push_back(static_cast<int64_t>(q));
  return keep;
}

std::array<float, 4> box_to_pixels(const float* cxcywh, int64_t width, int64_t height) {
  float b[4];
  box_cxcywh_to_xyxy(cxcywh, b);
  const float W = static_cast<float>(width), H = static_cast<float>(height);
  return {b[0] * W, b[1] * H, b[2] * W, b[3] * H};
}

namespace {

// Per output index along one axis: the two source indices and their weights (torch's rule, in float32).
struct Taps {
  std::vector<int64_t> i0, i1;
  std::vector<float> w0, w1;
};

// torch's rule, measured against F.interpolate on the resize fixtures: the scale in/out is rounded to float32, but
// the source coordinate scale·(i+0.5)-0.5 and λ are computed in double (torch's CPU accumulate type) and λ is then
// rounded to float32. Computing the coordinate in float32 instead moves λ by up to ~1.5e-5 at index ~285, which
// shifts up-sampled logits by up to 3e-4.
Taps linear_taps(int64_t in, int64_t out) {
  Taps t;
  t.i0.resize(static_cast<size_t>(out));
  t.i1.resize(static_cast<size_t>(out));
  t.w0.resize(static_cast<size_t>(out));
  t.w1.resize(static_cast<size_t>(out));
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int64_t i = 0; i < out; ++i) {
    const size_t k = static_cast<size_t>(i);
    if (in == out) {
      t.i0[k] = t.i1[k] = i;
      t.w0[k] = 1.0f;
      t.w1[k] = 0.0f;
      continue;
    }
    const double src = std::max(static_cast<double>(scale) * (static_cast<double>(i) + 0.5) - 0.5, 0.0);
    const int64_t i0 = std::min(static_cast<int64_t>(std::floor(src)), in - 1);
    const float lambda = static_cast<float>(std::min(std::max(src - static_cast<double>(i0), 0.0), 1.0));
    t.i0[k] = i0;
    t.i1[k] = i0 + (i0 < in - 1 ? 1 : 0);
    t.w1[k] = lambda;
    t.w0[k] = 1.0f - lambda;
  }
  return t;
}

// Row of 0/1 bytes: sigmoid(v) > 0.5 exactly as float32 computes it. False for v <= 0; certainly true from 1e-4 up;
// for tiny positive v the float sigmoid rounds to 0.5 (not kept), so those few are evaluated.
void mask_row(const float* v, int64_t n, uint8_t* out) {
  for (int64_t x = 0; x < n; ++x) out[x] = v[x] > 0.0f ? 1 : 0;
  for (int64_t x = 0; x < n; ++x)
    if (v[x] > 0.0f && v[x] < 1e-4f) out[x] = sigmoid(v[x]) > 0.5f ? 1 : 0;
}

}  // namespace

// Separable: every source row is first interpolated along x (torch's inner sum t = a·wx0 + b·wx1, same float ops),
// then each output row is t0·wy0 + t1·wy1, a contiguous vectorisable pass.
void upsample_mask(const float* logits, int64_t h, int64_t w, int64_t height, int64_t width, float* logits_out,
                   uint8_t* mask_out, int n_threads) {
  if (h <= 0 || w <= 0 || height <= 0 || width <= 0)
    throw Error("upsample_mask: empty size " + std::to_string(h) + "x" + std::to_string(w) + " -> " +
                std::to_string(height) + "x" + std::to_string(width));
  const Taps ty = linear_taps(h, height), tx = linear_taps(w, width);
  std::vector<float> rows(static_cast<size_t>(h * width));  // x-interpolated source rows [h, width]
  std::vector<uint8_t> used(static_cast<size_t>(h), 0);
  for (int64_t y = 0; y < height; ++y) used[static_cast<size_t>(ty.i0[static_cast<size_t>(y)])] =
      used[static_cast<size_t>(ty.i1[static_cast<size_t>(y)])] = 1;
  parallel_for(n_threads, h, [&](int64_t r) {
    if (!used[static_cast<size_t>(r)]) return;
    const float* src = logits + r * w;
    float* dst = rows.data() + r * width;
    for (int64_t x = 0; x < width; ++x) {
      const size_t kx = static_cast<size_t>(x);
      dst[x] = src[tx.i0[kx]] * tx.w0[kx] + src[tx.i1[kx]] * tx.w1[kx];
    }
  });
  parallel_for(n_threads, height, [&](int64_t y) {
    const size_t ky = static_cast<size_t>(y);
    const float* t0 = rows.data() + ty.i0[ky] * width;
    const float* t1 = rows.data() + ty.i1[ky] * width;
    const float wy0 = ty.w0[ky], wy1 = ty.w1[ky];
    std::vector<float> local;
    float* v = logits_out ? logits_out + y * width : nullptr;
    if (!v) {
      local.resize(static_cast<size_t>(width));
      v = local.data();
    }
    for (int64_t x = 0; x < width; ++x) v[x] = t0[x] * wy0 + t1[x] * wy1;  // torch: out = t0·wy0 + t1·wy1
    if (mask_out) mask_row(v, width, mask_out + y * width);
  });
}

Detections postprocess(const DetectorOutputs& out, float threshold, int64_t height, int64_t width, int n_threads) {
  const int64_t Q = out.pred_logits.numel();
  if (out.pred_boxes.numel() != Q * 4)
    throw Error("postprocess: pred_boxes " + shape_str(out.pred_boxes.shape()) + " do not match " + std::to_string(Q) +
                " logits");
  if (out.pred_masks.dim() < 3 || out.pred_masks.numel() != Q * out.pred_masks.size(-2) * out.pred_masks.size(-1))
    throw Error("postprocess: pred_masks " + shape_str(out.pred_masks.shape()) + " are not [" + std::to_string(Q) +
                ", h, w]");
  if (height <= 0 || width <= 0)
    throw Error("postprocess: bad original image size " + std::to_string(width) + "x" + std::to_string(height));
  Detections d;
  d.height = height;
  d.width = width;
  d.probs_all = detection_probs(out.pred_logits, out.presence_logit);
  d.keep = select_detections(d.probs_all, threshold);
  const int64_t N = static_cast<int64_t>(d.keep.size());
  const int64_t h = out.pred_masks.size(-2), w = out.pred_masks.size(-1);
  d.masks = Tensor::empty({N, height, width}, DType::U8);
  for (int64_t n = 0; n < N; ++n) {
    const int64_t q = d.keep[static_cast<size_t>(n)];
    d.scores.push_back(d.probs_all[static_cast<size_t>(q)]);
    d.boxes_xyxy.push_back(box_to_pixels(out.pred_boxes.f32() + q * 4, width, height));
    upsample_mask(out.pred_masks.f32() + q * h * w, h, w, height, width, nullptr,
                  d.masks.data<uint8_t>() + n * height * width, n_threads);
  }
  return d;
}

}  // namespace sam3
