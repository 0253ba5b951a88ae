// sam3.cpp — include FIRST in a source file whose float arithmetic must round exactly as the official build does:
// no contraction of a*b + c into a fused multiply-add (GCC contracts by default for C++), so every product is
// rounded before it is added and the only FMAs are the explicit std::fma calls. Used where bit-exact parity with
// torch depends on it (the resize kernels, RoIAlign sample positions, box geometry, image normalisation).
#pragma once

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
