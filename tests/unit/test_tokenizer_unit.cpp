// Unit tests of the CLIP tokenizer pieces: UTF-8 handling, html.unescape, cleaning, the pre-tokenisation scanner,
// BPE, framing/truncation/padding. Expected ids and strings were produced by the official SimpleTokenizer
// (sam3/model/tokenizer_ve.py, ftfy shim = NFC as for the golden fixtures) and CPython 3.11's html.unescape.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "tokenizer/html_unescape.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/text_clean.h"
#include "tokenizer/tokenizer.h"

namespace sam3 {
namespace {

using text::CodePoints;

const Tokenizer& tok() {
  static const Tokenizer t = Tokenizer::create();  // test-only cache: construction is the same every time
  return t;
}

// The framed ids up to and including the EOT (i.e. without the padding), checking that the rest is padding.
std::vector<int64_t> framed(const std::string& s, int ctx = 32) {
  std::vector<int64_t> ids = tok().tokenize(s, ctx);
  EXPECT_EQ(ids.size(), static_cast<size_t>(ctx));
  size_t n = 0;
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] == Tokenizer::kEotId) n = i + 1;
  for (size_t i = n; i < ids.size(); ++i) EXPECT_EQ(ids[i], 0) << "padding at " << i << " for '" << s << "'";
  ids.resize(n);
  return ids;
}

using V = std::vector<int64_t>;

std::string u8(const CodePoints& s) { return text::utf8_encode(s); }
std::string unescape(const std::string& s) { return u8(text::html_unescape(text::utf8_decode(s))); }

TEST(Tokenizer, SpecExamples) {
  // sam3/model/tokenizer_ve.py behaviour (the fixture README's examples)
  std::vector<int64_t> a_dog(32, 0);
  a_dog[0] = 49406, a_dog[1] = 320, a_dog[2] = 1929, a_dog[3] = 49407;
  EXPECT_EQ(tok().tokenize("a dog"), a_dog);
  EXPECT_EQ(framed("visual"), (V{49406, 7195, 49407}));
  EXPECT_EQ(framed("Red  Car's wheel!"), (V{49406, 736, 1615, 568, 6744, 256, 49407}));
}

TEST(Tokenizer, EncodeIsRawBpeIds) {
  EXPECT_EQ(tok().encode("hello world foo bar"), (std::vector<int32_t>{3306, 1002, 23435, 2411}));
  EXPECT_EQ(tok().encode("hello world foo bar", 2), (std::vector<int32_t>{3306, 1002}));
  EXPECT_TRUE(tok().encode("").empty());
  EXPECT_TRUE(tok().encode("  \t\n ").empty());
}

TEST(Tokenizer, ExclamationMarkIsIdZero) {
  // "!" alone is the end-of-word symbol "!</w>" (256); as a non-final symbol it is "!" = id 0, the padding id.
  EXPECT_EQ(framed("!"), (V{49406, 256, 49407}));
  EXPECT_EQ(framed("!["), (V{49406, 0, 314, 49407}));
  EXPECT_EQ(framed("!;"), (V{49406, 0, 282, 49407}));
  EXPECT_EQ(framed("!!"), (V{49406, 748, 49407}));  // merged: no id 0
  EXPECT_EQ(tok().byte_id('!', false), 0);
  EXPECT_EQ(tok().byte_id('!', true), 256);
}

TEST(Tokenizer, SpecialTokensInText) {
  EXPECT_EQ(framed("<start_of_text>"), (V{49406, 49406, 49407}));
  EXPECT_EQ(framed("<END_OF_TEXT>"), (V{49406, 49407, 49407}));  // lower-cased first
  EXPECT_EQ(framed("a<start_of_text>b"), (V{49406, 320, 49406, 321, 49407}));
  // IGNORECASE matches U+017F LONG S for 's', but the piece is not the exact special string: BPE as text
  EXPECT_EQ(framed("<\u017ftart_of_text>"), (V{49406, 27, 129, 123, 16707, 62, 684, 62, 18169, 285, 49407}));
}

TEST(Tokenizer, Contractions) {
  EXPECT_EQ(framed("don't"), (V{49406, 847, 713, 49407}));
  EXPECT_EQ(framed("we're"), (V{49406, 649, 982, 49407}));
  EXPECT_EQ(framed("IT'S"), (V{49406, 585, 568, 49407}));
  EXPECT_EQ(framed("it'\u017f"), (V{49406, 585, 6, 129, 379, 49407}));  // "'ſ" matches 's (case-insensitive)
}

TEST(Tokenizer, DigitsAreSingleTokens) {
  EXPECT_EQ(framed("abc123"), (V{49406, 5334, 272, 273, 274, 49407}));
  EXPECT_EQ(framed("\u0663"), (V{49406, 149, 352, 49407}));  // ARABIC-INDIC DIGIT THREE
  EXPECT_EQ(framed("\u00bd"), (V{49406, 33613, 49407}));     // VULGAR FRACTION ONE HALF (No)
}

TEST(Tokenizer, UnicodeCleaning) {
  EXPECT_EQ(framed("caf\u00e9"), (V{49406, 15304, 49407}));
  EXPECT_EQ(framed("cafe\u0301"), (V{49406, 15304, 49407}));  // NFC
  EXPECT_EQ(framed("\u0130"), (V{49406, 328, 16384, 49407}));  // lower() expands to "i\u0307"
  EXPECT_EQ(framed("\u039f\u0394\u039f\u03a3"), (V{49406, 138, 123, 138, 112, 138, 123, 139, 480, 49407}));  // final ς
  EXPECT_EQ(framed("\U0001F436"), (V{49406, 10631, 49407}));
  EXPECT_EQ(framed("\xef\xbc\xa1\xef\xbc\xa2"), (V{49406, 171, 121, 223, 171, 121, 480, 49407}));  // no NFKC
}

TEST(Tokenizer, Whitespace) {
  EXPECT_EQ(framed("hello   world\n"), (V{49406, 3306, 1002, 49407}));
  EXPECT_EQ(framed("a\u3000\u3000b"), (V{49406, 320, 321, 49407}));
  // U+001C is str.isspace() (stripped at the ends) but not regex \s (a symbol in the middle)
  EXPECT_EQ(framed("a\x1c" "b"), (V{49406, 320, 472, 321, 49407}));
  EXPECT_EQ(framed("\x1c a \x1c"), (V{49406, 320, 49407}));
  // U+0345 matches no alternative of the IGNORECASE pattern: dropped like whitespace
  EXPECT_EQ(framed("x\u0345y"), (V{49406, 343, 344, 49407}));
  EXPECT_EQ(framed("\u0345"), (V{49406, 49407}));
  EXPECT_EQ(framed(""), (V{49406, 49407}));
}

TEST(Tokenizer, HtmlEntitiesInText) {
  EXPECT_EQ(framed("&amp;lt;"), (V{49406, 283, 49407}));  // unescaped twice: "<"
  EXPECT_EQ(framed("R&amp;D"), (V{49406, 337, 261, 323, 49407}));
  EXPECT_EQ(framed("&amp"), (V{49406, 261, 49407}));
  EXPECT_EQ(framed("&#x263A;"), (V{49406, 8703, 49407}));
  EXPECT_EQ(framed("a&#11;b"), (V{49406, 3937, 49407}));  // invalid code point removed: "ab"
  EXPECT_EQ(framed("&#1114112;"), (V{49406, 39802, 49407}));  // U+FFFD
}

TEST(Tokenizer, TruncationAndPadding) {
  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += "a ";
  std::vector<int64_t> ids = tok().tokenize(long_text);
  ASSERT_EQ(ids.size(), 32u);
  EXPECT_EQ(ids[0], Tokenizer::kSotId);
  for (int i = 1; i < 31; ++i) EXPECT_EQ(ids[i], 320) << i;
  EXPECT_EQ(ids[31], Tokenizer::kEotId);
  // exactly 30 words fit: SOT + 30 + EOT = 32, no truncation, no padding
  std::string thirty;
  for (int i = 0; i < 30; ++i) thirty += "a ";
  ids = tok().tokenize(thirty);
  EXPECT_EQ(ids[30], 320);
  EXPECT_EQ(ids[31], Tokenizer::kEotId);
  // other context lengths, as SimpleTokenizer.__call__ does them
  EXPECT_EQ(tok().tokenize("hello world", 1), (V{49407}));
  EXPECT_EQ(tok().tokenize("", 1), (V{49407}));
  EXPECT_EQ(tok().tokenize("hello world", 2), (V{49406, 49407}));
  EXPECT_EQ(tok().tokenize("hello world", 3), (V{49406, 3306, 49407}));
  EXPECT_EQ(tok().tokenize("hello world", 4), (V{49406, 3306, 1002, 49407}));
  EXPECT_EQ(tok().tokenize("hello world", 6), (V{49406, 3306, 1002, 49407, 0, 0}));
  EXPECT_EQ(tok().tokenize("hello world", 77).size(), 77u);
  EXPECT_THROW(tok().tokenize("x", 0), Error);
  EXPECT_THROW(tok().tokenize("x", -5), Error);
}

TEST(Tokenizer, LongWordBpe) {
  // Long pieces exercise the heap-based BPE (many merges of equal rank, overlapping occurrences).
  std::vector<int32_t> want(37, 23126);
  want.push_back(19336);
  EXPECT_EQ(tok().encode(std::string(300, 'a')), want);
  std::string abra;
  for (int i = 0; i < 5; ++i) abra += "abracadabra";
  EXPECT_EQ(tok().encode(abra), (std::vector<int32_t>{596, 1773, 594, 10694, 596, 1773, 594, 10694, 596, 1773, 594,
                                                      10694, 596, 1773, 594, 10694, 596, 1773, 594, 35087}));
  EXPECT_EQ(tok().encode(std::string(300, 'a') + " b", 5), std::vector<int32_t>(5, 23126));
}

TEST(Tokenizer, InvalidUtf8IsRejected) {
  const char* bad[] = {
      "\x80",              // lone continuation byte
      "a\xc0\x80",         // overlong NUL
      "\xe0\x80\xaf",      // overlong '/'
      "\xed\xa0\x80",      // UTF-16 surrogate
      "\xf4\x90\x80\x80",  // above U+10FFFF
      "\xf5\x80\x80\x80",  // invalid lead byte
      "abc\xe2\x82",       // truncated sequence
      "\xff",
  };
  for (const char* s : bad) {
    try {
      tok().tokenize(s);
      ADD_FAILURE() << "no error for invalid UTF-8";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("not valid UTF-8"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("byte offset"), std::string::npos) << e.what();
    }
  }
  // NUL and other controls are valid text
  EXPECT_EQ(tok().tokenize(std::string("a\0b", 3)).size(), 32u);
}

TEST(Tokenizer, ConcurrentUseGivesSameIds) {
  const std::vector<std::string> texts = {"a dog", "yellow school bus", "&amp;lt; caf\u00e9 \u0130", "123 !["};
  std::vector<std::vector<int64_t>> want;
  for (const auto& t : texts) want.push_back(tok().tokenize(t));
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([&, k] {
      for (int rep = 0; rep < 200; ++rep)
        for (size_t i = 0; i < texts.size(); ++i)
          if (tok().tokenize(texts[i]) != want[i]) ++failures[k];
    });
  for (auto& t : threads) t.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

TEST(Tokenizer, BadVocabularyIsRejected) {
  const unsigned char not_gzip[] = {'h', 'e', 'l', 'l', 'o'};
  EXPECT_THROW(Tokenizer::from_gzip(not_gzip, sizeof not_gzip, "test.gz"), Error);
  EXPECT_THROW(Tokenizer::from_gzip(not_gzip, 0, "test.gz"), Error);
  // gzip of "#version\ni n\n": valid, but far too few merges
  const unsigned char few[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x53, 0x2e, 0x4b, 0x2d,
                               0x2a, 0xce, 0xcc, 0xcf, 0xe3, 0xca, 0x54, 0xc8, 0xe3, 0x02, 0x00, 0x2b, 0x75, 0x7a,
                               0x7f, 0x0d, 0x00, 0x00, 0x00};
  // a truncated copy of it is not a complete gzip stream
  EXPECT_THROW(Tokenizer::from_gzip(few, sizeof few - 8, "cut.gz"), Error);
  try {
    Tokenizer::from_gzip(few, sizeof few, "few.gz");
    ADD_FAILURE() << "no error for a vocabulary with too few merges";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("few.gz"), std::string::npos) << e.what();
  }
}

TEST(Tokenizer, MergeRanks) {
  // ids 512.. are the merges in file order: the first merge line is "i n"
  EXPECT_EQ(tok().merge_rank(tok().byte_id('i', false), tok().byte_id('n', false)), 0);
  EXPECT_EQ(tok().merge_rank(tok().byte_id('!', false), tok().byte_id('!', false)) >= 0, true);
  EXPECT_EQ(tok().merge_rank(tok().byte_id('q', true), tok().byte_id('q', false)), -1);  // "q</w>" never merges
}

// ---- html.unescape ---------------------------------------------------------------------------------------------

TEST(HtmlUnescape, MatchesPython) {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {"&amp;lt;", "&lt;"},
      {"&ampxyz;", "&xyz;"},           // longest known prefix (legacy name without ';')
      {"&notit;", "\u00acit;"},
      {"&#x80;", "\u20ac"},            // Windows-1252 remap
      {"&#X9F", "\u0178"},
      {"&#13;", "\r"},
      {"&#0;", "\ufffd"},
      {"&#xD800;", "\ufffd"},
      {"&#1114112;", "\ufffd"},
      {"&#99999999999999999999999;", "\ufffd"},
      {"&#65", "A"},
      {"&#65;x", "Ax"},
      {"&#0000065;", "A"},
      {"&#x;", "&#x;"},
      {"&#;", "&#;"},
      {"&#", "&#"},
      {"&", "&"},
      {"&lt", "<"},
      {"&LT;", "<"},
      {"&nbsp", "\u00a0"},
      {"&#11;", ""},                   // invalid code points are removed
      {"&#xFDD0;", ""},
      {"&#x10FFFF;", ""},
      {"&#x81;", "\u0081"},
      {"&a", "&a"},
      {"&ab;", "&ab;"},
      {"&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;", "&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;"},
      {"&gt&lt;", "><"},
      {"&\u00e9;", "&\u00e9;"},
      {"&amp\u00e9", "&\u00e9"},
      {"&amp\u00e9;", "&\u00e9;"},
      {"&NotEqualTilde;", "\u2242\u0338"},  // two code points
      {"&\rlt;", "&\rlt;"},
      {"no entities", "no entities"},
  };
  for (const Case& c : cases) EXPECT_EQ(unescape(c.in), c.out) << "input '" << c.in << "'";
}

// ---- cleaning and pre-tokenisation ---------------------------------------------------------------------------

TEST(TextClean, Steps) {
  EXPECT_EQ(u8(text::clean_lower("  Hello\t\tWORLD  ")), "hello world");
  EXPECT_EQ(u8(text::clean_lower("&amp;amp;")), "&");
  EXPECT_EQ(u8(text::clean_lower("\u0130")), "i\u0307");
  EXPECT_EQ(u8(text::clean_lower("\u039f\u0394\u039f\u03a3 \u03a3")), "\u03bf\u03b4\u03bf\u03c2 \u03c3");
  EXPECT_EQ(u8(text::clean_lower("a&nbsp;&nbsp;b")), "a b");  // entities first, then \s+ collapse
}

TEST(PreTokenize, Pieces) {
  const CodePoints s = text::utf8_decode("it's 12ab--cd <end_of_text>x \u4e2d\u6587!?");
  std::vector<std::string> got;
  for (auto [b, e] : text::pretokenize(s)) got.push_back(u8(s.substr(b, e - b)));
  EXPECT_EQ(got, (std::vector<std::string>{"it", "'s", "1", "2", "ab", "--", "cd", "<end_of_text>", "x",
                                           "\u4e2d\u6587", "!?"}));
}

}  // namespace
}  // namespace sam3
