// sam3.cpp — Python's html.unescape (HTML5 character references), as the CLIP text cleaning applies it.
// ref: sam3/model/tokenizer_ve.py (basic_clean) -> CPython Lib/html/__init__.py (unescape, _replace_charref)
#pragma once
#include "tokenizer/unicode_text.h"

namespace sam3::text {

// Replaces every match of  &(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)  left to right, once
// (replacements are not rescanned):
//   numeric:  Windows-1252 remapping of 0x80..0x9F, 0 -> U+FFFD, CR kept, surrogates and > U+10FFFF -> U+FFFD,
//             the HTML "invalid code points" (C0/C1 controls, U+FDD0..U+FDEF, U+xFFFE/U+xFFFF, ...) -> removed;
//   named:    the full HTML5 table (2,231 names, incl. the 106 legacy names valid without ';'); if the name is not
//             in it, its longest prefix of >= 2 characters that is, followed by the rest; otherwise left as is.
// One deliberate difference: a decimal reference with more than 4,300 digits makes CPython >= 3.11 raise
// ValueError (int() digit limit); here it is simply out of range and becomes U+FFFD.
CodePoints html_unescape(const CodePoints& s);

}  // namespace sam3::text
