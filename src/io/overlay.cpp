// sam3.cpp — overlay rendering (see overlay.h).
#include "io/overlay.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/error.h"

namespace sam3 {

namespace {

// 5x7 glyphs, one byte per row, bit 4 = leftmost pixel.
struct Glyph {
  char c;
  uint8_t rows[7];
};
constexpr Glyph kFont[] = {
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}}, {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}}, {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}}, {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}}, {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}}, {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}}, {':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}},
    {'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}}, {'#', {0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A}},
};
constexpr int kGlyphW = 5, kGlyphH = 7, kAdvance = 6;

const Glyph* glyph(char c) {
  for (const Glyph& g : kFont)
    if (g.c == c) return &g;
  return nullptr;
}

void put(Image& img, int64_t x, int64_t y, const uint8_t rgb[3]) {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  uint8_t* p = img.row(y) + x * 3;
  p[0] = rgb[0], p[1] = rgb[1], p[2] = rgb[2];
}

void fill_rect(Image& img, int64_t x0, int64_t y0, int64_t x1, int64_t y1, const uint8_t rgb[3]) {
  for (int64_t y = std::max<int64_t>(y0, 0); y < std::min(y1, img.height); ++y)
    for (int64_t x = std::max<int64_t>(x0, 0); x < std::min(x1, img.width); ++x) put(img, x, y, rgb);
}

// Rectangle outline of the given thickness (inside the box); dashed: segments of `dash` pixels on, `dash` off.
void draw_rect(Image& img, const float box[4], int thickness, const uint8_t rgb[3], int dash = 0) {
  const int64_t x0 = std::lround(box[0]), y0 = std::lround(box[1]);
  const int64_t x1 = std::lround(box[2]) - 1, y1 = std::lround(box[3]) - 1;
  if (x1 < x0 || y1 < y0) return;
  auto on = [&](int64_t t) { return dash <= 0 || (t / dash) % 2 == 0; };
  for (int k = 0; k < thickness; ++k) {
    for (int64_t x = x0; x <= x1; ++x) {
      if (!on(x - x0)) continue;
      put(img, x, y0 + k, rgb);
      put(img, x, y1 - k, rgb);
    }
    for (int64_t y = y0; y <= y1; ++y) {
      if (!on(y - y0)) continue;
      put(img, x0 + k, y, rgb);
      put(img, x1 - k, y, rgb);
    }
  }
}

void hsv_to_rgb(double h, double s, double v, uint8_t rgb[3]) {
  const double c = v * s, hp = std::fmod(h, 1.0) * 6.0, x = c * (1 - std::fabs(std::fmod(hp, 2.0) - 1)), m = v - c;
  double r = 0, g = 0, b = 0;
  if (hp < 1) r = c, g = x;
  else if (hp < 2) r = x, g = c;
  else if (hp < 3) g = c, b = x;
  else if (hp < 4) g = x, b = c;
  else if (hp < 5) r = x, b = c;
  else r = c, b = x;
  rgb[0] = static_cast<uint8_t>(std::lround((r + m) * 255));
  rgb[1] = static_cast<uint8_t>(std::lround((g + m) * 255));
  rgb[2] = static_cast<uint8_t>(std::lround((b + m) * 255));
}

}  // namespace

void overlay_colour(int i, uint8_t rgb[3]) {
  // Golden-ratio steps around the hue circle; every third colour a little darker so neighbours differ in value too.
  const double h = std::fmod(0.08 + 0.618033988749895 * i, 1.0);
  hsv_to_rgb(h, 0.85, i % 3 == 2 ? 0.75 : 0.95, rgb);
}

void draw_label(Image& image, int x, int y, const std::string& text, int scale, const uint8_t fg[3],
                const uint8_t bg[3]) {
  if (scale < 1) scale = 1;
  const int pad = scale;
  const int w = static_cast<int>(text.size()) * kAdvance * scale - scale + 2 * pad, h = kGlyphH * scale + 2 * pad;
  fill_rect(image, x, y, x + w, y + h, bg);
  for (size_t i = 0; i < text.size(); ++i) {
    const Glyph* g = glyph(text[i]);
    if (!g) continue;
    const int gx = x + pad + static_cast<int>(i) * kAdvance * scale, gy = y + pad;
    for (int r = 0; r < kGlyphH; ++r)
      for (int c = 0; c < kGlyphW; ++c)
        if (g->rows[r] & (0x10 >> c)) fill_rect(image, gx + c * scale, gy + r * scale, gx + (c + 1) * scale,
                                                 gy + (r + 1) * scale, fg);
  }
}

Image render_overlay(const Image& image, const SegmentResult& result, const OverlayOptions& o) {
  if (image.width != result.image_width || image.height != result.image_height)
    throw Error("overlay: the image is " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                " but the result is for " + std::to_string(result.image_width) + "x" +
                std::to_string(result.image_height));
  Image out = image;
  const int64_t HW = image.width * image.height;
  const float a = std::clamp(o.mask_alpha, 0.0f, 1.0f);
  const int64_t side = std::min(image.width, image.height);
  const int thick = static_cast<int>(std::max<int64_t>(1, side / 300));
  const int scale = static_cast<int>(std::max<int64_t>(1, side / 250));
  const uint8_t white[3] = {255, 255, 255}, black[3] = {0, 0, 0};
  const bool several = result.prompts.size() > 1;

  // Masks first (all prompts), then outlines and labels on top so none is hidden under another mask. Each mask is
  // decoded from its runs in turn into one scratch bitmap.
  int colour = 0;
  std::vector<uint8_t> bitmap;
  for (const PromptResult& p : result.prompts) {
    for (const Instance& in : p.instances) {
      uint8_t c[3];
      overlay_colour(colour++, c);
      if (in.mask.empty() || in.mask.width != image.width || in.mask.height != image.height) continue;
      bitmap.resize(static_cast<size_t>(HW));
      in.mask.to_bitmap(bitmap.data());
      for (int64_t i = 0; i < HW; ++i) {
        if (!bitmap[static_cast<size_t>(i)]) continue;
        uint8_t* px = out.pixels.data() + i * 3;
        for (int k = 0; k < 3; ++k) px[k] = static_cast<uint8_t>(std::lround((1 - a) * px[k] + a * c[k]));
      }
    }
  }
  if (o.draw_prompt_boxes) {
    const uint8_t pos[3] = {40, 220, 40}, neg[3] = {230, 30, 30};
    for (const PromptResult& p : result.prompts)
      for (const PromptBox& b : p.prompt.boxes) {
        float xyxy[4];
        b.to_xyxy(result.image_width, result.image_height, xyxy);
        draw_rect(out, xyxy, thick, b.positive ? pos : neg, 6 * thick);
      }
  }
  colour = 0;
  for (size_t pi = 0; pi < result.prompts.size(); ++pi) {
    for (const Instance& in : result.prompts[pi].instances) {
      uint8_t c[3];
      overlay_colour(colour++, c);
      if (o.draw_boxes) draw_rect(out, in.box, thick, c);
      if (o.draw_scores) {
        char buf[32];
        if (several)
          std::snprintf(buf, sizeof buf, "%zu:%.2f", pi, static_cast<double>(in.score));
        else
          std::snprintf(buf, sizeof buf, "%.2f", static_cast<double>(in.score));
        const int lh = (kGlyphH + 2) * scale;
        int x = static_cast<int>(std::lround(std::max(0.0f, in.box[0])));
        int y = static_cast<int>(std::lround(in.box[1])) - lh;
        if (y < 0) y = static_cast<int>(std::lround(std::max(0.0f, in.box[1])));
        x = std::min<int>(x, static_cast<int>(std::max<int64_t>(0, image.width - 1)));
        y = std::min<int>(y, static_cast<int>(std::max<int64_t>(0, image.height - 1)));
        const int lum = (c[0] * 299 + c[1] * 587 + c[2] * 114) / 1000;
        draw_label(out, x, y, buf, scale, lum > 140 ? black : white, c);
      }
    }
  }
  return out;
}

}  // namespace sam3
