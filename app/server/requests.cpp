// sam3.cpp — segment request JSON and image uploads -> library types, with 400/413 errors naming the field.
#include "requests.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "http_error.h"

namespace sam3::server {

namespace {

// std::map-backed: inserting n distinct keys is O(n log n) (ordered_json's linear scan per insert made a body of
// distinct keys quadratic before any validation).
using Json = nlohmann::json;

[[noreturn]] void bad(const std::string& msg) { throw HttpError(400, msg); }

float finite_float(const Json& v, const std::string& where) {
  if (!v.is_number()) bad(where + " must be a number");
  const double d = v.get<double>();
  if (!std::isfinite(d) || std::fabs(d) > 1e9) bad(where + " must be a finite number (|v| <= 1e9)");
  return static_cast<float>(d);
}

PromptRequest::Box parse_box(const Json& b, const std::string& where) {
  PromptRequest::Box box;
  const Json* coords = &b;
  if (b.is_object()) {
    for (const auto& [k, v] : b.items())
      if (k != "box" && k != "label") bad(where + ": unknown field '" + k + "' (expected 'box', 'label')");
    if (!b.contains("box")) bad(where + ": missing 'box' ([x0, y0, x1, y1] in pixels)");
    coords = &b["box"];
    if (b.contains("label")) {
      const Json& l = b["label"];
      if (l.is_boolean()) {
        box.positive = l.get<bool>();
      } else if (l.is_string() && (l == "positive" || l == "negative")) {
        box.positive = l == "positive";
      } else {
        bad(where + ".label must be true/false (or \"positive\"/\"negative\")");
      }
    }
  } else if (!b.is_array()) {
    bad(where + " must be an object {\"box\": [x0, y0, x1, y1], \"label\": true|false}");
  }
  if (!coords->is_array() || coords->size() != 4) bad(where + ".box must be an array [x0, y0, x1, y1]");
  for (size_t i = 0; i < 4; ++i) box.xyxy[i] = finite_float((*coords)[i], where + ".box[" + std::to_string(i) + "]");
  try {  // the library's checks that need no image; the rest come with the image (PromptRequest::to_prompt)
    PromptBox::check_user_xyxy(box.xyxy[0], box.xyxy[1], box.xyxy[2], box.xyxy[3]);
  } catch (const std::runtime_error& e) {
    bad(where + ": " + e.what());
  }
  return box;
}

PromptRequest parse_prompt(const Json& p, const std::string& where) {
  if (!p.is_object()) bad(where + " must be an object {\"text\": ..., \"boxes\": [...]}");
  PromptRequest r;
  for (const auto& [k, v] : p.items())
    if (k != "text" && k != "boxes") bad(where + ": unknown field '" + k + "' (expected 'text', 'boxes')");
  if (p.contains("text")) {
    if (!p["text"].is_string()) bad(where + ".text must be a string");
    r.text = p["text"].get<std::string>();
    if (r.text.size() > kMaxTextBytes) bad(where + ".text is longer than " + std::to_string(kMaxTextBytes) + " bytes");
  }
  if (p.contains("boxes")) {
    const Json& bs = p["boxes"];
    if (!bs.is_array()) bad(where + ".boxes must be an array");
    if (bs.size() > kMaxBoxesPerPrompt) bad(where + ": more than " + std::to_string(kMaxBoxesPerPrompt) + " boxes");
    for (size_t i = 0; i < bs.size(); ++i)
      r.boxes.push_back(parse_box(bs[i], where + ".boxes[" + std::to_string(i) + "]"));
  }
  bool blank = true;
  for (char c : r.text) blank = blank && std::isspace(static_cast<unsigned char>(c));
  if (blank && r.boxes.empty()) bad(where + " is empty: give a non-empty 'text', 'boxes', or both");
  return r;
}

}  // namespace

std::string PromptRequest::cache_key() const {
  std::string k = text;
  k.push_back('\0');
  for (const Box& b : boxes) {
    char buf[sizeof b.xyxy + 1];
    std::memcpy(buf, b.xyxy, sizeof b.xyxy);
    buf[sizeof b.xyxy] = b.positive ? '+' : '-';
    k.append(buf, sizeof buf);
  }
  return k;
}

Prompt PromptRequest::to_prompt(int image_width, int image_height, const std::string& where) const {
  Prompt p;
  p.text = text;
  for (size_t i = 0; i < boxes.size(); ++i) {
    const Box& b = boxes[i];
    try {
      p.boxes.push_back(PromptBox::from_user_xyxy(b.xyxy[0], b.xyxy[1], b.xyxy[2], b.xyxy[3], image_width,
                                                  image_height, b.positive));
    } catch (const std::runtime_error& e) {
      bad(where + ".boxes[" + std::to_string(i) + "]: " + e.what());
    }
  }
  return p;
}

std::string prompt_field(size_t i) { return "prompts[" + std::to_string(i) + "]"; }

SegmentRequest parse_segment_request_json(const Json& j) {
  if (!j.is_object())
    bad("the request must be a JSON object {\"prompts\": [...], \"threshold\": ..., \"semantic\": ...}");
  for (const auto& [k, v] : j.items())
    if (k != "prompts" && k != "threshold" && k != "semantic")
      bad("unknown field '" + k + "' (expected 'prompts', 'threshold', 'semantic')");
  SegmentRequest r;
  if (!j.contains("prompts") || !j["prompts"].is_array()) bad("'prompts' must be an array of prompts");
  const Json& ps = j["prompts"];
  if (ps.empty()) bad("'prompts' is empty");
  if (ps.size() > kMaxPrompts) bad("more than " + std::to_string(kMaxPrompts) + " prompts");
  for (size_t i = 0; i < ps.size(); ++i) r.prompts.push_back(parse_prompt(ps[i], prompt_field(i)));
  if (j.contains("threshold")) {
    r.threshold = finite_float(j["threshold"], "threshold");
    if (!(r.threshold >= 0.0f && r.threshold <= 1.0f)) bad("threshold must be in [0, 1]");
  }
  if (j.contains("semantic")) {
    if (!j["semantic"].is_boolean()) bad("semantic must be true or false");
    r.semantic = j["semantic"].get<bool>();
  }
  return r;
}

SegmentRequest parse_segment_request(const std::string& body) {
  if (body.size() > kMaxRequestJsonBytes)
    throw HttpError(413, "the segment request JSON is " + std::to_string(body.size()) + " bytes; the limit is " +
                             std::to_string(kMaxRequestJsonBytes));
  Json j;
  try {
    j = Json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    bad(std::string("malformed JSON: ") + e.what());
  }
  return parse_segment_request_json(j);
}

RgbImage decode_upload(const std::string& data, const UploadLimits& limits, const std::string& name) {
  if (data.empty()) bad(name + " is empty (send a JPEG or PNG)");
  if (static_cast<int64_t>(data.size()) > limits.max_bytes)
    throw HttpError(413, name + " is " + std::to_string(data.size()) + " bytes; the limit is " +
                             std::to_string(limits.max_bytes));
  const auto* bytes = reinterpret_cast<const uint8_t*>(data.data());
  ImageHeader header;
  try {
    header = read_image_header(bytes, data.size(), name);
  } catch (const std::exception& e) {
    bad(e.what());
  }
  if (!header.supported) bad(name + " is not a JPEG or PNG image");
  if (header.width <= 0 || header.height <= 0) bad(name + " has no pixels");
  if (header.width * header.height > limits.max_pixels)
    throw HttpError(413, name + " is " + std::to_string(header.width) + "x" + std::to_string(header.height) + " = " +
                             std::to_string(header.width * header.height) + " pixels; the limit is " +
                             std::to_string(limits.max_pixels));
  const int64_t need = DecodeBudget::estimate(header.width, header.height);
  if (limits.budget) {
    if (need > limits.budget->capacity())
      throw HttpError(413, name + " (" + std::to_string(header.width) + "x" + std::to_string(header.height) +
                               ") needs up to " + std::to_string(need >> 20) + " MiB to decode; the limit is " +
                               std::to_string(limits.budget->capacity() >> 20) + " MiB (--max-decode-memory)");
    if (!limits.budget->try_acquire(need))
      throw HttpError(503, "other uploads are being decoded (--max-decode-memory " +
                               std::to_string(limits.budget->capacity() >> 20) + " MiB in use); retry later");
  }
  struct Release {
    DecodeBudget* b;
    int64_t n;
    ~Release() {
      if (b) b->release(n);
    }
  } release{limits.budget, need};
  try {
    return decode_image_bytes(bytes, data.size(), limits.max_pixels, name);
  } catch (const std::exception& e) {
    bad(e.what());
  }
}

}  // namespace sam3::server
