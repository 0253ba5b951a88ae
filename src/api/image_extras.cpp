// sam3.cpp — public helpers over the library's image and mask code (sam3.h): decoding a file, the overlay picture of
// `sam3 segment --overlay` as PNG bytes, and the COCO RLE string of a mask.
#include <cstring>

#include "core/error.h"
#include "io/image.h"
#include "io/image_decode.h"
#include "io/image_encode.h"
#include "io/overlay.h"
#include "io/rle.h"
#include "sam3/sam3.h"

namespace sam3 {

RgbImage read_image_file(const std::string& path, int64_t max_pixels) {
  DecodeOptions opts;
  opts.max_pixels = max_pixels;
  Image img = decode_image_file(path, opts);
  RgbImage out;
  out.width = static_cast<int>(img.width);  // <= max_pixels, checked from the header
  out.height = static_cast<int>(img.height);
  out.rgb = std::move(img.pixels);
  return out;
}

std::vector<uint8_t> render_overlay_png(const ImageView& image, const SegmentResult& result) {
  if (!image.rgb || image.width != result.image_width || image.height != result.image_height)
    throw Error("render_overlay_png: the image is " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                ", the result " + std::to_string(result.image_width) + "x" + std::to_string(result.image_height));
  Image img = Image::allocate(image.height, image.width);
  std::memcpy(img.pixels.data(), image.rgb, img.pixels.size());
  return encode_png(render_overlay(img, result));
}

std::string mask_to_coco_rle(const Mask& mask) {
  const int64_t total = rle_counts_total(mask.counts);
  if (mask.width < 0 || mask.height < 0 || total != int64_t{mask.width} * mask.height)
    throw Error("mask_to_coco_rle: the mask's runs cover " + std::to_string(total) + " pixels, not " +
                std::to_string(mask.width) + "x" + std::to_string(mask.height));
  return rle_counts_to_string(mask.counts);
}

}  // namespace sam3
