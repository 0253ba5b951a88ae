// sam3.cpp — CLIP pre-tokenisation scanner (see pretokenize.h).
#include "tokenizer/pretokenize.h"

namespace sam3::text {

namespace {

// Matches the ASCII literal `lit` at s[pos..] case-insensitively; returns its length or 0.
size_t match_literal(const CodePoints& s, size_t pos, const char* lit) {
  size_t k = 0;
  for (; lit[k]; ++k) {
    if (pos + k >= s.size()) return 0;
    if (simple_fold(s[pos + k]) != simple_fold(static_cast<char32_t>(lit[k]))) return 0;
  }
  return k;
}

// [^\s\p{L}\p{N}] under IGNORECASE: the character and its case fold are neither letter nor number.
bool is_other(char32_t c) {
  if (is_regex_space(c) || is_letter(c) || is_number(c)) return false;
  const char32_t f = simple_fold(c);
  return !(is_letter(f) || is_number(f));
}

constexpr const char* kLiterals[] = {"<start_of_text>", "<end_of_text>", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};

}  // namespace

bool next_pretoken(const CodePoints& s, size_t& pos, size_t& begin, size_t& end) {
  const size_t n = s.size();
  for (; pos < n; ++pos) {
    size_t len = 0;
    if (s[pos] == '<' || s[pos] == '\'') {  // the only characters case-equal to the literals' first ones
      for (const char* lit : kLiterals)
        if ((len = match_literal(s, pos, lit)) != 0) break;
    }
    if (len == 0) {
      if (is_letter(s[pos])) {
        while (pos + len < n && is_letter(s[pos + len])) ++len;
      } else if (is_number(s[pos])) {
        len = 1;  // each digit is its own token
      } else if (is_other(s[pos])) {
        while (pos + len < n && is_other(s[pos + len])) ++len;
      }
    }
    if (len != 0) {
      begin = pos;
      end = pos = pos + len;
      return true;
    }
  }
  return false;
}

std::vector<std::pair<size_t, size_t>> pretokenize(const CodePoints& s) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t pos = 0, b = 0, e = 0;
  while (next_pretoken(s, pos, b, e)) out.emplace_back(b, e);
  return out;
}

}  // namespace sam3::text
