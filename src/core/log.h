// sam3.cpp — minimal logging to stderr. The verbosity is carried by the caller (no global level).
#pragma once
#include <cstdio>

#define SAM3_LOG(...)                  \
  do {                                 \
    std::fprintf(stderr, "sam3: ");    \
    std::fprintf(stderr, __VA_ARGS__); \
    std::fprintf(stderr, "\n");        \
  } while (0)
