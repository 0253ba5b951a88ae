// sam3.cpp — the prompt options of `sam3 segment` and `sam3 compare` (see prompt_options.h).
#include "prompt_options.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "core/error.h"

namespace sam3::cli {

const char* const kPromptHelp = R"(
How -t and boxes make prompts:
  * every -t TEXT is one prompt (a noun phrase, e.g. -t "yellow school bus"); each prompt gets its own instances.
  * --box / --neg-box x0,y0,x1,y1 are exemplar boxes in pixels of the original image (x0 < x1, y0 < y1; a box that
    extends past the edge is clipped to the image, one entirely outside is an error). A box belongs to the prompt of the nearest -t BEFORE it;
    boxes given before the first -t belong to the first -t's prompt. Within a prompt, boxes keep their order.
  * no -t at all: the boxes form one boxes-only prompt (the model then reads the text "visual", as the official
    processor does; `-t visual --box ...` is the same prompt).
  Example: -t dog --box 10,20,200,240 -t cat --neg-box 300,40,380,120   -> two prompts: dog + 1 positive box,
  cat + 1 negative box.)";

namespace {

// "x0,y0,x1,y1", checked now (PromptBox::check_user_xyxy) so that a degenerate box fails before the model is
// loaded; the image-dependent checks come with the image.
PixelBox parse_box(const std::string& s, bool positive) {
  PixelBox b{{0, 0, 0, 0}, positive, s};
  const std::vector<float> v = parse_numbers(positive ? "--box" : "--neg-box", s, 4,
                                             "four numbers x0,y0,x1,y1 (pixels of the original image)",
                                             " (expected x0,y0,x1,y1)");
  std::copy(v.begin(), v.end(), b.xyxy);
  try {
    PromptBox::check_user_xyxy(b.xyxy[0], b.xyxy[1], b.xyxy[2], b.xyxy[3]);
  } catch (const Error& e) {
    throw Error(b.option() + ": " + e.what());
  }
  return b;
}

}  // namespace

std::vector<float> parse_numbers(const std::string& opt, const std::string& s, size_t n, const std::string& expected,
                                 const std::string& hint) {
  std::vector<float> v;
  size_t start = 0;
  for (size_t k = 0; k < n; ++k) {
    const size_t end = k + 1 < n ? s.find(',', start) : s.size();
    if (end == std::string::npos) throw Error(opt + " '" + s + "': expected " + expected);
    const std::string part = s.substr(start, end - start);
    char* stop = nullptr;
    const double x = std::strtod(part.c_str(), &stop);
    while (stop && (*stop == ' ' || *stop == '\t')) ++stop;
    if (part.find_first_not_of(" \t") == std::string::npos || !stop || *stop != '\0' || !std::isfinite(x))
      throw Error(opt + " '" + s + "': '" + part + "' is not a number" + hint);
    v.push_back(static_cast<float>(x));
    start = end + 1;
  }
  return v;
}

PromptBox PixelBox::to_prompt_box(int w, int h) const {
  try {
    return PromptBox::from_user_xyxy(xyxy[0], xyxy[1], xyxy[2], xyxy[3], w, h, positive);
  } catch (const Error& e) {
    throw Error(option() + ": " + e.what());
  }
}

void PromptOptions::add_to(CLI::App& app) {
  text_opt = app.add_option("-t,--text", texts, "text prompt; repeat for several prompts")
                 ->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  box_opt = app.add_option("--box", boxes, "positive exemplar box x0,y0,x1,y1 (pixels); repeatable")
                ->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  neg_box_opt = app.add_option("--neg-box", neg_boxes, "negative exemplar box x0,y0,x1,y1 (pixels); repeatable")
                    ->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

std::string PromptOptions::blank_text_error() const {
  for (const std::string& t : texts)
    if (t.find_first_not_of(" \t\r\n") == std::string::npos) return "empty text prompt (-t '" + t + "')";
  return "";
}

std::vector<PixelPrompt> PromptOptions::prompts(const CLI::App& app) const {
  std::vector<PixelPrompt> out;
  std::vector<PixelBox> before_first;
  size_t ti = 0, bi = 0, ni = 0;
  for (const CLI::Option* o : app.parse_order()) {
    if (o == text_opt) {
      out.push_back(PixelPrompt{texts.at(ti++), {}});
    } else if (o == box_opt || o == neg_box_opt) {
      PixelBox b = o == box_opt ? parse_box(boxes.at(bi++), true) : parse_box(neg_boxes.at(ni++), false);
      (out.empty() ? before_first : out.back().boxes).push_back(b);
    }
  }
  if (out.empty()) out.push_back(PixelPrompt{"", {}});
  out.front().boxes.insert(out.front().boxes.begin(), before_first.begin(), before_first.end());
  return out;
}

std::vector<Prompt> to_prompts(const std::vector<PixelPrompt>& pending, int w, int h) {
  std::vector<Prompt> prompts;
  for (const PixelPrompt& p : pending) {
    Prompt q;
    q.text = p.text;
    for (const PixelBox& b : p.boxes) q.boxes.push_back(b.to_prompt_box(w, h));
    prompts.push_back(std::move(q));
  }
  return prompts;
}

}  // namespace sam3::cli
