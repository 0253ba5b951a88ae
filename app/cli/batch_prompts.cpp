// sam3.cpp — `sam3 batch`'s prompts (batch_prompts.h).
#include "batch_prompts.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

namespace sam3::cli {

namespace {

using Json = nlohmann::json;

std::string fnv1a64_hex(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, h);
  return buf;
}

}  // namespace

BatchPrompts::BatchPrompts(const std::vector<std::string>& texts, const std::string& box_file,
                           const std::vector<std::string>& image_files) {
  for (const std::string& t : texts) {
    for (const std::string& c : categories_)
      if (c == t) throw std::runtime_error("-t '" + t + "' is given twice (one category per prompt)");
    categories_.push_back(t);
  }
  n_text_categories_ = categories_.size();
  if (box_file.empty()) return;

  std::ifstream f(box_file);
  if (!f) throw std::runtime_error("--box-file '" + box_file + "': cannot be read");
  Json doc;
  try {
    doc = Json::parse(f);
  } catch (const Json::exception& e) {
    throw std::runtime_error("--box-file '" + box_file + "': not JSON (" + e.what() + ")");
  }
  if (!doc.is_object())
    throw std::runtime_error("--box-file '" + box_file + "': expected an object {\"image file\": [boxes], ...}");
  digest_ = fnv1a64_hex(doc.dump());
  const std::set<std::string> known(image_files.begin(), image_files.end());
  for (const auto& [name, list] : doc.items()) {
    const std::string where = "--box-file '" + box_file + "', image '" + name + "'";
    if (!known.count(name)) throw std::runtime_error(where + ": not among the inputs (names as the inputs list them)");
    if (!list.is_array()) throw std::runtime_error(where + ": expected a list of boxes");
    std::vector<Box>& boxes = boxes_[name];
    for (const Json& b : list) {
      if (!b.is_object() || !b.contains("box") || !b["box"].is_array() || b["box"].size() != 4)
        throw std::runtime_error(where + ": expected {\"box\": [x0, y0, x1, y1], \"positive\": true, \"text\": ...}");
      Box box{{0, 0, 0, 0}, true, 0};
      for (int k = 0; k < 4; ++k) {
        if (!b["box"][k].is_number()) throw std::runtime_error(where + ": box " + b["box"].dump() + ": not numbers");
        box.xyxy[k] = b["box"][k].get<float>();
      }
      try {
        PromptBox::check_user_xyxy(box.xyxy[0], box.xyxy[1], box.xyxy[2], box.xyxy[3]);
      } catch (const std::exception& e) {
        throw std::runtime_error(where + ": " + e.what());
      }
      if (b.contains("positive")) {
        if (!b["positive"].is_boolean()) throw std::runtime_error(where + ": \"positive\" must be true or false");
        box.positive = b["positive"].get<bool>();
      }
      const std::string text = b.contains("text") && b["text"].is_string() ? b["text"].get<std::string>() : "visual";
      size_t c = 0;
      while (c < categories_.size() && categories_[c] != text) ++c;
      if (c == categories_.size()) {
        if (text != "visual") throw std::runtime_error(where + ": the text '" + text + "' is not one of the -t");
        categories_.push_back("visual");  // the boxes-only prompt, run only where it has boxes
      }
      box.category = c;
      boxes.push_back(box);
    }
  }
}

void BatchPrompts::for_image(const std::string& file_name, int width, int height, std::vector<Prompt>& prompts,
                             std::vector<int64_t>& category_ids) const {
  prompts.assign(categories_.size(), Prompt{});
  for (size_t c = 0; c < n_text_categories_; ++c) prompts[c].text = categories_[c];
  const auto it = boxes_.find(file_name);
  if (it != boxes_.end()) {
    for (const Box& b : it->second) {
      try {
        prompts[b.category].boxes.push_back(
            PromptBox::from_user_xyxy(b.xyxy[0], b.xyxy[1], b.xyxy[2], b.xyxy[3], width, height, b.positive));
      } catch (const std::exception& e) {
        throw std::runtime_error("--box-file: " + std::string(e.what()));
      }
    }
  }
  category_ids.clear();
  std::vector<Prompt> kept;
  for (size_t c = 0; c < prompts.size(); ++c) {
    if (c >= n_text_categories_ && prompts[c].boxes.empty()) continue;
    kept.push_back(std::move(prompts[c]));
    category_ids.push_back(static_cast<int64_t>(c + 1));
  }
  prompts = std::move(kept);
}

}  // namespace sam3::cli
