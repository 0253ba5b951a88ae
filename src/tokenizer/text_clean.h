// sam3.cpp — the CLIP tokenizer's text cleaning with clean="lower" (the default the text encoder uses).
// ref: sam3/model/tokenizer_ve.py (basic_clean, whitespace_clean, _clean_lower)
#pragma once
#include <string_view>

#include "tokenizer/unicode_text.h"

namespace sam3::text {

// whitespace_clean(basic_clean(text)).lower(), i.e. in order:
//   1. ftfy.fix_text -> NFC only. The golden fixtures were generated with an ftfy shim that does exactly NFC
//      (shared/golden/tokenizer/info.json); real ftfy's other repairs (mojibake, curly quotes, ...) are not done.
//   2. html.unescape twice (html_unescape.h).
//   3. str.strip()  (Python whitespace: Zs or bidi WS/B/S).
//   4. regex \s+ -> ' ' (Unicode White_Space; U+001C..U+001F are not \s but are stripped by 3/5), str.strip().
//   5. str.lower() (full mapping, Final_Sigma).
// Throws sam3::Error if `utf8` is not valid UTF-8.
CodePoints clean_lower(std::string_view utf8);

}  // namespace sam3::text
