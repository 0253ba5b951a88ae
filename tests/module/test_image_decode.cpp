// Image decoding vs the official pipeline (PIL.Image.open(...).convert("RGB")):
// * the two fixture JPEGs decode bit-exactly to input.image_rgb_u8 (from a file and from memory);
// * PNGs of every bit depth / colour type, written here with libpng, decode to what PIL's PNG plugin + convert("RGB")
//   give (the expected values are computed independently below from the raw samples, following Pillow's
//   Unpack.c / Convert.c);
// * grey and CMYK/YCCK JPEGs, written here with libjpeg, follow PIL's l2rgb / "CMYK;I" + cmyk2rgb.
#include <gtest/gtest.h>
#include <jpeglib.h>
#include <png.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "fixture.h"
#include "io/image_decode.h"
#include "io/image_encode.h"

namespace sam3 {
namespace {

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f.good()) << path;
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

int64_t count_differences(const Image& img, const Tensor& ref) {
  int64_t n = 0;
  for (int64_t i = 0; i < ref.numel(); ++i) n += img.pixels[static_cast<size_t>(i)] != ref.data<uint8_t>()[i];
  return n;
}

// ---- fixture JPEGs ------------------------------------------------------------------------------------------------

class FixtureJpeg : public ::testing::TestWithParam<const char*> {};

TEST_P(FixtureJpeg, DecodesBitExactlyLikePil) {
  const std::string stem = GetParam();
  const std::string path = test::golden_path("images/" + stem + ".jpg");
  TensorFile tf = test::open_fixture("tiny/" + stem + ".image.safetensors");
  const Tensor& ref = tf.get("input.image_rgb_u8");  // (H, W, 3) uint8

  const Image from_file = decode_image_file(path);
  ASSERT_EQ(from_file.height, ref.size(0));
  ASSERT_EQ(from_file.width, ref.size(1));
  // Tolerance: none. Same library (libjpeg-turbo), same settings as PIL: every byte must match.
  EXPECT_EQ(count_differences(from_file, ref), 0);

  const std::vector<uint8_t> bytes = read_bytes(path);
  const Image from_memory = decode_image(bytes.data(), bytes.size(), {}, "upload");
  EXPECT_EQ(from_memory.pixels, from_file.pixels);

  const ImageInfo info = probe_image(bytes.data(), bytes.size());
  EXPECT_EQ(info.format, ImageFormat::Jpeg);
  EXPECT_EQ(info.width, ref.size(1));
  EXPECT_EQ(info.height, ref.size(0));
}

INSTANTIATE_TEST_SUITE_P(Images, FixtureJpeg, ::testing::Values("test_image", "groceries"));

TEST(ImageDecode, MaxPixelsIsInclusive) {
  const std::string path = test::golden_path("images/test_image.jpg");  // 1280 x 720
  DecodeOptions opts;
  opts.max_pixels = 1280 * 720;
  EXPECT_EQ(decode_image_file(path, opts).width, 1280);
  opts.max_pixels = 1280 * 720 - 1;
  EXPECT_THROW(decode_image_file(path, opts), Error);
}

// ---- PNG writer (libpng, no transforms: rows are packed here) -----------------------------------------------------

struct PngSpec {
  int color_type = PNG_COLOR_TYPE_RGB;
  int bit_depth = 8;
  bool interlace = false;
  int width = 13, height = 7;  // odd sizes: partial bytes for low bit depths, every Adam7 pass non-trivial
  std::vector<png_color> palette;
  std::vector<uint8_t> trns;   // palette alpha entries (palette images)
  bool trns_color = false;     // a tRNS colour key (grey / RGB images)
};

int channels_of(int color_type) {
  switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: case PNG_COLOR_TYPE_PALETTE: return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB: return 3;
    default: return 4;
  }
}

void png_mem_write(png_structp png, png_bytep data, png_size_t n) {
  auto* out = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + n);
}
void png_mem_flush(png_structp) {}

// samples: [height][width][channels] integer sample values in [0, 2^bit_depth).
std::vector<uint8_t> write_png(const PngSpec& s, const std::vector<uint32_t>& samples) {
  std::vector<uint8_t> out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    ADD_FAILURE() << "libpng write failed";
    png_destroy_write_struct(&png, &info);
    return {};
  }
  png_set_write_fn(png, &out, png_mem_write, png_mem_flush);
  png_set_check_for_invalid_index(png, -1);  // the tests write out-of-range palette indices on purpose
  png_set_IHDR(png, info, s.width, s.height, s.bit_depth, s.color_type,
               s.interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (!s.palette.empty()) png_set_PLTE(png, info, s.palette.data(), static_cast<int>(s.palette.size()));
  png_color_16 key{};
  key.gray = key.red = 1;
  key.green = 2;
  key.blue = 3;
  if (!s.trns.empty()) png_set_tRNS(png, info, s.trns.data(), static_cast<int>(s.trns.size()), nullptr);
  if (s.trns_color) png_set_tRNS(png, info, nullptr, 0, &key);
  png_write_info(png, info);
  const int ch = channels_of(s.color_type);
  const size_t row_bytes = (static_cast<size_t>(s.width) * ch * s.bit_depth + 7) / 8;
  std::vector<std::vector<uint8_t>> rows(s.height, std::vector<uint8_t>(row_bytes, 0));
  for (int y = 0; y < s.height; ++y) {
    for (int i = 0; i < s.width * ch; ++i) {
      const uint32_t v = samples[static_cast<size_t>(y * s.width * ch + i)];
      if (s.bit_depth == 16) {
        rows[y][2 * i] = static_cast<uint8_t>(v >> 8);
        rows[y][2 * i + 1] = static_cast<uint8_t>(v & 0xff);
      } else if (s.bit_depth == 8) {
        rows[y][i] = static_cast<uint8_t>(v);
      } else {  // MSB first
        const int bit = i * s.bit_depth;
        rows[y][bit / 8] |= static_cast<uint8_t>(v << (8 - s.bit_depth - bit % 8));
      }
    }
  }
  std::vector<png_bytep> ptrs;
  for (auto& r : rows) ptrs.push_back(r.data());
  png_write_image(png, ptrs.data());
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return out;
}

// The RGB value PIL gives for one pixel (Pillow PngImagePlugin._MODES + Unpack.c + Convert.c).
void pil_rgb(const PngSpec& s, const uint32_t* p, uint8_t out[3]) {
  const int bd = s.bit_depth;
  switch (s.color_type) {
    case PNG_COLOR_TYPE_GRAY: {
      uint32_t v = p[0];
      if (bd == 1) v = v ? 255 : 0;
      else if (bd == 2) v *= 85;
      else if (bd == 4) v *= 17;
      else if (bd == 16) v = std::min<uint32_t>(v, 255);  // mode I;16 -> RGB clips
      out[0] = out[1] = out[2] = static_cast<uint8_t>(v);
      return;
    }
    case PNG_COLOR_TYPE_GRAY_ALPHA:
      out[0] = out[1] = out[2] = static_cast<uint8_t>(bd == 16 ? p[0] >> 8 : p[0]);
      return;
    case PNG_COLOR_TYPE_PALETTE:
      if (p[0] < s.palette.size()) {
        out[0] = s.palette[p[0]].red;
        out[1] = s.palette[p[0]].green;
        out[2] = s.palette[p[0]].blue;
      } else {
        out[0] = out[1] = out[2] = 0;  // beyond PLTE: black (Pillow >= 10)
      }
      return;
    default:
      for (int c = 0; c < 3; ++c) out[c] = static_cast<uint8_t>(bd == 16 ? p[c] >> 8 : p[c]);
      return;
  }
}

void check_png(const PngSpec& s, uint32_t seed) {
  SCOPED_TRACE("color_type " + std::to_string(s.color_type) + " bit_depth " + std::to_string(s.bit_depth) +
               (s.interlace ? " interlaced" : "") + (s.trns.empty() && !s.trns_color ? "" : " tRNS"));
  const int ch = channels_of(s.color_type);
  std::mt19937 rng(seed);
  const uint32_t maxv = (1u << s.bit_depth) - 1;
  std::vector<uint32_t> samples(static_cast<size_t>(s.width * s.height * ch));
  for (size_t i = 0; i < samples.size(); ++i) {
    if (s.color_type == PNG_COLOR_TYPE_PALETTE) samples[i] = rng() % (maxv + 1);  // may exceed the palette
    else if (s.bit_depth == 16 && i % 3 == 0) samples[i] = rng() % 256;          // exercise the I;16 clip
    else samples[i] = rng() & maxv;
  }
  const std::vector<uint8_t> file = write_png(s, samples);
  ASSERT_FALSE(file.empty());
  const Image img = decode_image(file.data(), file.size(), {}, "test.png");
  ASSERT_EQ(img.width, s.width);
  ASSERT_EQ(img.height, s.height);
  int64_t bad = 0;
  for (int y = 0; y < s.height; ++y) {
    for (int x = 0; x < s.width; ++x) {
      uint8_t want[3];
      pil_rgb(s, &samples[static_cast<size_t>((y * s.width + x) * ch)], want);
      for (int c = 0; c < 3; ++c) bad += img.row(y)[x * 3 + c] != want[c];
    }
  }
  EXPECT_EQ(bad, 0);
}

TEST(PngDecode, EveryBitDepthAndColourTypeLikePil) {
  struct Case { int color_type; std::vector<int> depths; };
  const std::vector<Case> cases = {{PNG_COLOR_TYPE_GRAY, {1, 2, 4, 8, 16}},
                                   {PNG_COLOR_TYPE_GRAY_ALPHA, {8, 16}},
                                   {PNG_COLOR_TYPE_RGB, {8, 16}},
                                   {PNG_COLOR_TYPE_RGB_ALPHA, {8, 16}},
                                   {PNG_COLOR_TYPE_PALETTE, {1, 2, 4, 8}}};
  uint32_t seed = 1;
  for (const Case& c : cases) {
    for (int bd : c.depths) {
      for (bool interlace : {false, true}) {
        PngSpec s;
        s.color_type = c.color_type;
        s.bit_depth = bd;
        s.interlace = interlace;
        if (c.color_type == PNG_COLOR_TYPE_PALETTE) {
          // Fewer entries than indices for depths >= 2: out-of-range indices must come out black.
          const int n = bd == 1 ? 2 : (1 << bd) - 1;
          for (int i = 0; i < n; ++i)
            s.palette.push_back(png_color{static_cast<png_byte>(17 * i + 3), static_cast<png_byte>(255 - 5 * i),
                                          static_cast<png_byte>(i * 29 % 256)});
        }
        check_png(s, seed++);
      }
    }
  }
}

TEST(PngDecode, TransparencyIsIgnoredNotComposited) {
  PngSpec pal;
  pal.color_type = PNG_COLOR_TYPE_PALETTE;
  pal.bit_depth = 8;
  for (int i = 0; i < 256; ++i)
    pal.palette.push_back(png_color{static_cast<png_byte>(i), static_cast<png_byte>(255 - i), 7});
  pal.trns = {0, 10, 128, 255, 0};
  check_png(pal, 100);
  for (int ct : {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_RGB}) {
    for (int bd : {8, 16}) {
      PngSpec s;
      s.color_type = ct;
      s.bit_depth = bd;
      s.trns_color = true;
      check_png(s, 200 + bd + ct);
    }
  }
}

TEST(PngDecode, LargerInterlacedImage) {
  PngSpec s;
  s.color_type = PNG_COLOR_TYPE_RGB_ALPHA;
  s.bit_depth = 8;
  s.interlace = true;
  s.width = 301;
  s.height = 157;
  check_png(s, 7);
}

TEST(PngEncode, RoundTripsThroughTheDecoder) {
  Image img = Image::allocate(37, 53);
  std::mt19937 rng(3);
  for (auto& v : img.pixels) v = static_cast<uint8_t>(rng());
  for (int level : {0, 6, 9}) {
    const std::vector<uint8_t> png = encode_png(img, level);
    const Image back = decode_image(png.data(), png.size());
    EXPECT_EQ(back.pixels, img.pixels) << "compression " << level;
  }
  // Grey+alpha and RGBA encodings decode like PIL (alpha dropped).
  std::vector<uint8_t> rgba(static_cast<size_t>(5 * 4 * 4));
  for (size_t i = 0; i < rgba.size(); ++i) rgba[i] = static_cast<uint8_t>(i * 7);
  const std::vector<uint8_t> png = encode_png(rgba.data(), 5, 4, 4);
  const Image back = decode_image(png.data(), png.size());
  for (int64_t i = 0; i < 20; ++i)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(back.pixels[static_cast<size_t>(i * 3 + c)], rgba[static_cast<size_t>(i * 4 + c)]);
  EXPECT_THROW(encode_png(rgba.data(), 5, 4, 5), Error);
  EXPECT_THROW(encode_png(rgba.data(), 0, 4, 3), Error);
}

// ---- grey and CMYK JPEGs (written with libjpeg) -------------------------------------------------------------------

std::vector<uint8_t> write_jpeg(const std::vector<uint8_t>& pixels, int width, int height, int components,
                                J_COLOR_SPACE in_space, J_COLOR_SPACE file_space) {
  jpeg_compress_struct ci;
  jpeg_error_mgr err;
  ci.err = jpeg_std_error(&err);
  jpeg_create_compress(&ci);
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&ci, &buf, &size);
  ci.image_width = width;
  ci.image_height = height;
  ci.input_components = components;
  ci.in_color_space = in_space;
  jpeg_set_defaults(&ci);
  jpeg_set_colorspace(&ci, file_space);  // CMYK / YCCK also write the Adobe marker
  jpeg_set_quality(&ci, 90, TRUE);
  jpeg_start_compress(&ci, TRUE);
  while (ci.next_scanline < ci.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(&pixels[static_cast<size_t>(ci.next_scanline) * width * components]);
    jpeg_write_scanlines(&ci, &row, 1);
  }
  jpeg_finish_compress(&ci);
  jpeg_destroy_compress(&ci);
  std::vector<uint8_t> out(buf, buf + size);
  std::free(buf);
  return out;
}

// Raw decode with libjpeg's defaults and the given output space (what PIL asks libjpeg for).
std::vector<uint8_t> libjpeg_raw(const std::vector<uint8_t>& file, J_COLOR_SPACE out_space, int components) {
  jpeg_decompress_struct ci;
  jpeg_error_mgr err;
  ci.err = jpeg_std_error(&err);
  jpeg_create_decompress(&ci);
  jpeg_mem_src(&ci, file.data(), static_cast<unsigned long>(file.size()));
  jpeg_read_header(&ci, TRUE);
  ci.out_color_space = out_space;
  jpeg_start_decompress(&ci);
  std::vector<uint8_t> out(static_cast<size_t>(ci.output_width) * ci.output_height * components);
  while (ci.output_scanline < ci.output_height) {
    JSAMPROW row = &out[static_cast<size_t>(ci.output_scanline) * ci.output_width * components];
    jpeg_read_scanlines(&ci, &row, 1);
  }
  jpeg_finish_decompress(&ci);
  jpeg_destroy_decompress(&ci);
  return out;
}

std::vector<uint8_t> smooth_pattern(int width, int height, int components) {
  std::vector<uint8_t> p(static_cast<size_t>(width * height * components));
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < components; ++c)
        p[static_cast<size_t>((y * width + x) * components + c)] =
            static_cast<uint8_t>(128 + 100 * std::sin(0.11 * x * (c + 1) + 0.07 * y));
  return p;
}

TEST(JpegDecode, GreyBecomesRgbByReplication) {
  const int w = 45, h = 29;
  const std::vector<uint8_t> file = write_jpeg(smooth_pattern(w, h, 1), w, h, 1, JCS_GRAYSCALE, JCS_GRAYSCALE);
  const std::vector<uint8_t> grey = libjpeg_raw(file, JCS_GRAYSCALE, 1);
  const Image img = decode_image(file.data(), file.size());
  ASSERT_EQ(img.width, w);
  ASSERT_EQ(img.height, h);
  int64_t bad = 0;
  for (int i = 0; i < w * h; ++i)
    for (int c = 0; c < 3; ++c) bad += img.pixels[static_cast<size_t>(i * 3 + c)] != grey[static_cast<size_t>(i)];
  EXPECT_EQ(bad, 0);
}

TEST(JpegDecode, CmykAndYcckFollowPilsConversion) {
  const int w = 33, h = 17;
  for (J_COLOR_SPACE file_space : {JCS_CMYK, JCS_YCCK}) {
    SCOPED_TRACE(file_space == JCS_CMYK ? "CMYK" : "YCCK");
    const std::vector<uint8_t> file = write_jpeg(smooth_pattern(w, h, 4), w, h, 4, JCS_CMYK, file_space);
    const std::vector<uint8_t> raw = libjpeg_raw(file, JCS_CMYK, 4);
    const Image img = decode_image(file.data(), file.size());
    ASSERT_EQ(img.width, w);
    int64_t bad = 0;
    for (int i = 0; i < w * h; ++i) {
      const uint8_t* p = &raw[static_cast<size_t>(i * 4)];
      for (int c = 0; c < 3; ++c) {
        // PIL: stored = 255 - raw ("CMYK;I"); RGB = (255 - K)(1 - C/255) with integer rounding, i.e.
        // k - round(k * (255 - c) / 255) for raw bytes c, k (no ties: 255 is odd).
        const long want = p[3] - std::lround(p[3] * (255.0 - p[c]) / 255.0);
        bad += img.pixels[static_cast<size_t>(i * 3 + c)] != want;
      }
    }
    EXPECT_EQ(bad, 0);
  }
}

}  // namespace
}  // namespace sam3
