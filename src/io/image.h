// sam3.cpp — the decoded image: 8-bit RGB, interleaved, row-major (H, W, 3), as PIL's Image.convert("RGB") gives it
// (numpy.asarray(img) has exactly this layout).
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "sam3/sam3.h"  // ImageView

namespace sam3 {

struct Image {
  int64_t height = 0;
  int64_t width = 0;
  std::vector<uint8_t> pixels;  // [height, width, 3]: pixels[(y*width + x)*3 + c], c = R, G, B

  // An image of the given size with uninitialised (zero) pixels. Throws sam3::Error on negative sizes.
  static Image allocate(int64_t height, int64_t width);

  bool empty() const { return height == 0 || width == 0; }
  int64_t row_bytes() const { return width * 3; }
  uint8_t* row(int64_t y) { return pixels.data() + y * row_bytes(); }
  const uint8_t* row(int64_t y) const { return pixels.data() + y * row_bytes(); }

  // Borrowed U8 [H, W, 3] view of the pixels: valid while this Image lives and is not reallocated.
  Tensor view() const;
  // The same pixels as the public API's borrowed view (what encode and pre-processing read), same lifetime.
  operator ImageView() const { return ImageView{pixels.data(), static_cast<int>(width), static_cast<int>(height)}; }
};

}  // namespace sam3
