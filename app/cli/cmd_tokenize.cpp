// sam3.cpp — `sam3 tokenize`: the CLIP BPE token ids the text encoder sees for each text.
//   sam3 tokenize [--context N] TEXT...     one line per text: N space-separated ids (SOT ... EOT, 0-padded)
//   sam3 tokenize [--context N] --json      stdin: JSON array of strings; stdout: JSON array of id arrays
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands.h"
#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace sam3::cli {

namespace {

void usage(FILE* out) {
  std::fprintf(out,
               "usage: sam3 tokenize [--context N] TEXT...\n"
               "       sam3 tokenize [--context N] --json < texts.json\n\n"
               "Prints the CLIP BPE token ids of each text as the SAM 3 text encoder sees them:\n"
               "<start_of_text> ids <end_of_text>, truncated to N ids (last = <end_of_text>), padded with 0.\n\n"
               "  --context N  ids per text (default %d, the text encoder's context length)\n"
               "  --json       read a JSON array of strings from stdin, write a JSON array of id arrays\n"
               "  --           end of options (texts that start with '-')\n",
               Tokenizer::kTextContextLength);
}

int parse_context(const char* s) {
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (!*s || *end || v < 1 || v > 1000000) throw Error(std::string("--context: expected an integer >= 1, got '") + s + "'");
  return static_cast<int>(v);
}

std::vector<std::string> read_json_texts() {
  const std::string in((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(std::string("--json: stdin is not valid JSON: ") + e.what());
  }
  if (!doc.is_array()) throw Error(std::string("--json: stdin must be a JSON array of strings, got ") + doc.type_name());
  std::vector<std::string> texts;
  texts.reserve(doc.size());
  for (size_t i = 0; i < doc.size(); ++i) {
    if (!doc[i].is_string())
      throw Error("--json: element " + std::to_string(i) + " is a " + doc[i].type_name() + ", expected a string");
    texts.push_back(doc[i].get<std::string>());
  }
  return texts;
}

}  // namespace

int cmd_tokenize(int argc, char** argv) {
  bool json = false;
  int context = Tokenizer::kTextContextLength;
  std::vector<std::string> texts;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (options_done || a[0] != '-' || !a[1]) {
      texts.emplace_back(a);
    } else if (!std::strcmp(a, "--")) {
      options_done = true;
    } else if (!std::strcmp(a, "--json")) {
      json = true;
    } else if (!std::strcmp(a, "--context")) {
      if (i + 1 >= argc) throw Error("--context needs a value");
      context = parse_context(argv[++i]);
    } else if (!std::strncmp(a, "--context=", 10)) {
      context = parse_context(a + 10);
    } else if (!std::strcmp(a, "--help") || !std::strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "sam3 tokenize: unknown option '%s'\n\n", a);
      usage(stderr);
      return 2;
    }
  }
  if (json && !texts.empty()) throw Error("--json reads the texts from stdin; do not also give them as arguments");
  if (json) texts = read_json_texts();
  if (!json && texts.empty()) {
    usage(stderr);
    return 2;
  }

  const Tokenizer tok = Tokenizer::create();
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (size_t i = 0; i < texts.size(); ++i) {
      try {
        out.push_back(tok.tokenize(texts[i], context));
      } catch (const Error& e) {
        throw Error("--json: element " + std::to_string(i) + ": " + e.what());
      }
    }
    std::cout << out.dump() << "\n";
  } else {
    std::string line;
    for (size_t i = 0; i < texts.size(); ++i) {
      std::vector<int64_t> ids;
      try {
        ids = tok.tokenize(texts[i], context);
      } catch (const Error& e) {
        throw Error("text " + std::to_string(i + 1) + ": " + e.what());
      }
      line.clear();
      for (size_t k = 0; k < ids.size(); ++k) {
        if (k) line += ' ';
        line += std::to_string(ids[k]);
      }
      std::cout << line << "\n";
    }
  }
  std::cout.flush();
  if (!std::cout) throw Error("cannot write to stdout");
  return 0;
}

}  // namespace sam3::cli
