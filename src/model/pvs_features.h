// sam3.cpp — what the interactive head reads from one image (computed once per image, on the first pick or up front):
// the SAM2 neck's levels after the mask decoder's conv_s0 / conv_s1, and level 2 + no_mem_embed.
// ref: sam3/model/sam3_image_processor.py (set_image: conv_s0 / conv_s1), sam3/model/sam3_image.py (predict_inst)
#pragma once
#include "core/tensor.h"

namespace sam3 {

struct PvsFeatures {
  Tensor feat_s0;      // [C/8, 4E, 4E]  conv_s0(sam2 level 0)
  Tensor feat_s1;      // [C/4, 2E, 2E]  conv_s1(sam2 level 1)
  Tensor image_embed;  // [1, C, E, E]   sam2 level 2 + no_mem_embed
  size_t bytes() const { return feat_s0.nbytes() + feat_s1.nbytes() + image_embed.nbytes(); }
};

}  // namespace sam3
