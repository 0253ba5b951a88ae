// sam3.cpp — the prompt options of `sam3 segment` and `sam3 compare`: -t TEXT, --box / --neg-box x0,y0,x1,y1, and
// how their command-line order makes prompts (kPromptHelp).
#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "sam3/sam3.h"

namespace sam3::cli {

extern const char* const kPromptHelp;  // the rules below, for the commands' help footers

// A box as given on the command line, checked for what needs no image (four finite numbers, x0 < x1, y0 < y1).
struct PixelBox {
  float xyxy[4];
  bool positive;
  std::string arg;  // as given, for messages

  std::string option() const { return std::string(positive ? "--box" : "--neg-box") + " '" + arg + "'"; }
  // The library's prompt box for a w x h image (PromptBox::from_user_xyxy: checked, clipped); errors name the option.
  PromptBox to_prompt_box(int w, int h) const;
};

// One prompt before the image is known: its text ("" = boxes only) and its boxes in pixels.
struct PixelPrompt {
  std::string text;
  std::vector<PixelBox> boxes;
};

struct PromptOptions {
  std::vector<std::string> texts, boxes, neg_boxes;
  CLI::Option* text_opt = nullptr;
  CLI::Option* box_opt = nullptr;
  CLI::Option* neg_box_opt = nullptr;

  void add_to(CLI::App& app);
  bool empty() const { return texts.empty() && boxes.empty() && neg_boxes.empty(); }
  // A usage error for a blank -t, or "".
  std::string blank_text_error() const;
  // After app.parse: the prompts in command-line order (a box joins the prompt of the last -t before it, the first
  // -t's if none; no -t: one boxes-only prompt). Throws sam3::Error naming the option for a bad box.
  std::vector<PixelPrompt> prompts(const CLI::App& app) const;
};

// "a,b,c,..." -> exactly n finite numbers (whitespace allowed around each). Errors name `opt` and the argument:
// "<opt> '<s>': expected <expected>" when there are too few, "<opt> '<s>': '<part>' is not a number<hint>".
std::vector<float> parse_numbers(const std::string& opt, const std::string& s, size_t n, const std::string& expected,
                                 const std::string& hint = "");

// The library's prompts for a w x h image (boxes clipped; a box wholly outside is an error naming the option).
std::vector<Prompt> to_prompts(const std::vector<PixelPrompt>& pending, int w, int h);

}  // namespace sam3::cli
