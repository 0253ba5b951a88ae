// The tokenizer against the official SimpleTokenizer: all 2,000 strings of shared/golden/tokenizer/cases.json must
// give exactly the same 32 ids (token ids are integers: no tolerance). Also checks the constants in info.json.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "fixture.h"
#include "tokenizer/tokenizer.h"

namespace sam3 {
namespace {

nlohmann::json read_json(const std::string& rel) {
  const std::string path = test::golden_path(rel);
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot open fixture " + path);
  return nlohmann::json::parse(f);
}

std::string ids_str(const std::vector<int64_t>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? ", " : "") + std::to_string(ids[i]);
  return s + "]";
}

TEST(TokenizerGolden, InfoConstants) {
  const nlohmann::json info = read_json("tokenizer/info.json");
  EXPECT_EQ(info.at("sot_id").get<int>(), Tokenizer::kSotId);
  EXPECT_EQ(info.at("eot_id").get<int>(), Tokenizer::kEotId);
  EXPECT_EQ(info.at("vocab_size").get<int>(), Tokenizer::kVocabSize);
  EXPECT_EQ(info.at("context_length").get<int>(), Tokenizer::kTextContextLength);
}

TEST(TokenizerGolden, AllCasesIdentical) {
  const nlohmann::json cases = read_json("tokenizer/cases.json");
  const nlohmann::json info = read_json("tokenizer/info.json");
  ASSERT_EQ(cases.size(), info.at("n_cases").get<size_t>());
  const int ctx = info.at("context_length").get<int>();
  const Tokenizer tok = Tokenizer::create();
  size_t n_bad = 0;
  std::ostringstream report;
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string text = cases[i].at("text").get<std::string>();
    const std::vector<int64_t> want = cases[i].at("ids").get<std::vector<int64_t>>();
    std::vector<int64_t> got;
    std::string error;
    try {
      got = tok.tokenize(text, ctx);
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (got != want) {
      ++n_bad;
      report << "case " << i << " text " << nlohmann::json(text).dump() << "\n  want " << ids_str(want) << "\n  got  "
             << (error.empty() ? ids_str(got) : "error: " + error) << "\n";
    }
  }
  EXPECT_EQ(n_bad, 0u) << n_bad << " of " << cases.size() << " cases differ:\n" << report.str();
}

}  // namespace
}  // namespace sam3
