// sam3.cpp — the one oneDNN CPU engine every oneDNN kernel here runs on (for the .cpp files that use oneDNN's C++
// API directly; everything else goes through onednn_matmul.h).
#pragma once
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>

namespace sam3::kernels::cpu {

// Created on first use, immutable afterwards.
const dnnl::engine& onednn_engine();

// Attributes for every primitive here: the caller passes the scratchpad (DNNL_ARG_SCRATCHPAD, a dnnl::memory of the
// primitive desc's scratchpad_desc() per execution). oneDNN's default, library-managed scratchpad is shared by the
// primitives of a thread and allows no primitive to run in a thread other than the one that created it
// (DNNL_ENABLE_CONCURRENT_EXEC=OFF, as Debian builds it); the library's contract (sam3.h) lets any thread run a
// model, several at once. Breaking that rule is not caught: oneDNN 2.6's brgemm kernels on AVX-512 return wrong
// products when two threads run one primitive at once (tests/unit/test_onednn_concurrency.cpp).
dnnl::primitive_attr onednn_attr();

// Runs `p` on `args` plus a scratchpad of `scratchpad` (this call's own) on a stream of its own, and waits.
void onednn_execute(const dnnl::primitive& p, const dnnl::memory::desc& scratchpad,
                    std::unordered_map<int, dnnl::memory> args);

}  // namespace sam3::kernels::cpu
