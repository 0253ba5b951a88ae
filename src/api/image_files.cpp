// sam3.cpp — the public image-file entry points (sam3.h: read_image_header, decode_image_bytes) over io/image_decode.
#include <utility>

#include "io/image_decode.h"
#include "sam3/sam3.h"

namespace sam3 {

ImageHeader read_image_header(const uint8_t* data, size_t size, const std::string& name) {
  ImageHeader h;
  if (detect_image_format(data, size) == ImageFormat::Unknown) return h;
  const ImageInfo info = probe_image(data, size, name);
  h.supported = true;
  h.width = info.width;
  h.height = info.height;
  return h;
}

RgbImage decode_image_bytes(const uint8_t* data, size_t size, int64_t max_pixels, const std::string& name) {
  DecodeOptions opts;
  opts.max_pixels = max_pixels;
  Image img = decode_image(data, size, opts, name);
  RgbImage out;
  out.width = static_cast<int>(img.width);  // <= max_pixels, checked from the header
  out.height = static_cast<int>(img.height);
  out.rgb = std::move(img.pixels);
  return out;
}

}  // namespace sam3
