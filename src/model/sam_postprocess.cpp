// ref: sam3/model/utils/sam1_utils.py (SAM2Transforms.postprocess_masks), sam3/model/sam1_task_predictor.py (_predict)
#include "model/sam_postprocess.h"

#include <algorithm>

#include "core/ops.h"
#include "core/parallel.h"

namespace sam3 {

Tensor fill_mask_holes(const Tensor& logits, double max_hole_area, double threshold, const RunContext& ctx) {
  Tensor out = logits.clone();
  if (max_hole_area <= 0) return out;
  const int64_t n = logits.numel();
  const float thr = static_cast<float>(threshold);
  Tensor background = Tensor::empty(logits.shape(), DType::U8);
  const float* in = logits.f32();
  uint8_t* bg = background.data<uint8_t>();
  for (int64_t i = 0; i < n; ++i) bg[i] = in[i] <= thr ? 1 : 0;
  Tensor areas = Tensor::empty(logits.shape(), DType::I32);
  ops::component_areas(background, areas, ctx);
  // is_hole = (label > 0) & (area <= max_hole_area): areas are integers compared with the float threshold.
  const float fill = thr + 10.0f;
  const int32_t* area = areas.data<int32_t>();
  float* o = out.f32();
  for (int64_t i = 0; i < n; ++i)
    if (area[i] > 0 && static_cast<double>(area[i]) <= max_hole_area) o[i] = fill;
  return out;
}

void upsample_pick_mask(const Tensor& filled, int64_t i, const PvsConfig& cfg, uint8_t* mask_out, int64_t height,
                        int64_t width, const RunContext& ctx) {
  const int64_t L0 = filled.size(-2), L1 = filled.size(-1);
  const Tensor one = Tensor::borrow(const_cast<float*>(filled.f32()) + i * L0 * L1, {L0, L1}, DType::F32);
  Tensor out = Tensor::borrow(mask_out, {height, width}, DType::U8);
  ops::upsample_bilinear_threshold(one, static_cast<float>(cfg.mask_threshold), out, ctx);
}

Tensor clamp_low_res(const Tensor& logits, double clamp) {
  Tensor out = logits.clone();
  const float c = static_cast<float>(clamp);
  float* o = out.f32();
  const int64_t n = out.numel();
  for (int64_t i = 0; i < n; ++i) o[i] = std::min(std::max(o[i], -c), c);
  return out;
}

}  // namespace sam3
