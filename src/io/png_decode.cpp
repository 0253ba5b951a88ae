// sam3.cpp — PNG decoding with libpng, converted to RGB exactly as PIL's PngImagePlugin + convert("RGB") do
// (see io/image_decode.h for the per-format rules).
//
// libpng reports errors through our error callback, which longjmps back to the C-style frame that called into
// libpng (png_header_c / png_rows_c). Those frames hold no C++ objects with destructors; the png structs and all
// buffers are owned by the caller and released there on every path.
#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "io/image_decode.h"

namespace sam3 {
namespace {

struct PngSource {
  const uint8_t* data = nullptr;
  size_t size = 0;
  size_t pos = 0;
  char message[256] = {0};
};

void on_png_error(png_structp png, png_const_charp msg) {
  auto* src = static_cast<PngSource*>(png_get_error_ptr(png));
  std::snprintf(src->message, sizeof src->message, "%s", msg ? msg : "unknown libpng error");
  png_longjmp(png, 1);
}

void on_png_warning(png_structp, png_const_charp) {}  // warnings (bad ancillary CRC, ...) do not abort

void on_png_read(png_structp png, png_bytep out, png_size_t len) {
  auto* src = static_cast<PngSource*>(png_get_io_ptr(png));
  if (len > src->size - src->pos) png_error(png, "truncated PNG data (unexpected end of file)");
  std::memcpy(out, src->data + src->pos, len);
  src->pos += len;
}

struct PngHeader {
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0, interlace = 0;
};

// Reads the signature and all chunks up to the first IDAT. No C++ objects live in this frame.
bool png_header_c(png_structp png, png_infop info, PngHeader* h) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_benign_errors(png, 1);  // e.g. palette index out of range: a warning, handled below as PIL does
  png_read_info(png, info);
  png_get_IHDR(png, info, &h->width, &h->height, &h->bit_depth, &h->color_type, &h->interlace, nullptr, nullptr);
  return true;
}

// Sets up the transforms; returns the number of interlace passes (1 or 7) in *passes.
bool png_start_c(png_structp png, png_infop info, int bit_depth, int* passes) {
  if (setjmp(png_jmpbuf(png))) return false;
  if (bit_depth < 8) png_set_packing(png);  // one byte per sample, values unscaled
  *passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  return true;
}

// Reads the next row (non-interlaced images).
bool png_read_row_c(png_structp png, png_bytep row) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_row(png, row, nullptr);
  return true;
}

// Reads all passes of an interlaced image into `rows` (one pointer per image row).
bool png_read_image_c(png_structp png, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);  // no png_read_end: trailing chunks do not change the pixels
  return true;
}

struct PngDecoder {
  PngSource src;
  png_structp png = nullptr;
  png_infop info = nullptr;
  std::string name;

  PngDecoder(const uint8_t* data, size_t size, std::string n) : name(std::move(n)) {
    src.data = data;
    src.size = size;
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, on_png_error, on_png_warning);
    if (!png) throw Error("cannot decode PNG '" + name + "': libpng initialisation failed");
    info = png_create_info_struct(png);
    if (!info) {
      png_destroy_read_struct(&png, nullptr, nullptr);
      throw Error("cannot decode PNG '" + name + "': libpng initialisation failed");
    }
    png_set_read_fn(png, &src, on_png_read);
  }
  ~PngDecoder() { png_destroy_read_struct(&png, &info, nullptr); }
  PngDecoder(const PngDecoder&) = delete;
  PngDecoder& operator=(const PngDecoder&) = delete;

  [[noreturn]] void fail(const char* stage) const {
    throw Error("cannot decode PNG '" + name + "' (" + stage + "): " + src.message);
  }
};

void check_signature(const uint8_t* data, size_t size, const std::string& name) {
  if (size < 8 || png_sig_cmp(data, 0, 8) != 0) throw Error("cannot decode PNG '" + name + "': bad PNG signature");
}

// One decoded row (depth < 8 unpacked to a byte per sample, 16 bit big-endian) -> RGB as PIL converts it.
void convert_row(const uint8_t* in, const PngHeader& h, int channels, int64_t width, const uint8_t (*palette)[3],
                 uint8_t* out) {
  const int bytes_per_sample = h.bit_depth == 16 ? 2 : 1;
  for (int64_t x = 0; x < width; ++x, out += 3) {
    const uint8_t* p = in + static_cast<size_t>(x) * channels * bytes_per_sample;
    switch (h.color_type) {
      case PNG_COLOR_TYPE_GRAY: {
        uint8_t v;
        switch (h.bit_depth) {
          case 1: v = p[0] ? 255 : 0; break;                     // PIL "1" -> bit2rgb
          case 2: v = static_cast<uint8_t>(p[0] * 0x55); break;  // unpackL2
          case 4: v = static_cast<uint8_t>(p[0] * 0x11); break;  // unpackL4
          case 16: v = p[0] != 0 ? 255 : p[1]; break;            // "I;16" -> RGB clips at 255 (I16_RGB)
          default: v = p[0]; break;
        }
        out[0] = out[1] = out[2] = v;
        break;
      }
      case PNG_COLOR_TYPE_PALETTE: {
        const uint8_t* rgb = palette[p[0]];
        out[0] = rgb[0];
        out[1] = rgb[1];
        out[2] = rgb[2];
        break;
      }
      case PNG_COLOR_TYPE_GRAY_ALPHA:  // 16 bit: PIL "LA;16B" -> RGBA takes the high byte; alpha dropped
        out[0] = out[1] = out[2] = p[0];
        break;
      default:  // RGB / RGBA, 8 bit or 16 bit big-endian (PIL "RGB;16B"/"RGBA;16B" take the high byte)
        out[0] = p[0];
        out[1] = p[bytes_per_sample];
        out[2] = p[2 * bytes_per_sample];
        break;
    }
  }
}

}  // namespace

ImageInfo probe_png(const uint8_t* data, size_t size, const std::string& name) {
  check_signature(data, size, name);
  PngDecoder dec(data, size, name);
  PngHeader h;
  if (!png_header_c(dec.png, dec.info, &h)) dec.fail("header");
  ImageInfo out;
  out.format = ImageFormat::Png;
  out.width = h.width;
  out.height = h.height;
  return out;
}

// ref: PIL PngImagePlugin.py (_MODES: mode and rawmode per bit depth / colour type), Unpack.c, Convert.c
Image decode_png(const uint8_t* data, size_t size, const DecodeOptions& opts, const std::string& name) {
  check_signature(data, size, name);
  PngDecoder dec(data, size, name);
  PngHeader h;
  if (!png_header_c(dec.png, dec.info, &h)) dec.fail("header");

  const int64_t width = h.width, height = h.height;
  check_decode_size("PNG", name, width, height, opts);

  int channels = 0;
  switch (h.color_type) {
    case PNG_COLOR_TYPE_GRAY: channels = 1; break;
    case PNG_COLOR_TYPE_PALETTE: channels = 1; break;
    case PNG_COLOR_TYPE_GRAY_ALPHA: channels = 2; break;
    case PNG_COLOR_TYPE_RGB: channels = 3; break;
    case PNG_COLOR_TYPE_RGB_ALPHA: channels = 4; break;
    default: throw Error("cannot decode PNG '" + name + "': unknown colour type " + std::to_string(h.color_type));
  }
  const int bytes_per_sample = h.bit_depth == 16 ? 2 : 1;  // after png_set_packing for depths < 8
  const size_t row_len = static_cast<size_t>(width) * channels * bytes_per_sample;

  // Palette (PIL pads a short palette with black entries, Pillow >= 10).
  uint8_t palette[256][3] = {{0}};
  if (h.color_type == PNG_COLOR_TYPE_PALETTE) {
    png_colorp plte = nullptr;
    int n = 0;
    if (png_get_PLTE(dec.png, dec.info, &plte, &n) == 0 || !plte)
      throw Error("cannot decode PNG '" + name + "': palette image without a PLTE chunk");
    for (int i = 0; i < n && i < 256; ++i) {
      palette[i][0] = plte[i].red;
      palette[i][1] = plte[i].green;
      palette[i][2] = plte[i].blue;
    }
  }

  int passes = 1;
  if (!png_start_c(dec.png, dec.info, h.bit_depth, &passes)) dec.fail("pixels");
  if (png_get_rowbytes(dec.png, dec.info) != row_len)
    throw Error("cannot decode PNG '" + name + "': unexpected row size " +
                std::to_string(png_get_rowbytes(dec.png, dec.info)) + " (expected " + std::to_string(row_len) + ")");

  Image img = Image::allocate(height, width);
  if (passes > 1) {
    // Interlaced: every pass revisits every row, so all rows are held at their decoded depth.
    std::vector<uint8_t> raw(row_len * static_cast<size_t>(height));
    std::vector<png_bytep> rows(static_cast<size_t>(height));
    for (int64_t y = 0; y < height; ++y) rows[static_cast<size_t>(y)] = raw.data() + static_cast<size_t>(y) * row_len;
    if (!png_read_image_c(dec.png, rows.data())) dec.fail("pixels");
    for (int64_t y = 0; y < height; ++y)
      convert_row(rows[static_cast<size_t>(y)], h, channels, width, palette, img.row(y));
  } else {
    std::vector<uint8_t> raw(row_len);
    for (int64_t y = 0; y < height; ++y) {
      if (!png_read_row_c(dec.png, raw.data())) dec.fail("pixels");
      convert_row(raw.data(), h, channels, width, palette, img.row(y));
    }
  }
  return img;
}

}  // namespace sam3
