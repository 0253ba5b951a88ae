#include "io/image.h"

#include <string>

#include "core/error.h"

namespace sam3 {

Image Image::allocate(int64_t height, int64_t width) {
  if (height < 0 || width < 0)
    throw Error("Image::allocate: negative size " + std::to_string(height) + "x" + std::to_string(width));
  Image img;
  img.height = height;
  img.width = width;
  img.pixels.assign(static_cast<size_t>(height * width * 3), 0);
  return img;
}

Tensor Image::view() const {
  return Tensor::borrow(const_cast<uint8_t*>(pixels.data()), {height, width, 3}, DType::U8);
}

}  // namespace sam3
