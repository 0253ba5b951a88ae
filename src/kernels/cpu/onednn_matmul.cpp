// sam3.cpp — oneDNN matmul with a pre-packed weight (see onednn_matmul.h).
// Debian's oneDNN uses the OpenMP runtime: the calling thread's OpenMP thread count is set to n_threads right
// before each execution (it only affects parallel regions this thread starts).
#include "kernels/cpu/onednn_matmul.h"

#include <omp.h>

#include <map>
#include <mutex>
#include <tuple>
#include <oneapi/dnnl/dnnl.hpp>

#include "core/error.h"
#include "kernels/cpu/onednn_engine.h"

namespace sam3::kernels::cpu {

namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

struct Types {
  dt src, wei, dst;
};
Types types_of(OnednnMatmul::Kind k) {
  switch (k) {
    case OnednnMatmul::Kind::F32: return {dt::f32, dt::f32, dt::f32};
    case OnednnMatmul::Kind::BF16: return {dt::bf16, dt::bf16, dt::f32};
    case OnednnMatmul::Kind::Int8: return {dt::u8, dt::s8, dt::s32};
  }
  return {dt::f32, dt::f32, dt::f32};
}

dnnl::matmul::primitive_desc make_pd(OnednnMatmul::Kind kind, int64_t M, int64_t N, int64_t K,
                                     const dnnl::memory::desc& wei, bool bias) {
  const Types t = types_of(kind);
  const dnnl::memory::desc src({M, K}, t.src, tag::ab), dst({M, N}, t.dst, tag::ab);
  if (bias) {
    const dnnl::memory::desc b({1, N}, dt::f32, tag::ab);
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, b, dst), onednn_attr(), onednn_engine());
  }
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, dst), onednn_attr(), onednn_engine());
}

// dst = src in dst's layout, with this call's own scratchpad (onednn_engine.h).
void reorder(const dnnl::memory& src, const dnnl::memory& dst) {
  const dnnl::reorder::primitive_desc pd(src, dst, onednn_attr());
  onednn_execute(dnnl::reorder(pd), pd.scratchpad_desc(), {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}});
}

// A representative row count for choosing the packed layout (the ViT's token count at 1008 px).
constexpr int64_t kPackRows = 5184;

}  // namespace

struct OnednnMatmul::Impl {
  dnnl::memory::desc plain_desc;  // {K, N} of W[N,K] row-major: tag ba
  dnnl::memory packed;            // the weight in the layout oneDNN chose
  struct Prim {
    dnnl::matmul matmul;
    dnnl::memory::desc scratchpad;
  };
  mutable std::mutex mu;
  // (M, has bias, threads) -> primitive: oneDNN plans a primitive's work split for the thread count current when it
  // is created, and runs that many threads whatever the count at execution.
  mutable std::map<std::tuple<int64_t, bool, int>, Prim> prims;
};

OnednnMatmul::OnednnMatmul(Kind kind, int64_t N, int64_t K, std::unique_ptr<Impl> impl)
    : kind_(kind), n_(N), k_(K), impl_(std::move(impl)) {}
OnednnMatmul::~OnednnMatmul() = default;

std::unique_ptr<OnednnMatmul> OnednnMatmul::create(Kind kind, const void* w, int64_t N, int64_t K) {
  if (N <= 0 || K <= 0) throw Error("OnednnMatmul: empty weight");
  auto impl = std::make_unique<Impl>();
  const Types t = types_of(kind);
  impl->plain_desc = dnnl::memory::desc({K, N}, t.wei, tag::ba);
  dnnl::matmul::primitive_desc pd;
  try {
    const dnnl::memory::desc any({K, N}, t.wei, tag::any);
    pd = make_pd(kind, kPackRows, N, K, any, kind != Kind::Int8);
  } catch (const dnnl::error&) {
    return nullptr;  // no kernel for these types on this CPU
  }
  dnnl::memory src(impl->plain_desc, onednn_engine(), const_cast<void*>(w));
  impl->packed = dnnl::memory(pd.weights_desc(), onednn_engine());
  reorder(src, impl->packed);
  return std::unique_ptr<OnednnMatmul>(new OnednnMatmul(kind, N, K, std::move(impl)));
}

void OnednnMatmul::run(const void* x, const float* bias, void* y, int64_t M, int n_threads) const {
  if (M <= 0) return;
  const bool has_bias = bias != nullptr && kind_ != Kind::Int8;
  const int threads = n_threads < 1 ? 1 : n_threads;
  omp_set_num_threads(threads);  // before the primitive's creation: oneDNN plans it for this count
  Impl::Prim prim;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    const auto key = std::make_tuple(M, has_bias, threads);
    auto it = impl_->prims.find(key);
    if (it == impl_->prims.end()) {
      // The packed layout was chosen for kPackRows rows; oneDNN's layouts depend on the types and the ISA, not on
      // M, so the same packed weight serves every M. Were that ever not so, oneDNN would pick a slower
      // implementation that accepts the layout (or throw when none does): `ONEDNN_VERBOSE=1` names the one used.
      auto pd = make_pd(kind_, M, n_, k_, impl_->packed.get_desc(), has_bias);
      it = impl_->prims.emplace(key, Impl::Prim{dnnl::matmul(pd), pd.scratchpad_desc()}).first;
    }
    prim = it->second;
  }
  const Types t = types_of(kind_);
  const auto& eng = onednn_engine();
  dnnl::memory xm({{M, k_}, t.src, tag::ab}, eng, const_cast<void*>(x));
  dnnl::memory ym({{M, n_}, t.dst, tag::ab}, eng, y);
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, xm}, {DNNL_ARG_WEIGHTS, impl_->packed}, {DNNL_ARG_DST, ym}};
  if (has_bias) args.emplace(DNNL_ARG_BIAS, dnnl::memory({{1, n_}, dt::f32, tag::ab}, eng, const_cast<float*>(bias)));
  onednn_execute(prim.matmul, prim.scratchpad, std::move(args));
}

void OnednnMatmul::unpack(void* w) const {
  dnnl::memory dst(impl_->plain_desc, onednn_engine(), w);
  reorder(impl_->packed, dst);
}

std::string onednn_isa_name() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}

const dnnl::engine& onednn_engine() {
  static const dnnl::engine e(dnnl::engine::kind::cpu, 0);  // created once, immutable afterwards
  return e;
}

dnnl::primitive_attr onednn_attr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

void onednn_execute(const dnnl::primitive& p, const dnnl::memory::desc& scratchpad,
                    std::unordered_map<int, dnnl::memory> args) {
  const auto& eng = onednn_engine();
  args.emplace(DNNL_ARG_SCRATCHPAD, dnnl::memory(scratchpad, eng));
  dnnl::stream s(eng);
  p.execute(s, args);
  s.wait();
}

namespace {

bool probe(OnednnMatmul::Kind kind) {
  const int64_t n = 64, k = 64;
  try {
    const Types t = types_of(kind);
    make_pd(kind, 64, n, k, dnnl::memory::desc({k, n}, t.wei, tag::any), kind != OnednnMatmul::Kind::Int8);
    return true;
  } catch (const dnnl::error&) {
    return false;
  }
}

}  // namespace

bool onednn_has_kernel(OnednnMatmul::Kind kind) {
  // oneDNN fixes its ISA (and reads ONEDNN_MAX_CPU_ISA) once per process, so each kind is probed once, when first
  // asked about.
  switch (kind) {
    case OnednnMatmul::Kind::F32: { static const bool f32 = probe(kind); return f32; }
    case OnednnMatmul::Kind::BF16: { static const bool bf16 = probe(kind); return bf16; }
    case OnednnMatmul::Kind::Int8: { static const bool int8 = probe(kind); return int8; }
  }
  return false;
}

bool onednn_supports(OnednnMatmul::Kind kind) {
  if (!onednn_has_kernel(kind)) return false;
  if (kind != OnednnMatmul::Kind::BF16) return true;
  switch (dnnl::get_effective_cpu_isa()) {  // bf16 instructions (oneDNN 2.6 knows no other ISA with them)
    case dnnl::cpu_isa::avx512_core_bf16:
    case dnnl::cpu_isa::avx512_core_amx: return true;
    default: return false;
  }
}

bool onednn_isa_avx512() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core:
    case dnnl::cpu_isa::avx512_core_vnni:
    case dnnl::cpu_isa::avx512_core_bf16:
    case dnnl::cpu_isa::avx512_core_amx: return true;
    default: return false;
  }
}

bool onednn_f32() {
  static const bool use = onednn_isa_avx512() && onednn_has_kernel(OnednnMatmul::Kind::F32);  // decided once
  return use;
}

bool onednn_int8_saturates() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx2_vnni:
    case dnnl::cpu_isa::avx512_core_vnni:
    case dnnl::cpu_isa::avx512_core_bf16:
    case dnnl::cpu_isa::avx512_core_amx: return false;
    default: return true;
  }
}

}  // namespace sam3::kernels::cpu
