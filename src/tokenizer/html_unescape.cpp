// sam3.cpp — Python's html.unescape on code points (see html_unescape.h).
// ref: CPython Lib/html/__init__.py (_invalid_charrefs, _invalid_codepoints, _replace_charref, _charref, unescape)
#include "tokenizer/html_unescape.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

namespace sam3::text {

namespace {

struct Entity {
  const char* name;   // without the leading '&'; with the trailing ';' where the table has it
  const char* value;  // UTF-8
};

constexpr Entity kEntities[] = {
#include "tokenizer/html_entities.inc"
};

// Numeric references 0x80..0x9F are read as Windows-1252 (WHATWG "numeric character reference end state").
constexpr char32_t kCp1252[32] = {
    0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x8D,   0x017D, 0x8F,   0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178};

const Entity* find_entity(std::string_view name) {
  const Entity* begin = std::begin(kEntities);
  const Entity* end = std::end(kEntities);
  const Entity* it = std::lower_bound(begin, end, name, [](const Entity& e, std::string_view n) {
    return std::string_view(e.name) < n;
  });
  return (it != end && std::string_view(it->name) == name) ? it : nullptr;
}

void append_utf8_value(CodePoints& out, const char* utf8) { out += utf8_decode(utf8); }

// ref: _replace_charref, numeric branch. `num` is saturated at 0x110000 (anything larger is out of range too).
void append_numeric(CodePoints& out, char32_t num) {
  if (num == 0) {
    out.push_back(0xFFFD);
  } else if (num == 0x0D) {
    out.push_back(0x0D);
  } else if (num >= 0x80 && num <= 0x9F) {
    out.push_back(kCp1252[num - 0x80]);
  } else if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) {
    out.push_back(0xFFFD);
  } else if ((num >= 0x01 && num <= 0x08) || num == 0x0B || (num >= 0x0E && num <= 0x1F) || num == 0x7F ||
             (num >= 0xFDD0 && num <= 0xFDEF) || (num & 0xFFFE) == 0xFFFE) {
    // _invalid_codepoints: removed
  } else {
    out.push_back(num);
  }
}

bool is_digit(char32_t c) { return c >= '0' && c <= '9'; }
bool is_hex(char32_t c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int hex_value(char32_t c) { return is_digit(c) ? int(c - '0') : int((c | 0x20) - 'a' + 10); }
// [^\t\n\f <&#;]
bool is_name_char(char32_t c) {
  return c != '\t' && c != '\n' && c != '\f' && c != ' ' && c != '<' && c != '&' && c != '#' && c != ';';
}

}  // namespace

CodePoints html_unescape(const CodePoints& s) {
  if (s.find(U'&') == CodePoints::npos) return s;
  CodePoints out;
  out.reserve(s.size());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    if (s[i] != '&') {
      out.push_back(s[i++]);
      continue;
    }
    const size_t j = i + 1;
    if (j < n && s[j] == '#') {
      // &#[0-9]+;?  or  &#[xX][0-9a-fA-F]+;?
      size_t k = j + 1;
      const bool hex = k + 1 < n && (s[k] == 'x' || s[k] == 'X') && is_hex(s[k + 1]);
      if (hex) ++k;
      if (k < n && (hex ? is_hex(s[k]) : is_digit(s[k]))) {
        char32_t num = 0;
        for (; k < n && (hex ? is_hex(s[k]) : is_digit(s[k])); ++k) {
          const char32_t d = hex ? char32_t(hex_value(s[k])) : char32_t(s[k] - '0');
          num = std::min<char32_t>(num * (hex ? 16 : 10) + d, 0x110000);
        }
        if (k < n && s[k] == ';') ++k;
        append_numeric(out, num);
        i = k;
        continue;
      }
      out.push_back(s[i++]);  // '#' cannot start a name: no reference here
      continue;
    }
    // &[^\t\n\f <&#;]{1,32};?
    size_t k = j;
    while (k < n && k - j < 32 && is_name_char(s[k])) ++k;
    if (k == j) {
      out.push_back(s[i++]);
      continue;
    }
    if (k < n && s[k] == ';') ++k;
    const size_t len = k - j;  // the name, code points, ';' included if present
    size_t ascii = 0;          // entity names are ASCII: only an ASCII prefix can match
    while (ascii < len && s[j + ascii] < 0x80) ++ascii;
    std::string name;
    for (size_t t = 0; t < ascii; ++t) name.push_back(static_cast<char>(s[j + t]));
    const Entity* e = ascii == len ? find_entity(name) : nullptr;
    size_t used = len;
    // not in the table: the longest prefix of >= 2 characters that is
    for (size_t x = std::min(len - 1, ascii); !e && x >= 2; --x) {
      e = find_entity(std::string_view(name).substr(0, x));
      used = x;
    }
    if (e) {
      append_utf8_value(out, e->value);
      out.append(s, j + used, len - used);
    } else {
      out.append(s, i, k - i);  // '&' + name, unchanged
    }
    i = k;
  }
  return out;
}

}  // namespace sam3::text
