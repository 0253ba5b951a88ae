// sam3.cpp — processor post-processing (see postprocess.h).
// ref: sam3/model/sam3_image_processor.py (Sam3Processor._forward_grounding)
#include "model/postprocess.h"

#include <string>

#include "core/error.h"
#include "core/ops.h"
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

// Row of 0/1 bytes: sigmoid(v) > 0.5 exactly as float32 computes it. False for v <= 0; certainly true from 1e-4 up;
// for tiny positive v the float sigmoid rounds to 0.5 (not kept), so those few are evaluated.
void mask_row(const float* v, int64_t n, uint8_t* out) {
  for (int64_t x = 0; x < n; ++x) out[x] = v[x] > 0.0f ? 1 : 0;
  for (int64_t x = 0; x < n; ++x)
    if (v[x] > 0.0f && v[x] < 1e-4f) out[x] = sigmoid(v[x]) > 0.5f ? 1 : 0;
}

}  // namespace

// The logits go through the torch-exact plain bilinear resize (ops::upsample_bilinear, bit-exact with F.interpolate
// on the resize fixtures), then each row is thresholded.
void upsample_mask(const float* logits, int64_t h, int64_t w, int64_t height, int64_t width, float* logits_out,
                   uint8_t* mask_out, int n_threads) {
  if (h <= 0 || w <= 0 || height <= 0 || width <= 0)
    throw Error("upsample_mask: empty size " + std::to_string(h) + "x" + std::to_string(w) + " -> " +
                std::to_string(height) + "x" + std::to_string(width));
  const Tensor in = Tensor::borrow(const_cast<float*>(logits), {h, w}, DType::F32);
  Tensor up = logits_out ? Tensor::borrow(logits_out, {height, width}, DType::F32) : Tensor::empty({height, width});
  ops::upsample_bilinear(in, up, RunContext{n_threads});
  if (mask_out)
    parallel_for(n_threads, height, [&](int64_t y) { mask_row(up.f32() + y * width, width, mask_out + y * width); });
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
