// sam3.cpp — sam3::Mask, a mask held as COCO run lengths (sam3.h): area, bitmap <-> runs. The run arithmetic is
// io/rle.h's (the one RLE implementation: the JSON writer, the fuzz target and these share it).
// ref: pycocotools/common/maskApi.c (rleEncode, rleDecode, rleArea)
#include <string>

#include "core/error.h"
#include "io/rle.h"
#include "sam3/sam3.h"

namespace sam3 {

int64_t Mask::area() const { return rle_counts_area(counts); }

std::vector<uint8_t> Mask::to_bitmap() const {
  if (width < 0 || height < 0)
    throw Error("Mask::to_bitmap: negative size " + std::to_string(width) + "x" + std::to_string(height));
  std::vector<uint8_t> out(static_cast<size_t>(width) * static_cast<size_t>(height));
  to_bitmap(out.data());
  return out;
}

void Mask::to_bitmap(uint8_t* out) const { rle_counts_decode(counts, height, width, out); }

Mask Mask::from_bitmap(const uint8_t* rowmajor, int width, int height) {
  Mask m;
  m.counts = rle_counts_encode(rowmajor, height, width);
  m.width = width;
  m.height = height;
  return m;
}

}  // namespace sam3
