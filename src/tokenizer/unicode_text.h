// sam3.cpp — the Unicode operations the CLIP tokenizer's text cleaning needs, with Python's semantics
// (str.strip / str.lower, unicodedata NFC, the `regex` module's \s, \p{L}, \p{N}). All character data comes from
// ICU (Debian libicu); nothing here is a hand-written Unicode table.
// ref: sam3/model/tokenizer_ve.py (basic_clean, whitespace_clean, SimpleTokenizer.pat)
#pragma once
#include <string>
#include <string_view>

namespace sam3::text {

// A string as Unicode code points (what a Python str is).
using CodePoints = std::u32string;

// Strict UTF-8 decoding (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF, no truncated
// sequences). Invalid input throws sam3::Error naming the byte offset; a Python str cannot hold such bytes, so
// they can only come from our own front ends and are rejected rather than silently replaced.
CodePoints utf8_decode(std::string_view s);
void utf8_append(std::string& out, char32_t c);
std::string utf8_encode(const CodePoints& s);

// unicodedata.normalize("NFC", s).
CodePoints nfc(const CodePoints& s);
// str.lower(): full lower-case mapping (U+0130 -> "i\u0307"), Final_Sigma context, no locale tailoring.
CodePoints to_lower(const CodePoints& s);

// str.isspace() for one character (used by str.strip()): general category Zs, or bidi class WS, B or S.
bool is_py_space(char32_t c);
// The `regex` module's \s (Unicode White_Space). Differs from is_py_space on U+001C..U+001F.
bool is_regex_space(char32_t c);
// \p{L}: general category Lu, Ll, Lt, Lm or Lo.
bool is_letter(char32_t c);
// \p{N}: general category Nd, Nl or No.
bool is_number(char32_t c);
// Simple case folding (what an IGNORECASE literal compares), e.g. U+017F LONG S -> 's'.
char32_t simple_fold(char32_t c);

}  // namespace sam3::text
