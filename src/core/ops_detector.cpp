// sam3.cpp — shape checks and dispatch for the detector-head ops (core/ops_detector.h).
#include "core/ops_detector.h"

#include <string>

#include "core/error.h"

namespace sam3::ops {

namespace {

// Shape with leading 1-sized dims removed down to `rank` dims; throws if that is impossible.
Shape squeeze_leading(const Tensor& t, int rank, const char* op, const char* what) {
  Shape s = t.shape();
  while (static_cast<int>(s.size()) > rank && s.front() == 1) s.erase(s.begin());
  if (static_cast<int>(s.size()) != rank)
    throw Error(std::string(op) + ": " + what + " must have " + std::to_string(rank) +
                " dims (plus leading 1s), got " + shape_str(t.shape()));
  return s;
}

void check_f32(const Tensor& t, const char* op, const char* what) {
  if (t.dtype() != DType::F32) throw Error(std::string(op) + ": " + what + " must be F32, got " + dtype_name(t.dtype()));
}

}  // namespace

void group_norm(const Tensor& x, int groups, const Tensor& gamma, const Tensor& beta, float eps, bool relu, Tensor& y,
                int n_threads) {
  const char* op = "group_norm";
  check_f32(x, op, "x");
  Shape s = squeeze_leading(x, 3, op, "x");
  const int64_t c = s[0];
  if (groups <= 0 || c % groups != 0)
    throw Error(std::string(op) + ": " + std::to_string(c) + " channels not divisible into " + std::to_string(groups) +
                " groups");
  check_tensor(gamma, {c}, DType::F32, "group_norm weight");
  check_tensor(beta, {c}, DType::F32, "group_norm bias");
  check_f32(y, op, "y");
  if (y.numel() != x.numel()) throw Error(std::string(op) + ": y " + shape_str(y.shape()) + " != x " + shape_str(x.shape()));
  kernels::cpu::group_norm(x.f32(), c, s[1] * s[2], groups, gamma.f32(), beta.f32(), eps, relu, y.f32(), n_threads);
}

void upsample_nearest(const Tensor& x, const Tensor* addend, Tensor& y, int n_threads) {
  const char* op = "upsample_nearest";
  check_f32(x, op, "x");
  check_f32(y, op, "y");
  Shape sx = squeeze_leading(x, 3, op, "x");
  Shape sy = squeeze_leading(y, 3, op, "y");
  if (sx[0] != sy[0]) throw Error(std::string(op) + ": channel counts differ: x " + shape_str(x.shape()) + ", y " + shape_str(y.shape()));
  if (sx[1] <= 0 || sx[2] <= 0) throw Error(std::string(op) + ": empty input " + shape_str(x.shape()));
  const float* add = nullptr;
  if (addend) {
    check_f32(*addend, op, "addend");
    if (squeeze_leading(*addend, 3, op, "addend") != sy)
      throw Error(std::string(op) + ": addend " + shape_str(addend->shape()) + " != y " + shape_str(y.shape()));
    add = addend->f32();
  }
  kernels::cpu::upsample_nearest(x.f32(), sx[0], sx[1], sx[2], add, sy[1], sy[2], y.f32(), n_threads);
}

void matmul(const Tensor& a, const Tensor& b, Tensor& y, int n_threads) {
  const char* op = "matmul";
  check_f32(a, op, "a");
  check_f32(b, op, "b");
  check_f32(y, op, "y");
  Shape sa = squeeze_leading(a, 2, op, "a");
  Shape sb = squeeze_leading(b, 2, op, "b");
  Shape sy = squeeze_leading(y, 2, op, "y");
  if (sa[1] != sb[0] || sy[0] != sa[0] || sy[1] != sb[1])
    throw Error(std::string(op) + ": shapes do not chain: a " + shape_str(a.shape()) + " · b " + shape_str(b.shape()) +
                " -> y " + shape_str(y.shape()));
  kernels::cpu::matmul(a.f32(), b.f32(), y.f32(), sa[0], sb[1], sa[1], n_threads);
}

}  // namespace sam3::ops
