// sam3.cpp — PNG encoding with libpng. libpng errors longjmp back to png_write_c, a frame without C++ objects.
#include "io/image_encode.h"

#include <png.h>

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/error.h"
#include "io/atomic_file.h"

namespace sam3 {
namespace {

struct PngSink {
  std::vector<uint8_t>* out = nullptr;
  bool oom = false;
  char message[256] = {0};
};

void on_error(png_structp png, png_const_charp msg) {
  auto* sink = static_cast<PngSink*>(png_get_error_ptr(png));
  std::snprintf(sink->message, sizeof sink->message, "%s", msg ? msg : "unknown libpng error");
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}

void on_write(png_structp png, png_bytep data, png_size_t len) {
  auto* sink = static_cast<PngSink*>(png_get_io_ptr(png));
  try {
    sink->out->insert(sink->out->end(), data, data + len);
  } catch (...) {  // never let an exception cross libpng's C frames
    sink->oom = true;
  }
  if (sink->oom) png_error(png, "out of memory while writing PNG");
}

void on_flush(png_structp) {}

// No C++ objects with destructors live in this frame.
bool png_write_c(png_structp png, png_infop info, png_bytepp rows, png_uint_32 width, png_uint_32 height,
                 int color_type, int compression) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_compression_level(png, compression);
  png_set_IHDR(png, info, width, height, 8, color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, info);
  return true;
}

}  // namespace

std::vector<uint8_t> encode_png(const uint8_t* pixels, int64_t width, int64_t height, int channels, int compression) {
  static const int kColorType[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                    PNG_COLOR_TYPE_RGB_ALPHA};
  if (channels < 1 || channels > 4) throw Error("encode_png: channels must be 1..4, got " + std::to_string(channels));
  if (width <= 0 || height <= 0 || width > 0x7fffffff || height > 0x7fffffff)
    throw Error("encode_png: bad size " + std::to_string(width) + "x" + std::to_string(height));
  if (!pixels) throw Error("encode_png: null pixels");
  if (compression < 0 || compression > 9)
    throw Error("encode_png: compression must be 0..9, got " + std::to_string(compression));

  std::vector<uint8_t> out;
  PngSink sink;
  sink.out = &out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, on_error, on_warning);
  if (!png) throw Error("encode_png: libpng initialisation failed");
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    throw Error("encode_png: libpng initialisation failed");
  }
  png_set_write_fn(png, &sink, on_write, on_flush);
  std::vector<png_bytep> rows(static_cast<size_t>(height));
  const size_t stride = static_cast<size_t>(width) * channels;
  for (int64_t y = 0; y < height; ++y) rows[y] = const_cast<png_bytep>(pixels + y * stride);
  const bool ok = png_write_c(png, info, rows.data(), static_cast<png_uint_32>(width),
                              static_cast<png_uint_32>(height), kColorType[channels], compression);
  png_destroy_write_struct(&png, &info);
  if (!ok) throw Error(std::string("encode_png: ") + sink.message);
  return out;
}

std::vector<uint8_t> encode_png(const Image& img, int compression) {
  return encode_png(img.pixels.data(), img.width, img.height, 3, compression);
}

void write_png_file(const std::string& path, const uint8_t* pixels, int64_t width, int64_t height, int channels,
                    int compression) {
  const std::vector<uint8_t> data = encode_png(pixels, width, height, channels, compression);
  write_file_atomic(path, data.data(), data.size());
}

void write_png_file(const std::string& path, const Image& img, int compression) {
  write_png_file(path, img.pixels.data(), img.width, img.height, 3, compression);
}

}  // namespace sam3
