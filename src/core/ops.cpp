// sam3.cpp — the ops API: argument and shape checks, then the dispatch. This file is the one place that chooses a
// kernel: by ctx.backend (Cpu: src/kernels/cpu, Ref: src/kernels/ref) and, for ops with weights, by their dtype.
// Every check throws sam3::Error naming the op and the argument at fault.
#include "core/ops.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "kernels/cpu.h"
#include "kernels/packed_weight.h"
#include "kernels/quantize.h"
#include "kernels/ref.h"

namespace sam3::ops {

namespace {

[[noreturn]] void fail(const char* op, const std::string& msg) { throw Error(std::string("ops::") + op + ": " + msg); }

void require_f32(const Tensor& t, const char* op, const char* what) {
  if (t.dtype() != DType::F32) fail(op, std::string(what) + " must be F32, got " + dtype_name(t.dtype()));
  if (t.numel() > 0 && t.raw() == nullptr) fail(op, std::string(what) + " has no data");
}

// An optional tensor argument: null pointer or undefined tensor mean "absent".
const Tensor* optional(const Tensor* t) { return (t && t->raw() != nullptr) ? t : nullptr; }

bool overlaps(const void* a, size_t na, const void* b, size_t nb) {
  auto pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
  return na && nb && pa < pb + nb && pb < pa + na;
}

// [C,H,W] or [1,C,H,W] -> (C,H,W).
void chw(const Tensor& t, const char* op, const char* what, int64_t* c, int64_t* h, int64_t* w) {
  if (!(t.dim() == 3 || (t.dim() == 4 && t.size(0) == 1)))
    fail(op, std::string(what) + " must be [C,H,W] or [1,C,H,W], got " + shape_str(t.shape()));
  *c = t.size(-3);
  *h = t.size(-2);
  *w = t.size(-1);
}

void check_chw_out(const Tensor& y, const char* op, int64_t c, int64_t h, int64_t w) {
  require_f32(y, op, "y");
  int64_t yc, yh, yw;
  chw(y, op, "y", &yc, &yh, &yw);
  if (yc != c || yh != h || yw != w)
    fail(op, "y must be [" + std::to_string(c) + ", " + std::to_string(h) + ", " + std::to_string(w) + "], got " +
                 shape_str(y.shape()));
}

// Shape with leading 1-sized dims removed down to `rank` dims; throws if that is impossible.
Shape squeeze_leading(const Tensor& t, int rank, const char* op, const char* what) {
  Shape s = t.shape();
  while (static_cast<int>(s.size()) > rank && s.front() == 1) s.erase(s.begin());
  if (static_cast<int>(s.size()) != rank)
    fail(op, std::string(what) + " must have " + std::to_string(rank) + " dims (plus leading 1s), got " +
                 shape_str(t.shape()));
  return s;
}

// The dispatch: the reference kernel, or the optimised one on ctx's threads (it takes the same arguments plus the
// thread count). A back end or a weight dtype with kernels of its own is one more case here.
template <class T>
struct NonDeduced {  // std::type_identity (C++20): P... is deduced from the reference kernel alone
  using type = T;
};
template <class... P, class... A>
void run(const RunContext& ctx, void (*ref_kernel)(P...), typename NonDeduced<void (*)(P..., int)>::type cpu_kernel,
         A&&... args) {
  if (ctx.backend == Backend::Ref)
    ref_kernel(std::forward<A>(args)...);
  else
    cpu_kernel(std::forward<A>(args)..., ctx.n_threads);
}

// The checks both linear() overloads share, once x's last dim K and the weight's N are known: b (may be null) is
// [N], y is [..., N] with x's row count, y does not overlap x. Returns the row count M.
int64_t check_linear_io(const Tensor& x, int64_t K, int64_t N, const Tensor* b, const Tensor& y) {
  const int64_t M = K ? x.numel() / K : 0;
  if (b) {
    require_f32(*b, "linear", "b");
    if (b->shape() != Shape{N}) fail("linear", "b must be [" + std::to_string(N) + "], got " + shape_str(b->shape()));
  }
  if (y.dim() < 1 || y.size(-1) != N || y.numel() != M * N)
    fail("linear",
         "y must be [..., " + std::to_string(N) + "] with " + std::to_string(M) + " rows, got " + shape_str(y.shape()));
  if (overlaps(x.raw(), x.nbytes(), y.raw(), y.nbytes())) fail("linear", "y must not overlap x");
  return M;
}

}  // namespace

void linear(const Tensor& x, const Tensor& w, const Tensor* b, Tensor& y, const RunContext& ctx) {
  require_f32(x, "linear", "x");
  require_f32(w, "linear", "w");
  require_f32(y, "linear", "y");
  if (x.dim() < 1) fail("linear", "x must have at least one dimension");
  if (w.dim() != 2) fail("linear", "w must be [N,K], got " + shape_str(w.shape()));
  const int64_t K = x.size(-1), N = w.size(0);
  if (w.size(1) != K) fail("linear", "w " + shape_str(w.shape()) + " does not match x " + shape_str(x.shape()));
  b = optional(b);
  const int64_t M = check_linear_io(x, K, N, b, y);
  if (M == 0 || N == 0) return;
  run(ctx, kernels::ref::linear, kernels::cpu::linear, x.f32(), w.f32(), b ? b->f32() : nullptr, y.f32(), M, N, K);
}

void linear_add(const Tensor& x, const Tensor& w, const Tensor& addend, Tensor& y, const RunContext& ctx) {
  const char* op = "linear_add";
  require_f32(x, op, "x");
  require_f32(w, op, "w");
  require_f32(addend, op, "addend");
  require_f32(y, op, "y");
  if (x.dim() < 1) fail(op, "x must have at least one dimension");
  if (w.dim() != 2) fail(op, "w must be [N,K], got " + shape_str(w.shape()));
  const int64_t K = x.size(-1), N = w.size(0);
  if (w.size(1) != K) fail(op, "w " + shape_str(w.shape()) + " does not match x " + shape_str(x.shape()));
  const int64_t M = check_linear_io(x, K, N, nullptr, y);
  if (addend.dim() < 1 || addend.numel() != M * N || addend.size(-1) != N)
    fail(op, "addend " + shape_str(addend.shape()) + " must hold y's " + shape_str(y.shape()) + " elements");
  if (addend.raw() != y.raw() && overlaps(addend.raw(), addend.nbytes(), y.raw(), y.nbytes()))
    fail(op, "addend must be y itself or not overlap it");
  if (overlaps(addend.raw(), addend.nbytes(), x.raw(), x.nbytes())) fail(op, "addend must not overlap x");
  if (M == 0 || N == 0) return;
  run(ctx, kernels::ref::linear_add, kernels::cpu::linear_add, x.f32(), w.f32(), addend.f32(), y.f32(), M, N, K);
}

std::shared_ptr<const PackedWeight> pack_weight(const Tensor& w, Precision precision) {
  return pack_weight(w, nullptr, precision);
}

namespace {

// An I8 weight's per-output-channel scale: F32 [N], every entry finite and positive.
void check_s8_scale(const Tensor* scale, int64_t N) {
  if (!scale || !scale->defined() || scale->raw() == nullptr) fail("pack_weight", "an I8 weight needs its scale");
  if (scale->dtype() != DType::F32 || scale->shape() != Shape{N})
    fail("pack_weight", "the scale of an I8 [" + std::to_string(N) + ", K] weight must be F32 [" + std::to_string(N) +
                            "], got " + shape_str(scale->shape()) + " " + dtype_name(scale->dtype()));
  const float* s = scale->f32();
  for (int64_t n = 0; n < N; ++n)
    if (!(std::isfinite(s[n]) && s[n] > 0))
      fail("pack_weight", "scale[" + std::to_string(n) + "] is " + std::to_string(s[n]) +
                              ": scales must be finite and positive");
}

// A plain weight kept in place: borrowed from w's storage, kept alive with it.
template <class T>
void borrow_plain(PlainWeight<T>& plain, const Tensor& w) {
  plain.borrowed = w.data<T>();
  plain.keep = w.keepalive();
}

}  // namespace

std::shared_ptr<const PackedWeight> pack_weight(const Tensor& w, const Tensor* scale, Precision precision) {
  if (w.dim() != 2 || w.numel() == 0) fail("pack_weight", "w must be a non-empty [N,K], got " + shape_str(w.shape()));
  if (w.raw() == nullptr) fail("pack_weight", "w has no data");
  if (precision == Precision::F32) fail("pack_weight", "f32 weights are used as they are, not packed");
  const DType dt = w.dtype();
  if (dt != DType::F32 && dt != DType::F16 && dt != DType::BF16 && dt != DType::I8)
    fail("pack_weight", std::string("w must be F32, F16, BF16 or I8, got ") + dtype_name(dt));
  if ((dt == DType::BF16 && precision != Precision::BF16) || (dt == DType::I8 && precision != Precision::Int8))
    fail("pack_weight", std::string("a ") + dtype_name(dt) + " weight cannot be packed to " + precision_name(precision) +
                            " (it would be rounded twice)");
  if (dt != DType::I8 && scale && scale->defined() && scale->raw() != nullptr)
    fail("pack_weight", std::string("only I8 weights have a scale, w is ") + dtype_name(dt));
  using Kind = kernels::cpu::OnednnMatmul::Kind;
  auto p = std::make_shared<PackedWeight>();
  p->precision = precision;
  p->n = w.size(0);
  p->k = w.size(1);
  const size_t numel = static_cast<size_t>(w.numel());
  // An F16 weight is converted as the f32 values it holds exactly.
  const float* w32 = dt == DType::F32 ? w.data<float>() : nullptr;
  const uint16_t* w16 = dt == DType::F16 ? w.data<uint16_t>() : nullptr;
  const float* f16 = w16 ? kernels::f16_value_table() : nullptr;  // f16 bits -> their exact f32 value
  // oneDNN's packed copy where the library uses oneDNN for the precision here (onednn_supports), else the fallback.
  const bool onednn = kernels::cpu::onednn_supports(precision == Precision::BF16 ? Kind::BF16 : Kind::Int8);
  auto pack = [&](Kind kind, const void* plain) {
    return onednn ? kernels::cpu::OnednnMatmul::create(kind, plain, p->n, p->k) : nullptr;
  };
  if (precision == Precision::BF16) {
    if (dt == DType::BF16) {
      p->onednn = pack(Kind::BF16, w.raw());
      if (!p->onednn) borrow_plain(p->bf16_plain, w);
      return p;
    }
    LoadVector<uint16_t> bits(numel);
    if (w32)
      for (size_t i = 0; i < numel; ++i) bits[i] = kernels::bf16_bits(w32[i]);
    else
      for (size_t i = 0; i < numel; ++i) bits[i] = kernels::bf16_bits(f16[w16[i]]);
    p->onednn = pack(Kind::BF16, bits.data());
    if (!p->onednn) p->bf16_plain.owned = std::move(bits);
    return p;
  }
  p->scale.resize(static_cast<size_t>(p->n));
  p->colsum.resize(static_cast<size_t>(p->n));
  p->act_levels = kernels::cpu::onednn_int8_saturates() ? 127 : 255;
  if (dt == DType::I8) {
    check_s8_scale(scale, p->n);
    std::copy(scale->f32(), scale->f32() + p->n, p->scale.begin());
    if (!kernels::s8_row_sums(w.data<int8_t>(), p->n, p->k, p->colsum.data()))
      fail("pack_weight", "an I8 weight holds -128: quantized weights lie in [-127, 127]");
    p->onednn = pack(Kind::Int8, w.raw());
    if (!p->onednn) borrow_plain(p->s8_plain, w);
    return p;
  }
  LoadVector<float> expanded;
  const float* wf = w32;
  if (!wf) {
    expanded.resize(numel);
    for (size_t i = 0; i < numel; ++i) expanded[i] = f16[w16[i]];
    wf = expanded.data();
  }
  LoadVector<int8_t> q(numel);
  kernels::quantize_weights_s8(wf, p->n, p->k, q.data(), p->scale.data(), p->colsum.data());
  p->onednn = pack(Kind::Int8, q.data());
  if (!p->onednn) p->s8_plain.owned = std::move(q);
  return p;
}

bool packed_weight_borrows(const PackedWeight& p) { return p.bf16_plain.borrowed || p.s8_plain.borrowed; }

Tensor to_bf16(const Tensor& x) {
  require_f32(x, "to_bf16", "x");
  Tensor y = Tensor::empty(x.shape(), DType::BF16);
  const float* src = x.f32();
  auto* dst = y.data<uint16_t>();
  for (int64_t i = 0; i < x.numel(); ++i) dst[i] = kernels::bf16_bits(src[i]);
  return y;
}

Tensor quantize_s8(const Tensor& w, Tensor* scale) {
  require_f32(w, "quantize_s8", "w");
  if (w.dim() != 2) fail("quantize_s8", "w must be [N,K], got " + shape_str(w.shape()));
  if (!scale) fail("quantize_s8", "scale must not be null");
  const int64_t N = w.size(0), K = w.size(1);
  Tensor q = Tensor::empty(w.shape(), DType::I8);
  *scale = Tensor::empty({N});
  std::vector<int32_t> colsum(static_cast<size_t>(N));
  kernels::quantize_weights_s8(w.f32(), N, K, q.data<int8_t>(), scale->f32(), colsum.data());
  return q;
}

Tensor to_f16(const Tensor& x, const std::string& what) {
  require_f32(x, "to_f16", "x");
  Tensor y = Tensor::empty(x.shape(), DType::F16);
  const float* src = x.f32();
  auto* dst = y.data<uint16_t>();
  for (int64_t i = 0; i < x.numel(); ++i) {
    dst[i] = kernels::f16_bits(src[i]);
    if ((dst[i] & 0x7fffu) == 0x7c00u && std::isfinite(src[i]))
      throw Error(what + ": value " + std::to_string(src[i]) + " (element " + std::to_string(i) +
                  ") is beyond the range of f16 (|x| < 65520)");
  }
  return y;
}

Tensor f16_to_f32(const Tensor& x) {
  if (x.dtype() != DType::F16) fail("f16_to_f32", std::string("x must be F16, got ") + dtype_name(x.dtype()));
  Tensor y = Tensor::empty(x.shape());
  const auto* src = x.data<uint16_t>();
  const float* table = kernels::f16_value_table();
  float* dst = y.f32();
  for (int64_t i = 0; i < x.numel(); ++i) dst[i] = table[src[i]];
  return y;
}

size_t linear_scratch_bytes(const PackedWeight& w, int64_t rows) {
  return kernels::cpu::linear_packed_scratch_bytes(w, rows);
}

void linear(const Tensor& x, const PackedWeight& w, const Tensor* b, Tensor& y, const RunContext& ctx) {
  require_f32(x, "linear", "x");
  require_f32(y, "linear", "y");
  const int64_t K = w.k, N = w.n;
  if (x.dim() < 1 || x.size(-1) != K)
    fail("linear", "x " + shape_str(x.shape()) + " does not end in the weight's " + std::to_string(K));
  b = optional(b);
  const int64_t M = check_linear_io(x, K, N, b, y);
  if (M == 0) return;
  const float* bias = b ? b->f32() : nullptr;
  if (ctx.backend == Backend::Ref) {
    if (w.precision == Precision::BF16)
      kernels::ref::linear_bf16(x.f32(), w.bf16().data(), bias, y.f32(), M, N, K);
    else
      kernels::ref::linear_int8(x.f32(), w.s8().data(), w.scale.data(), w.colsum.data(), w.act_levels, bias,
                                y.f32(), M, N, K);
    return;
  }
  ArenaScope scope(ctx.arena);
  Tensor scratch = ctx.scratch({static_cast<int64_t>(linear_scratch_bytes(w, M))}, DType::U8);
  kernels::cpu::linear_packed(x.f32(), w, bias, y.f32(), M, scratch.raw(), ctx.n_threads);
}

bool has_fast_kernel(Precision precision) {
  using Kind = kernels::cpu::OnednnMatmul::Kind;
  if (precision == Precision::F32) return true;
  return kernels::cpu::onednn_supports(precision == Precision::BF16 ? Kind::BF16 : Kind::Int8);
}

bool attention_in_bf16(Precision precision) {
  return precision == Precision::BF16 || (precision == Precision::Int8 && has_fast_kernel(Precision::BF16));
}

std::string matmul_isa() { return kernels::cpu::onednn_isa_name(); }

void layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, Tensor& y, const RunContext& ctx) {
  require_f32(x, "layer_norm", "x");
  require_f32(gamma, "layer_norm", "gamma");
  require_f32(beta, "layer_norm", "beta");
  require_f32(y, "layer_norm", "y");
  if (x.dim() < 1) fail("layer_norm", "x must have at least one dimension");
  const int64_t C = x.size(-1);
  if (gamma.shape() != Shape{C})
    fail("layer_norm", "gamma must be [" + std::to_string(C) + "], got " + shape_str(gamma.shape()));
  if (beta.shape() != Shape{C})
    fail("layer_norm", "beta must be [" + std::to_string(C) + "], got " + shape_str(beta.shape()));
  if (y.shape() != x.shape())
    fail("layer_norm", "y " + shape_str(y.shape()) + " must have x's shape " + shape_str(x.shape()));
  if (!(eps >= 0)) fail("layer_norm", "eps must be >= 0");
  if (x.numel() == 0) return;
  run(ctx, kernels::ref::layer_norm, kernels::cpu::layer_norm, x.f32(), gamma.f32(), beta.f32(), eps, y.f32(),
      x.numel() / C, C);
}

void bias_layer_norm(const Tensor& x, const Tensor& bias, const Tensor& gamma, const Tensor& beta, float eps, Tensor& y,
                     const RunContext& ctx) {
  const char* op = "bias_layer_norm";
  require_f32(x, op, "x");
  require_f32(bias, op, "bias");
  require_f32(gamma, op, "gamma");
  require_f32(beta, op, "beta");
  require_f32(y, op, "y");
  if (x.dim() < 1) fail(op, "x must have at least one dimension");
  const int64_t C = x.size(-1);
  for (const auto& [t, name] : {std::pair<const Tensor*, const char*>{&bias, "bias"}, {&gamma, "gamma"}, {&beta, "beta"}})
    if (t->shape() != Shape{C}) fail(op, std::string(name) + " must be [" + std::to_string(C) + "], got " + shape_str(t->shape()));
  if (y.shape() != x.shape()) fail(op, "y " + shape_str(y.shape()) + " must have x's shape " + shape_str(x.shape()));
  if (y.raw() != x.raw() && overlaps(x.raw(), x.nbytes(), y.raw(), y.nbytes())) fail(op, "y must be x or not overlap it");
  if (!(eps >= 0)) fail(op, "eps must be >= 0");
  if (x.numel() == 0) return;
  run(ctx, kernels::ref::bias_layer_norm, kernels::cpu::bias_layer_norm, x.f32(), bias.f32(), gamma.f32(), beta.f32(),
      eps, y.f32(), x.numel() / C, C);
}

void gelu_inplace(Tensor& x, const RunContext& ctx) {
  require_f32(x, "gelu_inplace", "x");
  run(ctx, kernels::ref::gelu, kernels::cpu::gelu, x.f32(), x.numel());
}

void relu_inplace(Tensor& x, const RunContext& ctx) {
  require_f32(x, "relu_inplace", "x");
  run(ctx, kernels::ref::relu, kernels::cpu::relu, x.f32(), x.numel());
}

void add(const Tensor& a, const Tensor& b, Tensor& y, const RunContext& ctx) {
  require_f32(a, "add", "a");
  require_f32(b, "add", "b");
  require_f32(y, "add", "y");
  if (a.shape() != b.shape() || a.shape() != y.shape())
    fail("add",
         "shapes differ: a " + shape_str(a.shape()) + ", b " + shape_str(b.shape()) + ", y " + shape_str(y.shape()));
  run(ctx, kernels::ref::add, kernels::cpu::add, a.f32(), b.f32(), y.f32(), a.numel());
}

void few_query_attention(const FewQueryAttentionArgs& a, const RunContext& ctx) {
  const char* op = "few_query_attention";
  if (!a.q || !a.x || !a.k_add || !a.wk || !a.wv || !a.bv || !a.out) fail(op, "every pointer must be set");
  if (a.lq < 0 || a.lk < 1 || a.c < 1 || a.internal < 1 || a.n_heads < 1 || a.internal % a.n_heads != 0)
    fail(op, "bad sizes: lq " + std::to_string(a.lq) + ", lk " + std::to_string(a.lk) + ", c " + std::to_string(a.c) +
                 ", internal " + std::to_string(a.internal) + ", heads " + std::to_string(a.n_heads));
  if (a.x_row < a.c || a.k_add_row < a.internal) fail(op, "row strides must cover a row");
  if (overlaps(a.out, static_cast<size_t>(a.lq * a.internal) * sizeof(float), a.q,
               static_cast<size_t>(a.lq * a.internal) * sizeof(float)))
    fail(op, "out must not overlap q");
  if (a.lq == 0) return;
  run(ctx, kernels::ref::few_query_attention, kernels::cpu::few_query_attention, a);
}

void attention(const AttentionArgs& a, const RunContext& ctx) {
  const char* op = "attention";
  if (a.n_heads < 1 || a.head_dim < 1 || a.lq < 0 || a.lk < 0)
    fail(op, "bad sizes: n_heads " + std::to_string(a.n_heads) + ", head_dim " + std::to_string(a.head_dim) + ", lq " +
                 std::to_string(a.lq) + ", lk " + std::to_string(a.lk));
  if (!a.q || !a.k || !a.v || !a.out) fail(op, "q, k, v and out must be set");
  if (a.bias && a.bias_head < 0) fail(op, "bias_head must be >= 0");
  // Extent (in floats) each strided operand spans; strides must be non-negative.
  auto span = [&](const char* what, int64_t rows, int64_t row, int64_t head) -> size_t {
    if (row < 0 || head < 0) fail(op, std::string(what) + " strides must be >= 0");
    if (rows == 0) return 0;
    return static_cast<size_t>((rows - 1) * row + (a.n_heads - 1) * head + a.head_dim) * sizeof(float);
  };
  size_t sq = span("q", a.lq, a.q_row, a.q_head), sk = span("k", a.lk, a.k_row, a.k_head);
  size_t sv = span("v", a.lk, a.v_row, a.v_head), so = span("out", a.lq, a.o_row, a.o_head);
  if ((a.lq > 1 && a.o_row < a.head_dim) || (a.n_heads > 1 && a.o_head < a.head_dim))
    fail(op, "out strides make output rows overlap");
  if (overlaps(a.out, so, a.q, sq) || overlaps(a.out, so, a.k, sk) || overlaps(a.out, so, a.v, sv))
    fail(op, "out must not overlap q, k or v");
  if (!(a.scale == a.scale)) fail(op, "scale is NaN");
  if (a.causal && a.lq != a.lk) fail(op, "causal attention needs lq == lk");
  if (a.lq == 0) return;
  run(ctx, kernels::ref::attention, kernels::cpu::attention, a);
}

void conv2d(const Tensor& x, const Tensor& w, const Tensor* b, int stride, int pad, Tensor& y, const RunContext& ctx) {
  const char* op = "conv2d";
  require_f32(x, op, "x");
  require_f32(w, op, "w");
  int64_t cin, h, wi;
  chw(x, op, "x", &cin, &h, &wi);
  if (w.dim() != 4 || w.size(1) != cin)
    fail(op, "w must be [Cout, " + std::to_string(cin) + ", kh, kw], got " + shape_str(w.shape()));
  const int64_t cout = w.size(0), kh = w.size(2), kw = w.size(3);
  if (stride < 1 || pad < 0) fail(op, "stride must be >= 1 and pad >= 0");
  if (h + 2 * pad < kh || wi + 2 * pad < kw)
    fail(op, "kernel " + shape_str(w.shape()) + " larger than padded input " + shape_str(x.shape()));
  const int64_t ho = (h + 2 * pad - kh) / stride + 1, wo = (wi + 2 * pad - kw) / stride + 1;
  b = optional(b);
  if (b) {
    require_f32(*b, op, "b");
    if (b->shape() != Shape{cout}) fail(op, "b must be [" + std::to_string(cout) + "], got " + shape_str(b->shape()));
  }
  check_chw_out(y, op, cout, ho, wo);
  if (overlaps(x.raw(), x.nbytes(), y.raw(), y.nbytes())) fail(op, "y must not overlap x");
  run(ctx, kernels::ref::conv2d, kernels::cpu::conv2d, x.f32(), cin, h, wi, w.f32(), cout, kh, kw,
      b ? b->f32() : nullptr, stride, pad, y.f32());
}

Tensor conv3x3_up2_weights(const Tensor& w) {
  const char* op = "conv3x3_up2_weights";
  require_f32(w, op, "w");
  if (w.dim() != 4 || w.size(2) != 3 || w.size(3) != 3)
    fail(op, "w must be [Cout, Cin, 3, 3], got " + shape_str(w.shape()));
  const int64_t cout = w.size(0), cin = w.size(1);
  Tensor wp = Tensor::empty({2, 2, 2, 2, cout, cin});
  // On the replicated map, output row 2i+a reads rows 2i+a-1, 2i+a, 2i+a+1, i.e. source rows i-1, i, i (a = 0) or
  // i, i, i+1 (a = 1): tap row r = 0 gathers kernel rows {0} (a = 0) or {0, 1} (a = 1), tap row 1 the rest.
  const int first[2][2] = {{0, 1}, {0, 2}}, last[2][2] = {{0, 2}, {1, 2}};  // [parity][tap]: kernel index range
  const float* src = w.f32();
  float* dst = wp.f32();
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b)
      for (int r = 0; r < 2; ++r)
        for (int c = 0; c < 2; ++c) {
          float* d = dst + (((a * 2 + b) * 2 + r) * 2 + c) * cout * cin;
          for (int64_t co = 0; co < cout; ++co)
            for (int64_t ci = 0; ci < cin; ++ci) {
              const float* k = src + (co * cin + ci) * 9;
              float s = 0.0f;
              for (int ky = first[a][r]; ky <= last[a][r]; ++ky)
                for (int kx = first[b][c]; kx <= last[b][c]; ++kx) s += k[ky * 3 + kx];
              d[co * cin + ci] = s;
            }
        }
  return wp;
}

void conv3x3_up2_accumulate(const Tensor& x, const Tensor& wp, Tensor& y, const RunContext& ctx) {
  const char* op = "conv3x3_up2_accumulate";
  require_f32(x, op, "x");
  require_f32(wp, op, "wp");
  int64_t cin, h, w;
  chw(x, op, "x", &cin, &h, &w);
  if (wp.dim() != 6 || wp.size(0) != 2 || wp.size(1) != 2 || wp.size(2) != 2 || wp.size(3) != 2 || wp.size(5) != cin)
    fail(op, "wp must be [2, 2, 2, 2, Cout, " + std::to_string(cin) + "], got " + shape_str(wp.shape()));
  const int64_t cout = wp.size(4);
  check_chw_out(y, op, cout, 2 * h, 2 * w);
  if (overlaps(x.raw(), x.nbytes(), y.raw(), y.nbytes())) fail(op, "y must not overlap x");
  if (cin == 0 || h == 0 || w == 0) return;
  run(ctx, kernels::ref::conv3x3_up2_accumulate, kernels::cpu::conv3x3_up2_accumulate, x.f32(), cin, h, w, wp.f32(),
      cout, y.f32());
}

void conv_transpose2d_k2s2(const Tensor& x, const Tensor& w, const Tensor* b, Tensor& y, const RunContext& ctx) {
  const char* op = "conv_transpose2d_k2s2";
  require_f32(x, op, "x");
  require_f32(w, op, "w");
  int64_t cin, h, wi;
  chw(x, op, "x", &cin, &h, &wi);
  if (w.dim() != 4 || w.size(0) != cin || w.size(2) != 2 || w.size(3) != 2)
    fail(op, "w must be [" + std::to_string(cin) + ", Cout, 2, 2], got " + shape_str(w.shape()));
  const int64_t cout = w.size(1);
  b = optional(b);
  if (b) {
    require_f32(*b, op, "b");
    if (b->shape() != Shape{cout}) fail(op, "b must be [" + std::to_string(cout) + "], got " + shape_str(b->shape()));
  }
  check_chw_out(y, op, cout, 2 * h, 2 * wi);
  if (overlaps(x.raw(), x.nbytes(), y.raw(), y.nbytes())) fail(op, "y must not overlap x");
  run(ctx, kernels::ref::conv_transpose2d_k2s2, kernels::cpu::conv_transpose2d_k2s2, x.f32(), cin, h, wi, w.f32(), cout,
      b ? b->f32() : nullptr, y.f32());
}

void deconv_ln_gelu(const Tensor& x, int64_t h, int64_t w, const Tensor& wt, const Tensor& b, const Tensor& addend,
                    const Tensor& gamma, const Tensor& beta, float eps, Tensor& y, const RunContext& ctx) {
  const char* op = "deconv_ln_gelu";
  for (const auto& [t, name] : {std::pair<const Tensor*, const char*>{&x, "x"}, {&wt, "w"}, {&b, "b"}, {&addend, "addend"},
                                {&gamma, "gamma"}, {&beta, "beta"}, {&y, "y"}})
    require_f32(*t, op, name);
  if (h <= 0 || w <= 0 || x.dim() != 2 || x.size(0) != h * w)
    fail(op, "x must be the " + std::to_string(h) + "x" + std::to_string(w) + " tokens [H·W, Cin], got " +
                 shape_str(x.shape()));
  const int64_t cin = x.size(1);
  if (wt.dim() != 4 || wt.size(0) != cin || wt.size(2) != 2 || wt.size(3) != 2)
    fail(op, "w must be [" + std::to_string(cin) + ", Cout, 2, 2], got " + shape_str(wt.shape()));
  const int64_t cout = wt.size(1);
  for (const auto& [t, name] : {std::pair<const Tensor*, const char*>{&b, "b"}, {&gamma, "gamma"}, {&beta, "beta"}})
    if (t->shape() != Shape{cout}) fail(op, std::string(name) + " must be [" + std::to_string(cout) + "], got " + shape_str(t->shape()));
  if (addend.shape() != Shape{cout, 2 * h, 2 * w})
    fail(op, "addend must be " + shape_str({cout, 2 * h, 2 * w}) + ", got " + shape_str(addend.shape()));
  check_chw_out(y, op, cout, 2 * h, 2 * w);
  if (overlaps(x.raw(), x.nbytes(), y.raw(), y.nbytes()) || overlaps(addend.raw(), addend.nbytes(), y.raw(), y.nbytes()))
    fail(op, "y must not overlap x or addend");
  if (!(eps >= 0)) fail(op, "eps must be >= 0");
  run(ctx, kernels::ref::deconv_ln_gelu, kernels::cpu::deconv_ln_gelu, x.f32(), h, w, cin, wt.f32(), cout, b.f32(),
      addend.f32(), gamma.f32(), beta.f32(), eps, y.f32());
}

void deconv_gelu_project(const Tensor& x, const Tensor& wt, const Tensor& b, const Tensor& addend, const Tensor& proj,
                         Tensor& y, const RunContext& ctx) {
  const char* op = "deconv_gelu_project";
  for (const auto& [t, name] : {std::pair<const Tensor*, const char*>{&x, "x"}, {&wt, "w"}, {&b, "b"}, {&addend, "addend"},
                                {&proj, "proj"}, {&y, "y"}})
    require_f32(*t, op, name);
  int64_t cin, h, wi;
  chw(x, op, "x", &cin, &h, &wi);
  if (wt.dim() != 4 || wt.size(0) != cin || wt.size(2) != 2 || wt.size(3) != 2)
    fail(op, "w must be [" + std::to_string(cin) + ", Cout, 2, 2], got " + shape_str(wt.shape()));
  const int64_t cout = wt.size(1);
  if (b.shape() != Shape{cout}) fail(op, "b must be [" + std::to_string(cout) + "], got " + shape_str(b.shape()));
  if (addend.shape() != Shape{cout, 2 * h, 2 * wi})
    fail(op, "addend must be " + shape_str({cout, 2 * h, 2 * wi}) + ", got " + shape_str(addend.shape()));
  if (proj.dim() != 2 || proj.size(1) != cout)
    fail(op, "proj must be [M, " + std::to_string(cout) + "], got " + shape_str(proj.shape()));
  check_chw_out(y, op, proj.size(0), 2 * h, 2 * wi);
  for (const Tensor* t : {&x, &addend, &proj})
    if (overlaps(t->raw(), t->nbytes(), y.raw(), y.nbytes())) fail(op, "y must not overlap its inputs");
  run(ctx, kernels::ref::deconv_gelu_project, kernels::cpu::deconv_gelu_project, x.f32(), cin, h, wi, wt.f32(), cout,
      b.f32(), addend.f32(), proj.f32(), proj.size(0), y.f32());
}

void max_pool2d_k2s2(const Tensor& x, Tensor& y, const RunContext& ctx) {
  const char* op = "max_pool2d_k2s2";
  require_f32(x, op, "x");
  int64_t c, h, wi;
  chw(x, op, "x", &c, &h, &wi);
  check_chw_out(y, op, c, h / 2, wi / 2);
  if (overlaps(x.raw(), x.nbytes(), y.raw(), y.nbytes())) fail(op, "y must not overlap x");
  run(ctx, kernels::ref::max_pool2d_k2s2, kernels::cpu::max_pool2d_k2s2, x.f32(), c, h, wi, y.f32());
}

void matmul(const Tensor& a, const Tensor& b, Tensor& y, const RunContext& ctx) {
  const char* op = "matmul";
  require_f32(a, op, "a");
  require_f32(b, op, "b");
  require_f32(y, op, "y");
  const Shape sa = squeeze_leading(a, 2, op, "a"), sb = squeeze_leading(b, 2, op, "b");
  const Shape sy = squeeze_leading(y, 2, op, "y");
  if (sa[1] != sb[0] || sy[0] != sa[0] || sy[1] != sb[1])
    fail(op, "shapes do not chain: a " + shape_str(a.shape()) + " · b " + shape_str(b.shape()) + " -> y " +
                 shape_str(y.shape()));
  run(ctx, kernels::ref::matmul, kernels::cpu::matmul, a.f32(), b.f32(), y.f32(), sa[0], sb[1], sa[1]);
}

void group_norm(const Tensor& x, int groups, const Tensor& gamma, const Tensor& beta, float eps, bool relu, Tensor& y,
                const RunContext& ctx) {
  const char* op = "group_norm";
  require_f32(x, op, "x");
  const Shape s = squeeze_leading(x, 3, op, "x");
  const int64_t c = s[0];
  if (groups <= 0 || c % groups != 0)
    fail(op, std::to_string(c) + " channels not divisible into " + std::to_string(groups) + " groups");
  check_tensor(gamma, {c}, DType::F32, "group_norm weight");
  check_tensor(beta, {c}, DType::F32, "group_norm bias");
  require_f32(y, op, "y");
  if (y.numel() != x.numel()) fail(op, "y " + shape_str(y.shape()) + " != x " + shape_str(x.shape()));
  run(ctx, kernels::ref::group_norm, kernels::cpu::group_norm, x.f32(), c, s[1] * s[2], groups, gamma.f32(), beta.f32(),
      eps, relu, y.f32());
}

void rope(const RopeArgs& a, const RunContext& ctx) {
  const char* op = "rope";
  if (a.n_rows < 0 || a.n_heads < 0 || a.head_dim < 0) fail(op, "negative size");
  if (a.n_rows == 0 || a.n_heads == 0 || a.head_dim == 0) return;
  if (!a.x || !a.table) fail(op, "x and table are required");
  if (a.head_dim % 2) fail(op, "head_dim must be even, got " + std::to_string(a.head_dim));
  if (a.table_rows <= 0) fail(op, "table_rows must be positive");
  if (a.n_heads > 1 && a.head < a.head_dim) fail(op, "heads overlap (head stride < head_dim)");
  if (a.n_rows > 1 && a.row < (a.n_heads - 1) * a.head + a.head_dim) fail(op, "rows overlap (row stride too small)");
  if (a.pos) {
    for (int64_t i = 0; i < a.n_rows; ++i)
      if (a.pos[i] < 0 || a.pos[i] >= a.table_rows)
        fail(op, "pos[" + std::to_string(i) + "] = " + std::to_string(a.pos[i]) + " outside the table's " +
                     std::to_string(a.table_rows) + " rows");
  }
  run(ctx, kernels::ref::rope, kernels::cpu::rope, a);
}

void upsample_nearest(const Tensor& x, const Tensor* addend, Tensor& y, const RunContext& ctx) {
  const char* op = "upsample_nearest";
  require_f32(x, op, "x");
  require_f32(y, op, "y");
  const Shape sx = squeeze_leading(x, 3, op, "x"), sy = squeeze_leading(y, 3, op, "y");
  if (sx[0] != sy[0]) fail(op, "channel counts differ: x " + shape_str(x.shape()) + ", y " + shape_str(y.shape()));
  if (sx[1] <= 0 || sx[2] <= 0) fail(op, "empty input " + shape_str(x.shape()));
  const float* add = nullptr;
  if (addend) {
    require_f32(*addend, op, "addend");
    if (squeeze_leading(*addend, 3, op, "addend") != sy)
      fail(op, "addend " + shape_str(addend->shape()) + " != y " + shape_str(y.shape()));
    add = addend->f32();
  }
  run(ctx, kernels::ref::upsample_nearest, kernels::cpu::upsample_nearest, x.f32(), sx[0], sx[1], sx[2], add, sy[1],
      sy[2], y.f32());
}

void upsample_bilinear(const Tensor& x, Tensor& y, const RunContext& ctx) {
  const char* op = "upsample_bilinear";
  require_f32(x, op, "x");
  require_f32(y, op, "y");
  if ((x.dim() != 2 && x.dim() != 3) || x.size(-1) <= 0 || x.size(-2) <= 0)
    fail(op, "x must be a non-empty [n, h, w] or [h, w], got " + shape_str(x.shape()));
  const int64_t n = x.dim() == 3 ? x.size(0) : 1;
  if (y.dim() != x.dim() || (x.dim() == 3 && y.size(0) != n) || y.size(-2) <= 0 || y.size(-1) <= 0)
    fail(op, "y " + shape_str(y.shape()) + " does not fit x " + shape_str(x.shape()));
  run(ctx, kernels::ref::upsample_bilinear_f32, kernels::cpu::upsample_bilinear_f32, x.f32(), n, x.size(-2), x.size(-1),
      y.f32(), y.size(-2), y.size(-1));
}

void upsample_bilinear_threshold(const Tensor& x, float thr, Tensor& y, const RunContext& ctx) {
  const char* op = "upsample_bilinear_threshold";
  require_f32(x, op, "x");
  if (y.dtype() != DType::U8) fail(op, "y must be U8");
  if ((x.dim() != 2 && x.dim() != 3) || x.size(-1) <= 0 || x.size(-2) <= 0)
    fail(op, "x must be a non-empty [n, h, w] or [h, w], got " + shape_str(x.shape()));
  const int64_t n = x.dim() == 3 ? x.size(0) : 1;
  if (y.dim() != x.dim() || (x.dim() == 3 && y.size(0) != n) || y.size(-2) <= 0 || y.size(-1) <= 0)
    fail(op, "y " + shape_str(y.shape()) + " does not fit x " + shape_str(x.shape()));
  if (!std::isfinite(thr)) fail(op, "the threshold must be finite");
  run(ctx, kernels::ref::upsample_bilinear_threshold_u8, kernels::cpu::upsample_bilinear_threshold_u8, x.f32(), n,
      x.size(-2), x.size(-1), thr, y.data<uint8_t>(), y.size(-2), y.size(-1));
}

void resize_aa(const U8Planes& in, Tensor& y, const RunContext& ctx) {
  const char* op = "resize_aa";
  if (!in.data || in.channels <= 0 || in.height <= 0 || in.width <= 0) fail(op, "empty input image");
  if (y.dim() != 3 || y.size(0) != in.channels || y.size(1) <= 0 || y.size(2) <= 0)
    fail(op, "y must be [" + std::to_string(in.channels) + ", H, W], got " + shape_str(y.shape()));
  if (y.dtype() == DType::U8) {
    run(ctx, kernels::ref::resize_aa_u8, kernels::cpu::resize_aa_u8, in, y.size(1), y.size(2), y.data<uint8_t>());
  } else if (y.dtype() == DType::F32) {
    run(ctx, kernels::ref::resize_aa_f32, kernels::cpu::resize_aa_f32, in, y.size(1), y.size(2), y.f32());
  } else {
    fail(op, std::string("y must be U8 or F32, got ") + dtype_name(y.dtype()));
  }
}

void roi_align(const Tensor& x, const Tensor& boxes, float spatial_scale, int sampling_ratio, bool aligned, Tensor& y,
               const RunContext& ctx) {
  const char* op = "roi_align";
  require_f32(x, op, "x");
  require_f32(boxes, op, "boxes");
  require_f32(y, op, "y");
  int64_t c, h, w;
  chw(x, op, "x", &c, &h, &w);
  if (boxes.dim() != 2 || boxes.size(1) != 4) fail(op, "boxes must be [N,4], got " + shape_str(boxes.shape()));
  const int64_t n = boxes.size(0);
  if (y.dim() != 4 || y.size(0) != n || y.size(1) != c || y.size(2) <= 0 || y.size(3) <= 0)
    fail(op, "y must be [N=" + std::to_string(n) + ", C=" + std::to_string(c) + ", out_h, out_w], got " +
                 shape_str(y.shape()));
  if (n == 0 || c == 0) return;
  if (h <= 0 || w <= 0) fail(op, "empty feature map " + shape_str(x.shape()));
  // {x, c, h, w, boxes, n, spatial_scale, sampling_ratio, aligned, out_h, out_w, y}
  const kernels::RoiAlignArgs a{x.f32(), c, h, w, boxes.f32(), n, spatial_scale, sampling_ratio, aligned,
                                y.size(2), y.size(3), y.f32()};
  run(ctx, kernels::ref::roi_align, kernels::cpu::roi_align, a);
}

void component_areas(const Tensor& mask, Tensor& areas, const RunContext& ctx) {
  const char* op = "component_areas";
  if (mask.dtype() != DType::U8) fail(op, std::string("mask must be U8, got ") + dtype_name(mask.dtype()));
  if (areas.dtype() != DType::I32) fail(op, std::string("areas must be I32, got ") + dtype_name(areas.dtype()));
  if (mask.dim() != 2 && mask.dim() != 3) fail(op, "mask must be [n, h, w] or [h, w], got " + shape_str(mask.shape()));
  if (areas.shape() != mask.shape())
    fail(op, "areas " + shape_str(areas.shape()) + " must have mask's shape " + shape_str(mask.shape()));
  if (mask.numel() == 0) return;
  const int64_t n = mask.dim() == 3 ? mask.size(0) : 1;
  run(ctx, kernels::ref::component_areas, kernels::cpu::component_areas, mask.data<uint8_t>(), n, mask.size(-2),
      mask.size(-1), areas.data<int32_t>());
}

}  // namespace sam3::ops
