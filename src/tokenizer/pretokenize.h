// sam3.cpp — the CLIP pre-tokenisation regex, hand-coded as a scanner.
// ref: sam3/model/tokenizer_ve.py (SimpleTokenizer.__init__: self.pat, SimpleTokenizer.encode: re.findall)
#pragma once
#include <cstddef>
#include <utility>
#include <vector>

#include "tokenizer/unicode_text.h"

namespace sam3::text {

// The pattern (Python `regex`, IGNORECASE), alternatives tried in this order at each position:
//   <start_of_text> | <end_of_text> | 's | 't | 're | 've | 'm | 'll | 'd | [\p{L}]+ | [\p{N}] | [^\s\p{L}\p{N}]+
// A position where none matches (whitespace) is skipped. IGNORECASE details that matter on lower-cased text:
//   - literals compare by simple case folding, so "'\u017F" (LONG S) matches 's and "<\u017Ftart_of_text>"
//     matches the first alternative (it is then BPE-encoded as text, not mapped to the special id);
//   - [^\s\p{L}\p{N}] excludes characters whose case fold is a letter or number: U+0345 (COMBINING GREEK
//     YPOGEGRAMMENI) therefore matches no alternative and is dropped like whitespace.
// Finds the next pre-token at or after `pos`; on success sets [begin, end) and pos = end.
bool next_pretoken(const CodePoints& s, size_t& pos, size_t& begin, size_t& end);

// All pre-tokens of `s` as [begin, end) ranges (re.findall).
std::vector<std::pair<size_t, size_t>> pretokenize(const CodePoints& s);

}  // namespace sam3::text
