// sam3.cpp — parsing what clients send: the segment request JSON and image uploads. Every malformed input is
// reported as an HttpError (400, or 413 for too large) whose message names the field at fault.
//
// Segment request:
//   {"prompts": [{"text": "dog", "boxes": [{"box": [x0, y0, x1, y1], "label": true}]}],   1..kMaxPrompts prompts
//    "threshold": 0.5,        optional, in [0, 1]; instances are the queries with score > threshold
//    "semantic": false}       optional; true adds each prompt's semantic mask
// A prompt has a non-empty text, boxes, or both. Boxes are pixel corners of the original image, checked by the
// library (PromptBox::check_user_xyxy / from_user_xyxy: finite, x0 < x1, y0 < y1, not wholly outside the image;
// a box partly outside is clipped); "label" is true (positive exemplar, the default) or false (negative);
// "positive"/"negative" strings are accepted as well.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "decode_budget.h"
#include "sam3/sam3.h"

namespace sam3::server {

constexpr size_t kMaxPrompts = 32;           // prompts per request
constexpr size_t kMaxBoxesPerPrompt = 64;    // exemplar boxes per prompt
constexpr size_t kMaxTextBytes = 1024;       // a prompt's text
constexpr size_t kMaxRequestJsonBytes = size_t{1} << 20;  // a segment request (JSON text); larger: 413

struct PromptRequest {
  std::string text;
  struct Box {
    float xyxy[4] = {};
    bool positive = true;
  };
  std::vector<Box> boxes;
  // Identity of the prompt for the raw-result cache: text and boxes (as float32 pixels), not the threshold.
  std::string cache_key() const;
  // The library's prompt for an image of this size (boxes checked, clipped and normalised to cxcywh by
  // PromptBox::from_user_xyxy). Throws HttpError(400) naming `where`.boxes[i] for a box wholly outside the image.
  Prompt to_prompt(int image_width, int image_height, const std::string& where) const;
};

struct SegmentRequest {
  std::vector<PromptRequest> prompts;
  float threshold = 0.5f;
  bool semantic = false;
};

// Parses a request body (JSON text, at most kMaxRequestJsonBytes, else 413). Throws HttpError(400) on malformed JSON
// or fields. Prompt i is reported as
// "prompts[i]" (the `where` of PromptRequest::to_prompt).
SegmentRequest parse_segment_request(const std::string& body);
std::string prompt_field(size_t i);  // "prompts[i]"
SegmentRequest parse_segment_request_json(const nlohmann::json& j);

struct UploadLimits {
  int64_t max_bytes = 0;
  int64_t max_pixels = 0;
  DecodeBudget* budget = nullptr;  // if set: the decode's memory is reserved here first (503 when taken)
};

// Decodes an uploaded image (JPEG or PNG). 413 when the bytes or the pixel count (read from the header, before
// decoding) exceed the limits; 503 when the decode budget cannot hold it now (413 if it never could); 400 when the
// data is not a decodable image.
RgbImage decode_upload(const std::string& data, const UploadLimits& limits, const std::string& name);

}  // namespace sam3::server
