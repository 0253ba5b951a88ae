// sam3.cpp — the pick request JSON (POST /v1/sessions/{id}/pick) -> the library's PickPrompt, with 400 errors naming
// the field at fault:
//   {"points": [{"x": 470, "y": 420, "label": 1}],   label 1 / true / "positive" (default) or 0 / false / "negative"
//    "box": [x0, y0, x1, y1],                          optional, pixels (partly outside the image is accepted)
//    "mask_from": "<pick id>", "mask_index": k,        optional: refine from a pick kept by this session (its mask k,
//                                                      default its best)
//    "multimask": true}                                optional; default: true for a single click, else false
// The image-dependent checks (a point outside the image, ...) are the library's, also answered with 400.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "sam3/sam3.h"

namespace sam3::server {

constexpr size_t kMaxPickPoints = 64;

struct PickRequest {
  PickPrompt prompt;      // points, box, multimask (mask_logits filled from mask_from by the handler)
  std::string mask_from;  // empty: none
  int mask_index = -1;    // -1: the best mask of that pick
};

PickRequest parse_pick_request(const std::string& body);

}  // namespace sam3::server
