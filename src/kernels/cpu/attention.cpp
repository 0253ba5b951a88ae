// sam3.cpp — attention. Provisional: the reference kernel, one head per thread.
#include "core/parallel.h"
#include "kernels/cpu.h"
#include "kernels/ref.h"

namespace sam3::kernels::cpu {

void attention(const ops::AttentionArgs& a, int n_threads) {
  parallel_for_dynamic(n_threads, a.n_heads, [&](int64_t h) {
    ops::AttentionArgs one = a;
    one.n_heads = 1;
    one.q += h * a.q_head;
    one.k += h * a.k_head;
    one.v += h * a.v_head;
    one.out += h * a.o_head;
    if (a.bias) one.bias += h * a.bias_head;
    ref::attention(one);
  });
}

}  // namespace sam3::kernels::cpu
