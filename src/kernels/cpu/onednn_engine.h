// sam3.cpp — the one oneDNN CPU engine every oneDNN kernel here runs on (for the .cpp files that use oneDNN's C++
// API directly; everything else goes through onednn_matmul.h).
#pragma once
#include <oneapi/dnnl/dnnl.hpp>

namespace sam3::kernels::cpu {

// Created on first use, immutable afterwards.
const dnnl::engine& onednn_engine();

}  // namespace sam3::kernels::cpu
