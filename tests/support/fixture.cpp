#include "fixture.h"

#include <cmath>
#include <cstdio>
#include <sstream>
#include <vector>

#include "core/error.h"

namespace sam3::test {

std::string golden_path(const std::string& rel) { return std::string(SAM3_GOLDEN_DIR) + "/" + rel; }

TensorFile open_fixture(const std::string& rel) { return read_safetensors(golden_path(rel)); }

namespace {

std::vector<double> as_doubles(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < v.size(); ++i) {
    switch (t.dtype()) {
      case DType::F32: v[i] = t.data<float>()[i]; break;
      case DType::F64: v[i] = t.data<double>()[i]; break;
      case DType::I64: v[i] = static_cast<double>(t.data<int64_t>()[i]); break;
      case DType::I32: v[i] = t.data<int32_t>()[i]; break;
      case DType::U8:
      case DType::Bool: v[i] = t.data<uint8_t>()[i]; break;
      default: throw Error(std::string("compare: unsupported dtype ") + dtype_name(t.dtype()));
    }
  }
  return v;
}

std::string multi_index(const Shape& shape, int64_t flat) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = shape[d] ? flat % shape[d] : 0;
    flat = shape[d] ? flat / shape[d] : 0;
  }
  std::string s = "[";
  for (size_t d = 0; d < idx.size(); ++d) s += (d ? ", " : "") + std::to_string(idx[d]);
  return s + "]";
}

}  // namespace

CompareStats compare(const Tensor& actual, const Tensor& expected, double atol, double rtol) {
  if (actual.numel() != expected.numel())
    throw Error("compare: numel differs: " + shape_str(actual.shape()) + " vs " + shape_str(expected.shape()));
  std::vector<double> a = as_doubles(actual), b = as_doubles(expected);
  CompareStats s;
  double dot = 0, na = 0, nb = 0;
  for (double x : b) s.ref_scale = std::max(s.ref_scale, std::fabs(x));
  for (size_t i = 0; i < a.size(); ++i) {
    double d = std::fabs(a[i] - b[i]);
    if (std::isnan(a[i]) != std::isnan(b[i])) d = INFINITY;
    s.max_abs = std::max(s.max_abs, d);
    if (std::fabs(b[i]) > s.ref_scale * 1e-3) s.max_rel = std::max(s.max_rel, d / (std::fabs(b[i]) + 1e-12));
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
    if (!(d <= atol + rtol * std::fabs(b[i]))) {
      if (s.first_bad < 0) {
        s.first_bad = static_cast<int64_t>(i);
        std::ostringstream os;
        os.precision(9);
        os << multi_index(expected.shape(), s.first_bad) << ": actual " << a[i] << " expected " << b[i];
        s.where = os.str();
      }
      ++s.n_bad;
    }
  }
  s.cosine = (na > 0 && nb > 0) ? dot / std::sqrt(na * nb) : (na == nb ? 1.0 : 0.0);
  return s;
}

::testing::AssertionResult tensors_close(const Tensor& actual, const Tensor& expected, double atol, double rtol) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shape " << shape_str(actual.shape()) << " vs expected "
                                         << shape_str(expected.shape());
  CompareStats s = compare(actual, expected, atol, rtol);
  std::ostringstream os;
  os.precision(4);
  os << "max_abs=" << s.max_abs << " max_rel=" << s.max_rel << " scale=" << s.ref_scale << " cos=" << s.cosine
     << " (atol=" << atol << " rtol=" << rtol << ")";
  if (s.n_bad == 0) return ::testing::AssertionSuccess() << os.str();
  return ::testing::AssertionFailure() << s.n_bad << " of " << actual.numel() << " elements out of tolerance, "
                                       << os.str() << "; first at " << s.where;
}

}  // namespace sam3::test
