// sam3.cpp — admission control for image decoding on the HTTP threads: each decode first reserves the memory it
// may need (estimated from the image header, before any pixel is decoded) from one budget shared by all HTTP
// threads (--max-decode-memory); when the budget is taken the upload is refused with 503 (Retry-After) instead of
// decoding. So 16 threads decoding 50 MP interlaced 16-bit PNGs at once cannot take 16 x 550 MB.
#pragma once
#include <cstdint>
#include <mutex>

namespace sam3::server {

class DecodeBudget {
 public:
  explicit DecodeBudget(int64_t bytes) : capacity_(bytes) {}

  // Worst-case bytes to decode a width x height image: libpng's full-image buffer for an interlaced 16-bit RGBA
  // PNG (8 bytes a pixel) plus our RGB copy (3), plus a row of slack.
  static int64_t estimate(int64_t width, int64_t height) { return width * height * 11 + width * 8; }

  // Reserves `bytes`; false (nothing reserved) when they do not fit in what is left.
  bool try_acquire(int64_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    if (bytes > capacity_ - used_) return false;
    used_ += bytes;
    return true;
  }
  void release(int64_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    used_ -= bytes;
  }
  int64_t capacity() const { return capacity_; }
  int64_t used() const {
    std::lock_guard<std::mutex> lock(mu_);
    return used_;
  }

 private:
  const int64_t capacity_;
  mutable std::mutex mu_;
  int64_t used_ = 0;
};

}  // namespace sam3::server
