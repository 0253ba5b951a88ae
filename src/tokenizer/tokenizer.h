// sam3.cpp — CLIP byte-level BPE tokenizer, exactly as the official text encoder calls it.
// ref: sam3/model/tokenizer_ve.py (SimpleTokenizer), sam3/model/text_encoder_ve.py (VETextEncoder.forward)
//
// Vocabulary: the standard CLIP merges file bpe_simple_vocab_16e6.txt.gz, embedded in the library at build time.
// Ids: 0..255 the byte-unicode characters, 256..511 the same with "</w>", 512..49405 the 48,894 merges (rank =
// id - 512), 49406 <start_of_text>, 49407 <end_of_text>. Id 0 is "!" and doubles as padding.
//
// Text goes through clean_lower (text_clean.h: NFC, html.unescape x2, whitespace collapse, lower), the
// pre-tokenisation scanner (pretokenize.h) and BPE per pre-token. A pre-token that is exactly "<start_of_text>" or
// "<end_of_text>" maps to the special id (user text can contain them, as upstream).
//
// Input must be valid UTF-8: invalid bytes throw sam3::Error (a Python str cannot contain them, so there is no
// reference behaviour to copy; silently replacing them would hide a broken caller).
//
// Thread safety: a Tokenizer is immutable after construction; all methods are const and may be called
// concurrently from any number of threads.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sam3 {

class Tokenizer {
 public:
  static constexpr int32_t kSotId = 49406;     // <start_of_text>
  static constexpr int32_t kEotId = 49407;     // <end_of_text>
  static constexpr int32_t kVocabSize = 49408;
  static constexpr int kTextContextLength = 32;  // what VETextEncoder passes (SimpleTokenizer's default is 77)

  // The tokenizer over the vocabulary embedded in the library (~30 ms CPU: gunzip 3.2 MB + merge table).
  static Tokenizer create();
  // The same from a gzip-compressed merges file held in memory; `source` names it in error messages.
  static Tokenizer from_gzip(const unsigned char* data, size_t size, const std::string& source);

  // Raw BPE ids of `text` without SOT/EOT (SimpleTokenizer.encode). Stops after `max_ids` ids (the result then
  // holds exactly the first max_ids ids of the full encoding).
  std::vector<int32_t> encode(std::string_view text, size_t max_ids = SIZE_MAX) const;

  // SimpleTokenizer(texts, context_length): [SOT] + encode(text) + [EOT]; if longer than context_length, the first
  // context_length ids with the last set to EOT; then right-padded with 0. Returns exactly context_length ids
  // (one row of the (N, context_length) int64 tensor). context_length must be >= 1 (Python would read 0 as 77).
  std::vector<int64_t> tokenize(std::string_view text, int context_length = kTextContextLength) const;

  // Merge rank of the adjacent symbol pair (left, right), or -1 if they do not merge.
  int32_t merge_rank(int32_t left, int32_t right) const;
  // Id of a single byte as a symbol (`end_of_word` selects the "</w>" variant).
  int32_t byte_id(uint8_t b, bool end_of_word) const { return byte_id_[b] + (end_of_word ? 256 : 0); }

 private:
  Tokenizer() = default;
  // BPE of one pre-token given as UTF-8 bytes; appends its ids to `out`.
  void bpe(std::string_view bytes, std::vector<int32_t>& out) const;

  std::array<int32_t, 256> byte_id_{};  // byte -> id of its byte-unicode character (0..255)
  // Merge ranks as an open-addressing hash table (linear probing, power-of-two size, load <= 0.4):
  // slot_key_[i] = left id << 32 | right id (kEmptyKey if unused), slot_rank_[i] its rank; merged id = 512 + rank.
  static constexpr uint64_t kEmptyKey = ~uint64_t{0};
  std::vector<uint64_t> slot_key_;
  std::vector<int32_t> slot_rank_;
  uint64_t slot_mask_ = 0;
};

}  // namespace sam3
