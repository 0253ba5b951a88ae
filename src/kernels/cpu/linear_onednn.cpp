// sam3.cpp — f32 Linear layers on oneDNN's matmul, the weight read in place (see onednn_matmul.h:
// onednn_linear_f32, and onednn_f32 for where). Nothing is packed: the primitive is looked up in oneDNN's own
// primitive cache per shape (a few microseconds after the first call; measured), and the weight's blocks are copied
// into the call's scratchpad as the kernel goes, which costs ~4% against a pre-packed weight on the model's shapes
// (docs/precision.md).
#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>
#include <utility>

#include "kernels/cpu/onednn_engine.h"
#include "kernels/cpu/onednn_matmul.h"

namespace sam3::kernels::cpu {

bool onednn_linear_f32(const float* x, const float* w, const float* b, float* y, int64_t M, int64_t N, int64_t K,
                       bool accumulate, int n_threads) {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  if (M <= 0 || N <= 0 || K <= 0) return false;
  omp_set_num_threads(n_threads < 1 ? 1 : n_threads);  // before the primitive: oneDNN plans it for this count
  const auto& eng = onednn_engine();
  const dnnl::memory::desc src({M, K}, dt::f32, tag::ab), wei({K, N}, dt::f32, tag::ba), dst({M, N}, dt::f32, tag::ab);
  dnnl::primitive_attr attr = onednn_attr();
  if (accumulate) {
    dnnl::post_ops po;
    po.append_sum(1.0f);  // y = x·Wᵀ (+ b) + y
    attr.set_post_ops(po);
  }
  const dnnl::memory::desc bias({1, N}, dt::f32, tag::ab);
  dnnl::matmul::primitive_desc pd;
  try {
    pd = b ? dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, bias, dst), attr, eng)
           : dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, dst), attr, eng);
  } catch (const dnnl::error&) {
    return false;  // no kernel for this shape: the caller takes OpenBLAS
  }
  const dnnl::matmul prim(pd);  // from oneDNN's primitive cache after the first call with this shape and thread count
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, dnnl::memory(src, eng, const_cast<float*>(x))},
                                             {DNNL_ARG_WEIGHTS, dnnl::memory(wei, eng, const_cast<float*>(w))},
                                             {DNNL_ARG_DST, dnnl::memory(dst, eng, y)}};
  if (b) args.emplace(DNNL_ARG_BIAS, dnnl::memory(bias, eng, const_cast<float*>(b)));
  onednn_execute(prim, pd.scratchpad_desc(), std::move(args));
  return true;
}

}  // namespace sam3::kernels::cpu
