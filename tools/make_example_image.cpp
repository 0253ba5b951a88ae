// sam3.cpp — draws the bundled example image assets/example.png: a procedurally drawn scene (sky, sun, clouds, a
// house, trees, balls on grass) so that the project ships an image of its own. Deterministic: the same bytes on
// every run. Self-contained (zlib only), run by hand when the picture should change:
//   c++ -O2 -std=c++17 -o /tmp/make_example_image tools/make_example_image.cpp -lz
//   /tmp/make_example_image assets/example.png
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace {

constexpr int kW = 640, kH = 480, kSS = 4;  // size and supersampling per axis

struct Rgb {
  float r, g, b;
};
Rgb mix(Rgb a, Rgb b, float t) { return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t}; }

// Deterministic hash noise in [0, 1).
float noise(int x, int y) {
  uint32_t h = static_cast<uint32_t>(x) * 374761393u + static_cast<uint32_t>(y) * 668265263u;
  h = (h ^ (h >> 13)) * 1274126177u;
  return static_cast<float>((h ^ (h >> 16)) & 0xFFFF) / 65536.0f;
}

bool in_circle(float x, float y, float cx, float cy, float r) { return (x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r; }
bool in_ellipse(float x, float y, float cx, float cy, float rx, float ry) {
  return ((x - cx) * (x - cx)) / (rx * rx) + ((y - cy) * (y - cy)) / (ry * ry) < 1.0f;
}
bool in_rect(float x, float y, float x0, float y0, float x1, float y1) { return x >= x0 && x < x1 && y >= y0 && y < y1; }
// Triangle with apex (ax, ay) and base from (x0, by) to (x1, by).
bool in_roof(float x, float y, float ax, float ay, float x0, float x1, float by) {
  if (y < ay || y >= by) return false;
  const float t = (y - ay) / (by - ay);
  return x >= ax + (x0 - ax) * t && x < ax + (x1 - ax) * t;
}

// Colour of the scene at a continuous point (painter's order: later shapes cover earlier ones).
Rgb scene(float x, float y) {
  const float horizon = 300.0f;
  Rgb c = y < horizon ? mix(Rgb{70, 130, 220}, Rgb{185, 215, 245}, y / horizon)
                      : mix(Rgb{95, 170, 70}, Rgb{60, 125, 45}, (y - horizon) / (kH - horizon));
  if (y >= horizon) c = mix(c, Rgb{40, 90, 30}, 0.25f * noise(static_cast<int>(x) / 3, static_cast<int>(y) / 2));
  if (in_circle(x, y, 540, 80, 42)) c = Rgb{255, 215, 60};                                   // sun
  struct Cloud { float cx, cy, s; };
  for (const Cloud& k : {Cloud{150, 70, 1}, Cloud{380, 110, 0.8f}}) {  // clouds
    const float cx = k.cx, cy = k.cy, s = k.s;
    if (in_ellipse(x, y, cx, cy, 60 * s, 22 * s) || in_ellipse(x, y, cx - 35 * s, cy + 8 * s, 38 * s, 18 * s) ||
        in_ellipse(x, y, cx + 38 * s, cy + 6 * s, 40 * s, 17 * s))
      c = Rgb{245, 245, 250};
  }
  // House: walls, roof, door, two windows.
  if (in_rect(x, y, 250, 200, 420, 330)) c = Rgb{200, 70, 55};
  if (in_roof(x, y, 335, 130, 235, 435, 200)) c = Rgb{110, 60, 45};
  if (in_rect(x, y, 318, 265, 352, 330)) c = Rgb{90, 55, 30};
  for (float wx : {268.f, 372.f})
    if (in_rect(x, y, wx, 225, wx + 32, 255)) c = in_rect(x, y, wx + 14, 225, wx + 18, 255) ? Rgb{240, 240, 240}
                                                                                                : Rgb{150, 200, 240};
  // Trees: trunk + round crown.
  struct Tree { float tx, ty, r; };
  for (const Tree& t : {Tree{120, 250, 48}, Tree{500, 235, 58}, Tree{585, 275, 36}}) {
    const float tx = t.tx, ty = t.ty, r = t.r;
    if (in_rect(x, y, tx - 8, ty, tx + 8, ty + r * 1.7f)) c = Rgb{115, 75, 40};
    if (in_circle(x, y, tx, ty, r))
      c = mix(Rgb{40, 120, 45}, Rgb{25, 90, 30}, noise(static_cast<int>(x) / 4, static_cast<int>(y) / 4));
  }
  // Balls on the grass, with a simple highlight.
  struct Ball { float bx, by, r; Rgb col; };
  for (const Ball& b : {Ball{180, 400, 26, Rgb{230, 50, 50}}, Ball{300, 420, 22, Rgb{40, 90, 230}},
                        Ball{430, 395, 30, Rgb{250, 200, 30}}, Ball{540, 430, 18, Rgb{235, 235, 235}}}) {
    const float bx = b.bx, by = b.by, r = b.r;
    const Rgb col = b.col;
    if (in_circle(x, y, bx, by, r)) {
      const float d = std::hypot(x - (bx - 0.35f * r), y - (by - 0.35f * r)) / (1.6f * r);
      c = mix(Rgb{255, 255, 255}, col, std::fmin(1.0f, 0.35f + d));
    }
  }
  return c;
}

void put_u32(std::vector<uint8_t>& v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<uint8_t>(x >> s));
}

void chunk(std::vector<uint8_t>& png, const char* type, const std::vector<uint8_t>& data) {
  put_u32(png, static_cast<uint32_t>(data.size()));
  std::vector<uint8_t> body(type, type + 4);
  body.insert(body.end(), data.begin(), data.end());
  png.insert(png.end(), body.begin(), body.end());
  put_u32(png, static_cast<uint32_t>(crc32(0, body.data(), static_cast<uInt>(body.size()))));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_example_image OUT.png\n");
    return 2;
  }
  std::vector<uint8_t> raw;  // filter byte 0 + RGB per row
  for (int y = 0; y < kH; ++y) {
    raw.push_back(0);
    for (int x = 0; x < kW; ++x) {
      float r = 0, g = 0, b = 0;
      for (int sy = 0; sy < kSS; ++sy)
        for (int sx = 0; sx < kSS; ++sx) {
          const Rgb c = scene(x + (sx + 0.5f) / kSS, y + (sy + 0.5f) / kSS);
          r += c.r, g += c.g, b += c.b;
        }
      const float n = kSS * kSS;
      for (float v : {r / n, g / n, b / n}) raw.push_back(static_cast<uint8_t>(std::lround(std::fmin(255.f, v))));
    }
  }
  uLongf zlen = compressBound(static_cast<uLong>(raw.size()));
  std::vector<uint8_t> z(zlen);
  if (compress2(z.data(), &zlen, raw.data(), static_cast<uLong>(raw.size()), 9) != Z_OK) return 1;
  z.resize(zlen);
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<uint8_t> ihdr;
  put_u32(ihdr, kW);
  put_u32(ihdr, kH);
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // 8-bit RGB, deflate, no filter, no interlace
  chunk(png, "IHDR", ihdr);
  chunk(png, "IDAT", z);
  chunk(png, "IEND", {});
  FILE* f = std::fopen(argv[1], "wb");
  if (!f || std::fwrite(png.data(), 1, png.size(), f) != png.size() || std::fclose(f) != 0) {
    std::fprintf(stderr, "make_example_image: cannot write %s\n", argv[1]);
    return 1;
  }
  std::printf("wrote %s (%dx%d)\n", argv[1], kW, kH);
  return 0;
}
