// sam3.cpp — Unicode helpers for the tokenizer, on top of ICU's C API (see unicode_text.h).
#include "tokenizer/unicode_text.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <vector>

#include "core/error.h"

namespace sam3::text {

CodePoints utf8_decode(std::string_view s) {
  CodePoints out;
  out.reserve(s.size());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      out.push_back(b0);
      ++i;
      continue;
    }
    int len = 0;
    char32_t c = 0, min = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2, c = b0 & 0x1F, min = 0x80;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3, c = b0 & 0x0F, min = 0x800;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4, c = b0 & 0x07, min = 0x10000;
    }
    bool ok = len > 0 && i + len <= n;
    for (int k = 1; ok && k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      ok = (b & 0xC0) == 0x80;
      c = (c << 6) | (b & 0x3F);
    }
    ok = ok && c >= min && c <= 0x10FFFF && !(c >= 0xD800 && c <= 0xDFFF);
    if (!ok) throw Error("text is not valid UTF-8 (bad byte sequence at byte offset " + std::to_string(i) + ")");
    out.push_back(c);
    i += len;
  }
  return out;
}

void utf8_append(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string utf8_encode(const CodePoints& s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) utf8_append(out, c);
  return out;
}

namespace {

void check(UErrorCode st, const char* what) {
  if (U_FAILURE(st)) throw Error(std::string("ICU ") + what + " failed: " + u_errorName(st));
}

// Code points -> UTF-16 (ICU's string type). Input code points are valid scalar values (see utf8_decode).
std::vector<UChar> to_utf16(const CodePoints& s) {
  std::vector<UChar> out;
  out.reserve(s.size() + 1);
  for (char32_t c : s) {
    if (c < 0x10000) {
      out.push_back(static_cast<UChar>(c));
    } else {
      out.push_back(static_cast<UChar>(U16_LEAD(c)));
      out.push_back(static_cast<UChar>(U16_TRAIL(c)));
    }
  }
  return out;
}

CodePoints from_utf16(const UChar* s, int32_t n) {
  CodePoints out;
  out.reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U16_NEXT(s, i, n, c);
    out.push_back(static_cast<char32_t>(c));
  }
  return out;
}

// Runs an ICU UTF-16 -> UTF-16 transform with the usual preflight-and-retry on U_BUFFER_OVERFLOW_ERROR.
template <typename F>
CodePoints transform16(const CodePoints& s, const char* what, F&& fn) {
  const std::vector<UChar> src = to_utf16(s);
  const auto n = static_cast<int32_t>(src.size());
  std::vector<UChar> dst(src.size() + src.size() / 2 + 8);
  UErrorCode st = U_ZERO_ERROR;
  int32_t len = fn(dst.data(), static_cast<int32_t>(dst.size()), src.data(), n, &st);
  if (st == U_BUFFER_OVERFLOW_ERROR) {
    dst.resize(static_cast<size_t>(len));
    st = U_ZERO_ERROR;
    len = fn(dst.data(), static_cast<int32_t>(dst.size()), src.data(), n, &st);
  }
  if (st == U_STRING_NOT_TERMINATED_WARNING) st = U_ZERO_ERROR;
  check(st, what);
  return from_utf16(dst.data(), len);
}

bool is_ascii(const CodePoints& s) {
  for (char32_t c : s)
    if (c >= 0x80) return false;
  return true;
}

}  // namespace

CodePoints nfc(const CodePoints& s) {
  if (is_ascii(s)) return s;  // ASCII is always in NFC
  UErrorCode st = U_ZERO_ERROR;
  const UNormalizer2* norm = unorm2_getNFCInstance(&st);  // ICU-owned singleton, immutable
  check(st, "unorm2_getNFCInstance");
  return transform16(s, "NFC normalisation", [norm](UChar* d, int32_t cap, const UChar* src, int32_t n, UErrorCode* e) {
    return unorm2_normalize(norm, src, n, d, cap, e);
  });
}

CodePoints to_lower(const CodePoints& s) {
  if (is_ascii(s)) {
    CodePoints out = s;
    for (char32_t& c : out)
      if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
    return out;
  }
  // Locale "" is ICU's root locale: no Turkish/Lithuanian tailoring, like Python's locale-independent lower().
  return transform16(s, "lower-casing", [](UChar* d, int32_t cap, const UChar* src, int32_t n, UErrorCode* e) {
    return u_strToLower(d, cap, src, n, "", e);
  });
}

bool is_py_space(char32_t c) {
  const auto u = static_cast<UChar32>(c);
  if (u_charType(u) == U_SPACE_SEPARATOR) return true;
  const UCharDirection d = u_charDirection(u);
  return d == U_WHITE_SPACE_NEUTRAL || d == U_BLOCK_SEPARATOR || d == U_SEGMENT_SEPARATOR;
}

bool is_regex_space(char32_t c) { return u_isUWhiteSpace(static_cast<UChar32>(c)); }

bool is_letter(char32_t c) { return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_L_MASK) != 0; }

bool is_number(char32_t c) { return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_N_MASK) != 0; }

char32_t simple_fold(char32_t c) {
  return static_cast<char32_t>(u_foldCase(static_cast<UChar32>(c), U_FOLD_CASE_DEFAULT));
}

}  // namespace sam3::text
