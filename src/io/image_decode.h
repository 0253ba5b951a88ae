// sam3.cpp — JPEG and PNG decoding to 8-bit RGB, reproducing what the official pipeline gets from
// `PIL.Image.open(path).convert("RGB")` (sam3/model/io_utils.py, and what users pass to Sam3Processor.set_image).
//
// JPEG (libjpeg-turbo, PIL's settings: islow DCT, fancy upsampling, libjpeg's own colour-space guess):
//   * 3 components -> RGB as libjpeg converts it (bit-exact with PIL, which uses the same library).
//   * 1 component (grey) -> R = G = B = grey (PIL "L" -> "RGB").
//   * 4 components (CMYK / YCCK, Adobe inverted convention) -> PIL's "CMYK;I" unpacking followed by its cmyk2rgb:
//     with the raw libjpeg values c, k: R = k - round(k * (255 - c) / 255) (PIL's MULDIV255 rounding), same for G, B.
//   * other component counts and 12-bit JPEGs are rejected, as PIL rejects them.
//   * EXIF orientation is NOT applied: Image.open does not apply it and neither does the official code, so the
//     pixels are in stored order (a portrait phone photo may come out sideways, exactly as in the official tool).
// PNG (libpng; PIL decodes PNG itself, the conversions below are PIL's, checked against Pillow's Unpack.c and
// Convert.c):
//   * grey 1/2/4 bit -> scaled to 8 bit (v*255, v*0x55, v*0x11); grey 8 bit -> v;
//   * grey 16 bit -> min(v, 255): PIL opens it as mode "I;16"/"I" and convert("RGB") clips (a PIL quirk, kept);
//   * grey+alpha 8/16 bit -> grey (16 bit: high byte), alpha dropped; RGB / RGBA 16 bit -> high byte per channel;
//   * palette (1/2/4/8 bit) -> palette colour; indices beyond the PLTE entries -> black (Pillow >= 10);
//   * alpha and tRNS are dropped, never composited (convert("RGB") ignores them); gAMA/iCCP/sRGB are ignored.
// Robustness: corrupt, truncated, empty and non-image inputs throw sam3::Error naming the input; libjpeg/libpng
// errors never exit the process; their warnings are ignored except a premature end of JPEG data (truncation),
// which is an error as in PIL. The pixel count is checked against `max_pixels` from the header, before any
// pixel memory is allocated.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "io/image.h"

namespace sam3 {

enum class ImageFormat { Unknown, Jpeg, Png };

struct DecodeOptions {
  // Largest accepted width*height; larger images are rejected from their header (decompression bombs).
  int64_t max_pixels = 100'000'000;
  // Progressive JPEG: each scan is a pass over the whole image, and a small file can hold thousands of them
  // (libjpeg-turbo's documented CPU DoS); more scans than this is an error. Real encoders use about 10.
  int max_jpeg_scans = 100;
};

struct ImageInfo {
  ImageFormat format = ImageFormat::Unknown;
  int64_t width = 0;
  int64_t height = 0;
};

// Format from the leading magic bytes (Unknown if neither JPEG nor PNG).
ImageFormat detect_image_format(const uint8_t* data, size_t size);

// Size and format from the header only (no pixel decoding). `name` is used in error messages.
ImageInfo probe_image(const uint8_t* data, size_t size, const std::string& name = "<memory>");

// Decodes a JPEG or PNG held in memory (e.g. an HTTP upload). `name` is used in error messages.
Image decode_image(const uint8_t* data, size_t size, const DecodeOptions& opts = {},
                   const std::string& name = "<memory>");
// Decodes a file; errors name the path.
Image decode_image_file(const std::string& path, const DecodeOptions& opts = {});

// Format-specific entry points (decode_image dispatches to these).
Image decode_jpeg(const uint8_t* data, size_t size, const DecodeOptions& opts, const std::string& name);
Image decode_png(const uint8_t* data, size_t size, const DecodeOptions& opts, const std::string& name);
ImageInfo probe_jpeg(const uint8_t* data, size_t size, const std::string& name);
ImageInfo probe_png(const uint8_t* data, size_t size, const std::string& name);
// The decoders' header check: throws sam3::Error naming `format` and `name` unless the size is non-empty and
// width*height <= opts.max_pixels.
void check_decode_size(const char* format, const std::string& name, int64_t width, int64_t height,
                       const DecodeOptions& opts);

}  // namespace sam3
