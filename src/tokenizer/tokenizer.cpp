// sam3.cpp — CLIP byte-level BPE tokenizer (see tokenizer.h).
// ref: sam3/model/tokenizer_ve.py (bytes_to_unicode, SimpleTokenizer.__init__, bpe, encode, __call__)
#include "tokenizer/tokenizer.h"

#include <zlib.h>

#include <algorithm>
#include <climits>

#include "core/error.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/text_clean.h"

extern "C" const unsigned char sam3_bpe_vocab_gz[];
extern "C" const size_t sam3_bpe_vocab_gz_size;

namespace sam3 {

namespace {

constexpr int32_t kNumMerges = 49152 - 256 - 2;  // merges[1 : 49152-256-2+1]: 48,894 lines after the header
constexpr int32_t kFirstMergeId = 512;
constexpr std::u32string_view kSotText = U"<start_of_text>";
constexpr std::u32string_view kEotText = U"<end_of_text>";

uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

// Fibonacci hashing of a 64-bit key (the table index is taken from the high bits' mix, masked).
uint64_t mix(uint64_t k) { return (k * 0x9E3779B97F4A7C15ull) >> 20; }

// Token text -> id while reading the merges. The texts live back to back in one arena, addressed by offsets;
// open addressing keeps construction free of per-token allocations.
class TokenIndex {
 public:
  explicit TokenIndex(size_t arena_bytes, size_t max_tokens) : slots_(size_t{1} << 17, -1) {
    while (slots_.size() < max_tokens * 2) slots_.resize(slots_.size() * 2, -1);
    arena_.reserve(arena_bytes);
    off_.reserve(max_tokens + 1);
    off_.push_back(0);
  }
  // Appends the text of token `id` (ids must be added in order 0, 1, 2, ...); false if the text already exists.
  bool add(std::string_view a, std::string_view b = {}) {
    const size_t start = arena_.size();
    arena_.append(a).append(b);
    const std::string_view t(arena_.data() + start, arena_.size() - start);
    const auto id = static_cast<int32_t>(off_.size() - 1);
    size_t i = slot_of(t);
    if (slots_[i] >= 0) {
      arena_.resize(start);
      return false;
    }
    slots_[i] = id;
    off_.push_back(arena_.size());
    return true;
  }
  int32_t find(std::string_view t) const { return slots_[slot_of(t)]; }

 private:
  std::string_view text(int32_t id) const { return {arena_.data() + off_[id], off_[id + 1] - off_[id]}; }
  // The slot holding `t`, or the empty slot where it would go.
  size_t slot_of(std::string_view t) const {
    const size_t mask = slots_.size() - 1;
    for (size_t i = std::hash<std::string_view>{}(t) & mask;; i = (i + 1) & mask)
      if (slots_[i] < 0 || text(slots_[i]) == t) return i;
  }
  std::string arena_;
  std::vector<size_t> off_;     // token id -> start in arena_ (and end = next start)
  std::vector<int32_t> slots_;  // -1 = empty
};

// gunzip of a whole in-memory .gz file.
std::string gunzip(const unsigned char* data, size_t size, const std::string& source) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) throw Error(source + ": zlib inflateInit2 failed");
  std::string out(std::max<size_t>(size * 3, 1 << 16), '\0');
  zs.next_in = const_cast<Bytef*>(data);
  int rc = Z_OK;
  size_t have = 0;
  for (;;) {
    if (have == out.size()) out.resize(out.size() * 2);
    // zlib's avail_in/avail_out are 32-bit: hand over at most UINT_MAX at a time
    const size_t in_left = size - static_cast<size_t>(zs.next_in - data);
    zs.avail_in = static_cast<uInt>(std::min<size_t>(in_left, UINT_MAX));
    zs.next_out = reinterpret_cast<Bytef*>(&out[have]);
    zs.avail_out = static_cast<uInt>(std::min<size_t>(out.size() - have, UINT_MAX));
    const uInt before = zs.avail_out;
    rc = inflate(&zs, Z_NO_FLUSH);
    have += before - zs.avail_out;
    if (rc != Z_OK) break;  // Z_STREAM_END, or an error (Z_BUF_ERROR here: the input ended early)
  }
  const std::string msg = zs.msg ? zs.msg : "truncated or corrupt data";
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) throw Error(source + ": cannot gunzip the BPE vocabulary (" + msg + ")");
  out.resize(have);
  return out;
}

}  // namespace

Tokenizer Tokenizer::create() {
  return from_gzip(sam3_bpe_vocab_gz, sam3_bpe_vocab_gz_size, "embedded bpe_simple_vocab_16e6.txt.gz");
}

Tokenizer Tokenizer::from_gzip(const unsigned char* data, size_t size, const std::string& source) {
  const std::string text = gunzip(data, size, source);
  Tokenizer t;

  // ref: bytes_to_unicode: printable bytes map to themselves, the other 68 bytes to U+0100.. in increasing order;
  // the vocabulary lists them in that order (ids 0..255), then the same with "</w>" (ids 256..511).
  std::array<char32_t, 256> byte_char{};
  std::array<int, 256> id_byte{};
  int32_t next_id = 0, extra = 0;
  auto printable = [](int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE); };
  for (int pass = 0; pass < 2; ++pass)
    for (int b = 0; b < 256; ++b)
      if (printable(b) == (pass == 0)) {
        byte_char[b] = pass == 0 ? char32_t(b) : char32_t(256 + extra++);
        id_byte[next_id] = b;
        t.byte_id_[b] = next_id++;
      }
  TokenIndex index(text.size() + 4096, kFirstMergeId + kNumMerges);  // token text -> id, only while reading merges
  for (int end_of_word = 0; end_of_word < 2; ++end_of_word)
    for (int id = 0; id < 256; ++id) {
      std::string s;
      text::utf8_append(s, byte_char[id_byte[id]]);
      index.add(s, end_of_word ? "</w>" : "");
    }

  // ref: SimpleTokenizer.__init__: merges = lines[1 : 48895], rank = index, merged token id = 512 + rank.
  // Every merge must combine tokens that already exist (made by an earlier merge): that makes the heap-based BPE
  // in bpe() give exactly the result of upstream's "merge the lowest-ranked pair everywhere, repeat" loop.
  size_t slots = 1;
  while (slots * 2 < size_t{kNumMerges} * 5) slots *= 2;  // load factor <= 0.4
  t.slot_key_.assign(slots, kEmptyKey);
  t.slot_rank_.assign(slots, -1);
  t.slot_mask_ = slots - 1;
  size_t pos = text.find('\n');
  if (pos == std::string::npos) throw Error(source + ": BPE vocabulary has no merges");
  ++pos;
  for (int32_t rank = 0; rank < kNumMerges; ++rank) {
    if (pos > text.size())
      throw Error(source + ": BPE vocabulary has only " + std::to_string(rank) + " merges, need " +
                  std::to_string(kNumMerges));
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    const std::string_view line(text.data() + pos, eol - pos);
    pos = eol + 1;
    const size_t sp = line.find(' ');
    const std::string_view left = line.substr(0, sp == std::string_view::npos ? 0 : sp);
    const std::string_view right = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    const int32_t l = left.empty() ? -1 : index.find(left);
    const int32_t r = right.empty() ? -1 : index.find(right);
    if (l < 0 || r < 0 || right.find(' ') != std::string_view::npos)
      throw Error(source + ": bad merge line " + std::to_string(rank + 1) + " '" + std::string(line) + "'");
    const uint64_t key = pair_key(l, r);
    uint64_t i = mix(key) & t.slot_mask_;
    while (t.slot_key_[i] != kEmptyKey && t.slot_key_[i] != key) i = (i + 1) & t.slot_mask_;
    if (t.slot_key_[i] == key || !index.add(left, right))
      throw Error(source + ": merge line " + std::to_string(rank + 1) + " '" + std::string(line) +
                  "' repeats an earlier pair or token");
    t.slot_key_[i] = key;
    t.slot_rank_[i] = rank;
  }
  return t;
}

int32_t Tokenizer::merge_rank(int32_t left, int32_t right) const {
  const uint64_t key = pair_key(left, right);
  for (uint64_t i = mix(key) & slot_mask_;; i = (i + 1) & slot_mask_) {
    if (slot_key_[i] == key) return slot_rank_[i];
    if (slot_key_[i] == kEmptyKey) return -1;
  }
}

// ref: SimpleTokenizer.bpe. Upstream repeatedly takes the lowest-ranked adjacent pair and merges all its
// occurrences left to right. Here candidate pairs sit in a min-heap keyed by (rank, position): since a merge only
// creates pairs of higher rank than its own (checked in from_gzip), popping in that order performs the same merges
// in the same order, in O(n log n) instead of O(n^2).
void Tokenizer::bpe(std::string_view bytes, std::vector<int32_t>& out) const {
  const auto n = static_cast<int32_t>(bytes.size());
  struct Sym {
    int32_t id, prev, next;  // id -1: merged into its left neighbour
  };
  struct Cand {
    int32_t rank, left, left_id, right_id;
  };
  std::vector<Sym> sym(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i)
    sym[i] = {byte_id(static_cast<uint8_t>(bytes[i]), i == n - 1), i - 1, i + 1 < n ? i + 1 : -1};
  const auto later = [](const Cand& a, const Cand& b) { return a.rank != b.rank ? a.rank > b.rank : a.left > b.left; };
  std::vector<Cand> heap;
  const auto push = [&](int32_t left) {
    const int32_t right = sym[left].next;
    if (right < 0) return;
    const int32_t rank = merge_rank(sym[left].id, sym[right].id);
    if (rank < 0) return;
    heap.push_back({rank, left, sym[left].id, sym[right].id});
    std::push_heap(heap.begin(), heap.end(), later);
  };
  for (int32_t i = 0; i + 1 < n; ++i) push(i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Cand c = heap.back();
    heap.pop_back();
    Sym& l = sym[c.left];
    if (l.id != c.left_id || l.next < 0 || sym[l.next].id != c.right_id) continue;  // stale
    Sym& r = sym[l.next];
    l.id = kFirstMergeId + c.rank;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = c.left;
    r.id = -1;
    if (l.prev >= 0) push(l.prev);
    push(c.left);
  }
  for (int32_t i = 0; i >= 0; i = sym[i].next) out.push_back(sym[i].id);
}

// ref: SimpleTokenizer.encode
std::vector<int32_t> Tokenizer::encode(std::string_view text_utf8, size_t max_ids) const {
  const text::CodePoints s = text::clean_lower(text_utf8);
  std::vector<int32_t> ids;
  std::string piece;
  size_t pos = 0, b = 0, e = 0;
  while (ids.size() < max_ids && text::next_pretoken(s, pos, b, e)) {
    const std::u32string_view cp(s.data() + b, e - b);
    if (cp == kSotText) {
      ids.push_back(kSotId);
    } else if (cp == kEotText) {
      ids.push_back(kEotId);
    } else {
      piece.clear();
      for (char32_t c : cp) text::utf8_append(piece, c);
      bpe(piece, ids);
    }
  }
  if (ids.size() > max_ids) ids.resize(max_ids);
  return ids;
}

// ref: SimpleTokenizer.__call__
std::vector<int64_t> Tokenizer::tokenize(std::string_view text_utf8, int context_length) const {
  if (context_length < 1) throw Error("tokenize: context length must be >= 1, got " + std::to_string(context_length));
  const auto ctx = static_cast<size_t>(context_length);
  // ctx ids are enough to know whether [SOT] + ids + [EOT] exceeds ctx
  const std::vector<int32_t> ids = encode(text_utf8, ctx);
  std::vector<int64_t> out;
  out.reserve(ids.size() + 2);
  out.push_back(kSotId);
  out.insert(out.end(), ids.begin(), ids.end());
  out.push_back(kEotId);
  if (out.size() > ctx) {
    out.resize(ctx);
    out.back() = kEotId;
  }
  out.resize(ctx, 0);
  return out;
}

}  // namespace sam3
