// sam3.cpp — the prompt and result value types of the public API: PromptBox (pixel corners <-> the processor's
// normalised cxcywh; the one check of a user's pixel box) and the segmentation defaults (Mask: mask.cpp).
// ref: sam3/model/box_ops.py (box_xyxy_to_cxcywh)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "core/error.h"
#include "sam3/sam3.h"

namespace sam3 {

namespace {

std::string box_str(float x0, float y0, float x1, float y1) {  // "[50, 2, 10, 4]"
  char buf[128];
  std::snprintf(buf, sizeof buf, "[%g, %g, %g, %g]", static_cast<double>(x0), static_cast<double>(y0),
                static_cast<double>(x1), static_cast<double>(y1));
  return buf;
}

}  // namespace

SegmentParams segment_default_params() { return SegmentParams{}; }

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

void PromptBox::check_user_xyxy(float x0, float y0, float x1, float y1) {
  const std::string box = box_str(x0, y0, x1, y1);
  if (!std::isfinite(x0) || !std::isfinite(y0) || !std::isfinite(x1) || !std::isfinite(y1))
    throw Error("box " + box + ": the corners must be finite numbers");
  if (x1 < x0 || y1 < y0)
    throw Error("degenerate box " + box + ": " + (x1 < x0 ? "x1 < x0" : "y1 < y0") +
                ", the corners are out of order (need x0 <= x1 and y0 <= y1, top-left corner first)");
  if (x1 == x0 || y1 == y0)
    throw Error("degenerate box " + box + ": " + (x1 == x0 ? "x0 == x1" : "y0 == y1") +
                ", the box has no area (need x0 < x1 and y0 < y1)");
}

PromptBox PromptBox::from_user_xyxy(float x0, float y0, float x1, float y1, int image_width, int image_height,
                                    bool positive) {
  check_user_xyxy(x0, y0, x1, y1);
  if (image_width <= 0 || image_height <= 0)
    throw Error("PromptBox::from_user_xyxy: image size " + std::to_string(image_width) + "x" +
                std::to_string(image_height) + " is empty");
  const float W = static_cast<float>(image_width), H = static_cast<float>(image_height);
  // Clipped to [0, W] x [0, H]; corners already inside are kept bit for bit.
  const float cx0 = std::max(x0, 0.0f), cy0 = std::max(y0, 0.0f), cx1 = std::min(x1, W), cy1 = std::min(y1, H);
  if (!(cx1 > cx0) || !(cy1 > cy0))
    throw Error("box " + box_str(x0, y0, x1, y1) + " lies entirely outside the " + std::to_string(image_width) + "x" +
                std::to_string(image_height) + " image (no area inside it)");
  return from_xyxy(cx0, cy0, cx1, cy1, image_width, image_height, positive);
}

void PromptBox::to_xyxy(int image_width, int image_height, float xyxy[4]) const {
  const float W = static_cast<float>(image_width), H = static_cast<float>(image_height);
  xyxy[0] = (cx - 0.5f * w) * W;
  xyxy[1] = (cy - 0.5f * h) * H;
  xyxy[2] = (cx + 0.5f * w) * W;
  xyxy[3] = (cy + 0.5f * h) * H;
}

}  // namespace sam3
