// sam3.cpp — CLIP text cleaning (see text_clean.h).
#include "tokenizer/text_clean.h"

#include "tokenizer/html_unescape.h"

namespace sam3::text {

namespace {

// ref: str.strip()
CodePoints py_strip(const CodePoints& s) {
  size_t b = 0, e = s.size();
  while (b < e && is_py_space(s[b])) ++b;
  while (e > b && is_py_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// ref: tokenizer_ve.py (whitespace_clean): re.sub(r"\s+", " ", text)
CodePoints collapse_space(const CodePoints& s) {
  CodePoints out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (!is_regex_space(s[i])) {
      out.push_back(s[i++]);
      continue;
    }
    while (i < s.size() && is_regex_space(s[i])) ++i;
    out.push_back(' ');
  }
  return out;
}

}  // namespace

CodePoints clean_lower(std::string_view utf8) {
  CodePoints t = nfc(utf8_decode(utf8));    // ftfy.fix_text (shim: NFC)
  t = html_unescape(html_unescape(t));      // basic_clean
  t = py_strip(t);
  t = py_strip(collapse_space(t));          // whitespace_clean
  return to_lower(t);                       // _clean_lower
}

}  // namespace sam3::text
