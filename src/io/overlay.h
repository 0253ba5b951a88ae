// sam3.cpp — a picture of a segmentation result: instance masks blended over the image in distinct colours, their
// boxes and scores (a built-in 5x7 pixel font, no font files), and the prompt's exemplar boxes (dashed: green
// positive, red negative). Used by `sam3 segment --overlay` and later the server.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "io/image.h"
#include "sam3/sam3.h"

namespace sam3 {

struct OverlayOptions {
  float mask_alpha = 0.5f;      // opacity of the mask colour
  bool draw_boxes = true;       // instance boxes
  bool draw_scores = true;      // score labels ("0.87"; "2:0.87" = prompt 2 when there are several prompts)
  bool draw_prompt_boxes = true;  // exemplar boxes of the prompts, dashed
};

// The colour of instance number `i` (counted over all prompts): well-separated hues, RGB.
void overlay_colour(int i, uint8_t rgb[3]);

// Draws every prompt's instances of `result` onto a copy of `image` (which must have the result's size).
Image render_overlay(const Image& image, const SegmentResult& result, const OverlayOptions& options = {});

// Draws `text` (digits, '.', ':', '-', '#', space; other characters are left blank) with its top-left corner at (x, y),
// each font pixel `scale`×`scale` image pixels, over a filled background box; clipped to the image.
void draw_label(Image& image, int x, int y, const std::string& text, int scale, const uint8_t fg[3],
                const uint8_t bg[3]);

}  // namespace sam3
