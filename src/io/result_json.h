// sam3.cpp — the one JSON schema for segmentation results, shared by the CLI (`sam3 segment -o`) and the server.
//
// {
//   "schema": "sam3.segment/1",
//   "image": {"width": W, "height": H},
//   "prompts": [                                    one entry per prompt, in the order given
//     {
//       "text": "dog",                              as given ("" for a boxes-only prompt)
//       "text_encoded": "dog",                      what the text encoder saw ("visual" for a boxes-only prompt)
//       "boxes": [{"xyxy": [x0, y0, x1, y1],        exemplar boxes in the order used: pixels of the original image
//                  "cxcywh": [cx, cy, w, h],        ... and the normalised form the model received
//                  "label": "positive"}],           or "negative"
//       "threshold": 0.5,                           instances are the queries with score > threshold
//       "instances": [                              ascending query order (upstream's order; not sorted by score)
//         {"query": 17, "score": 0.91, "box": [x0, y0, x1, y1],   pixels, not clipped to the image
//          "area": 1234,                            mask pixels
//          "mask": {"size": [H, W], "counts": "<COCO compressed RLE>"}}],   pycocotools' string form
//       "semantic": {"size": [H, W], "counts": "...", "area": n},          optional
//       "timings_ms": {"text": .., "geometry": .., "fusion_encoder": .., "decoder": .., "scoring": ..,
//                      "mask_head": .., "postprocess": .., "total": ..}
//     }],
//   "timings_ms": {"segment": ..}                   front ends add their own keys (load, decode, encode, ...)
// }
// An instance's "mask" is absent when masks were not computed. Scores and coordinates are the float32 values
// printed in their shortest form that reads back (as float32) to the same value.
// Also exposed: json_float(), that rounding, for front ends adding their own numbers.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "sam3/sam3.h"

namespace sam3 {

using Json = nlohmann::ordered_json;

double json_float(float f);

Json mask_to_json(const Mask& mask);
// Decodes {"size": [h, w], "counts": "..."}; throws sam3::Error on a malformed object or string.
Mask mask_from_json(const Json& j);

Json prompt_result_to_json(const PromptResult& r);
Json segment_result_to_json(const SegmentResult& r);

}  // namespace sam3
