// sam3.cpp — `sam3 batch`'s prompts: one category per -t text, plus the per-image exemplar boxes of --box-file.
//
// Box file (JSON): image file name (as the inputs list it, e.g. "photos/a.jpg") -> its boxes, in pixels:
//   {"photos/a.jpg": [{"box": [x0, y0, x1, y1]}, {"box": [...], "positive": false, "text": "dog"}]}
// A box with a "text" joins that -t prompt on that image; a box without one joins the boxes-only prompt (the text
// "visual", as `sam3 segment --box` with no -t), whose category "visual" is added after the -t ones unless -t visual
// was given. Within a prompt, boxes keep the file's order.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sam3/sam3.h"

namespace sam3::cli {

class BatchPrompts {
 public:
  // Throws std::runtime_error naming the problem: a text given twice, an unreadable or malformed box file, a box
  // with a text no -t gave, an image the inputs do not have, a non-finite or degenerate box.
  BatchPrompts(const std::vector<std::string>& texts, const std::string& box_file,
               const std::vector<std::string>& image_files);

  const std::vector<std::string>& categories() const { return categories_; }  // category id = index + 1
  const std::string& digest() const { return digest_; }  // of the box file's contents; "" without one

  // The prompts for one image of `width` x `height` pixels and the category id of each. A category whose prompt
  // would be empty on this image (the added "visual" one, when the image has no text-less boxes) is left out.
  // Throws std::runtime_error (naming the box) for a box with no area inside the image.
  void for_image(const std::string& file_name, int width, int height, std::vector<Prompt>& prompts,
                 std::vector<int64_t>& category_ids) const;

 private:
  struct Box {
    float xyxy[4];
    bool positive;
    size_t category;  // index into categories_
  };
  std::vector<std::string> categories_;
  size_t n_text_categories_ = 0;                   // categories_[0, n): the -t texts, run on every image
  std::map<std::string, std::vector<Box>> boxes_;  // by image file name
  std::string digest_;
};

}  // namespace sam3::cli
