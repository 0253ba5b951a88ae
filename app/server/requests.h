// sam3.cpp — parsing what clients send: the segment request JSON and image uploads. Every malformed input is
// reported as an HttpError (400, or 413 for too large) whose message names the field at fault.
//
// Segment request:
//   {"prompts": [{"text": "dog", "boxes": [{"box": [x0, y0, x1, y1], "label": true}]}],   1..kMaxPrompts prompts
//    "threshold": 0.5,        optional, in [0, 1]; instances are the queries with score > threshold
//    "semantic": false}       optional; true adds each prompt's semantic mask
// A prompt has a non-empty text, boxes, or both. Boxes are pixel corners of the original image (x0 <= x1,
// y0 <= y1, finite); "label" is true (positive exemplar, the default) or false (negative); "positive"/"negative"
// strings are accepted as well.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/image.h"
#include "sam3/sam3.h"

namespace sam3::server {

constexpr size_t kMaxPrompts = 32;           // prompts per request
constexpr size_t kMaxBoxesPerPrompt = 64;    // exemplar boxes per prompt
constexpr size_t kMaxTextBytes = 1024;       // a prompt's text

struct PromptRequest {
  std::string text;
  struct Box {
    float xyxy[4] = {};
    bool positive = true;
  };
  std::vector<Box> boxes;
  // Identity of the prompt for the raw-result cache: text and boxes (as float32 pixels), not the threshold.
  std::string cache_key() const;
  // The library's prompt for an image of this size (boxes normalised to cxcywh).
  Prompt to_prompt(int image_width, int image_height) const;
};

struct SegmentRequest {
  std::vector<PromptRequest> prompts;
  float threshold = 0.5f;
  bool semantic = false;
};

// Parses a request body (JSON text). Throws HttpError(400) on malformed JSON or fields.
SegmentRequest parse_segment_request(const std::string& body);
SegmentRequest parse_segment_request_json(const nlohmann::ordered_json& j);

struct UploadLimits {
  int64_t max_bytes = 0;
  int64_t max_pixels = 0;
};

// Decodes an uploaded image (JPEG or PNG). 413 when the bytes or the pixel count (read from the header, before
// decoding) exceed the limits; 400 when the data is not a decodable image.
Image decode_upload(const std::string& data, const UploadLimits& limits, const std::string& name);

}  // namespace sam3::server
