// sam3.cpp — image format detection, dispatch to the JPEG/PNG decoders, decoding from files.
#include "io/image_decode.h"

#include <cstdio>
#include <cstring>
#include <string>

#include "core/error.h"
#include "io/mmap_file.h"

namespace sam3 {
namespace {

bool starts_with(const uint8_t* data, size_t size, const char* magic, size_t n) {
  return size >= n && std::memcmp(data, magic, n) == 0;
}

// A clear message for inputs that are not JPEG/PNG, naming common formats we do not decode.
[[noreturn]] void reject_unknown(const uint8_t* data, size_t size, const std::string& name) {
  if (size == 0) throw Error("cannot decode image '" + name + "': the input is empty (0 bytes)");
  const char* what = nullptr;
  if (starts_with(data, size, "GIF8", 4)) what = "a GIF image";
  else if (starts_with(data, size, "BM", 2)) what = "a BMP image";
  else if (size >= 12 && std::memcmp(data, "RIFF", 4) == 0 && std::memcmp(data + 8, "WEBP", 4) == 0)
    what = "a WebP image";
  else if (starts_with(data, size, "II*\0", 4) || starts_with(data, size, "MM\0*", 4)) what = "a TIFF image";
  std::string head;
  for (size_t i = 0; i < size && i < 8; ++i) {
    char b[4];
    std::snprintf(b, sizeof b, "%02x", data[i]);
    head += b;
  }
  throw Error("cannot decode image '" + name + "': " + (what ? std::string("it is ") + what + ", but only JPEG "
                                                                "and PNG are supported"
                                                              : "not a JPEG or PNG file (first bytes: " + head + ")"));
}

}  // namespace

ImageFormat detect_image_format(const uint8_t* data, size_t size) {
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return ImageFormat::Jpeg;
  if (size >= 8 && std::memcmp(data, kPng, 8) == 0) return ImageFormat::Png;
  return ImageFormat::Unknown;
}

void check_decode_size(const char* format, const std::string& name, int64_t width, int64_t height,
                       const DecodeOptions& opts) {
  if (width <= 0 || height <= 0)
    throw Error(std::string(format) + " '" + name + "' has an empty size " + std::to_string(width) + "x" +
                std::to_string(height));
  if (width * height > opts.max_pixels)
    throw Error("image '" + name + "' is too large: " + std::to_string(width) + "x" + std::to_string(height) + " = " +
                std::to_string(width * height) + " pixels exceeds the limit of " + std::to_string(opts.max_pixels) +
                " (max_pixels)");
}

ImageInfo probe_image(const uint8_t* data, size_t size, const std::string& name) {
  switch (detect_image_format(data, size)) {
    case ImageFormat::Jpeg: return probe_jpeg(data, size, name);
    case ImageFormat::Png: return probe_png(data, size, name);
    default: reject_unknown(data, size, name);
  }
}

Image decode_image(const uint8_t* data, size_t size, const DecodeOptions& opts, const std::string& name) {
  if (opts.max_pixels <= 0) throw Error("decode_image: max_pixels must be positive");
  switch (detect_image_format(data, size)) {
    case ImageFormat::Jpeg: return decode_jpeg(data, size, opts, name);
    case ImageFormat::Png: return decode_png(data, size, opts, name);
    default: reject_unknown(data, size, name);
  }
}

Image decode_image_file(const std::string& path, const DecodeOptions& opts) {
  auto file = MappedFile::open(path);  // throws naming the path
  return decode_image(file->data(), file->size(), opts, path);
}

}  // namespace sam3
