// sam3.cpp — conv2d on oneDNN's convolution with every tensor in its plain layout (x [Cin,H,W] = NCHW with N = 1,
// w [Cout,Cin,kh,kw] = OIHW, y [Cout,Ho,Wo]): where onednn_f32() (see onednn_matmul.h). With plain layouts oneDNN
// 2.6 takes its gemm-based kernel (`gemm:jit`, an implicit im2col in a small scratchpad): measured 267-275 GFLOP/s for
// the neck's 3x3 256->256 convolutions at 288-36 px against 216 for im2col + OpenBLAS (2 threads, Ice Lake Xeon), the
// same bits on 1, 2 or 3 threads, a scratchpad of 0.3-1.5 MB instead of a 32 MB column band. (Its blocked-layout
// kernel, brgconv, is faster still, 342 GFLOP/s at 288 px, but needs NHWC copies of input and output: 170 MB more at
// 288 px, which the int8 memory goal has no room for.)
#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>
#include <utility>

#include "kernels/cpu/onednn_engine.h"
#include "kernels/cpu/onednn_matmul.h"

namespace sam3::kernels::cpu {

bool onednn_conv2d_f32(const float* x, int64_t cin, int64_t h, int64_t w_in, const float* w, int64_t cout, int64_t kh,
                       int64_t kw, const float* b, int stride, int pad, float* y, int n_threads) {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  const int64_t ho = (h + 2 * pad - kh) / stride + 1, wo = (w_in + 2 * pad - kw) / stride + 1;
  omp_set_num_threads(n_threads < 1 ? 1 : n_threads);  // before the primitive: oneDNN plans it for this count
  const auto& eng = onednn_engine();
  const dnnl::memory::desc src({1, cin, h, w_in}, dt::f32, tag::nchw), wei({cout, cin, kh, kw}, dt::f32, tag::oihw),
      dst({1, cout, ho, wo}, dt::f32, tag::nchw), bias({cout}, dt::f32, tag::a);
  const dnnl::memory::dims strides{stride, stride}, padding{pad, pad};
  const auto fwd = dnnl::prop_kind::forward_inference;
  const auto algo = dnnl::algorithm::convolution_direct;
  dnnl::convolution_forward::primitive_desc pd;
  try {
    pd = b ? dnnl::convolution_forward::primitive_desc(
                 dnnl::convolution_forward::desc(fwd, algo, src, wei, bias, dst, strides, padding, padding),
                 onednn_attr(), eng)
           : dnnl::convolution_forward::primitive_desc(
                 dnnl::convolution_forward::desc(fwd, algo, src, wei, dst, strides, padding, padding),
                 onednn_attr(), eng);
  } catch (const dnnl::error&) {
    return false;  // no kernel for this shape: the caller takes im2col + OpenBLAS
  }
  const dnnl::convolution_forward conv(pd);  // from oneDNN's primitive cache after the first call with this shape
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, dnnl::memory(src, eng, const_cast<float*>(x))},
                                             {DNNL_ARG_WEIGHTS, dnnl::memory(wei, eng, const_cast<float*>(w))},
                                             {DNNL_ARG_DST, dnnl::memory(dst, eng, y)}};
  if (b) args.emplace(DNNL_ARG_BIAS, dnnl::memory(bias, eng, const_cast<float*>(b)));
  onednn_execute(conv, pd.scratchpad_desc(), std::move(args));
  return true;
}

}  // namespace sam3::kernels::cpu
