// sam3.cpp — the prompt and result value types of the public API: PromptBox (pixel corners <-> the processor's
// normalised cxcywh), Mask, and the segmentation defaults.
// ref: sam3/model/box_ops.py (box_xyxy_to_cxcywh)
#include <string>

#include "core/error.h"
#include "sam3/sam3.h"

namespace sam3 {

SegmentParams segment_default_params() { return SegmentParams{}; }

int64_t Mask::area() const {
  int64_t n = 0;
  for (uint8_t v : data) n += v != 0;
  return n;
}

PromptBox PromptBox::from_xyxy(float x0, float y0, float x1, float y1, int image_width, int image_height,
                               bool positive) {
  if (image_width <= 0 || image_height <= 0)
    throw Error("PromptBox::from_xyxy: image size " + std::to_string(image_width) + "x" +
                std::to_string(image_height) + " is empty");
  // ref: sam3/model/box_ops.py (box_xyxy_to_cxcywh), then the notebooks' normalize_bbox (÷ W, H), all float32.
  const float W = static_cast<float>(image_width), H = static_cast<float>(image_height);
  PromptBox b;
  b.cx = ((x0 + x1) / 2.0f) / W;
  b.cy = ((y0 + y1) / 2.0f) / H;
  b.w = (x1 - x0) / W;
  b.h = (y1 - y0) / H;
  b.positive = positive;
  return b;
}

void PromptBox::to_xyxy(int image_width, int image_height, float xyxy[4]) const {
  const float W = static_cast<float>(image_width), H = static_cast<float>(image_height);
  xyxy[0] = (cx - 0.5f * w) * W;
  xyxy[1] = (cy - 0.5f * h) * H;
  xyxy[2] = (cx + 0.5f * w) * W;
  xyxy[3] = (cy + 0.5f * h) * H;
}

}  // namespace sam3
