// ref: torch/serialization.py (_load: persistent_load, 'storage' ids -> 'data/<key>'), torch/_utils.py
#include "io/torch_checkpoint.h"

#include <cstring>
#include <map>
#include <unordered_set>

#include "core/error.h"
#include "io/mmap_file.h"
#include "io/pickle.h"
#include "io/zip_reader.h"

namespace sam3 {

namespace {

using Kind = PyObject::Kind;

// The single top-level "<dir>/data.pkl" entry.
const ZipEntry& find_pickle(const ZipReader& zip) {
  const ZipEntry* found = nullptr;
  for (const ZipEntry& e : zip.entries()) {
    const size_t slash = e.name.find('/');
    if (slash == std::string::npos || e.name.compare(slash, std::string::npos, "/data.pkl") != 0) continue;
    if (found)
      throw Error("torch checkpoint '" + zip.path() + "': two pickles, '" + found->name + "' and '" + e.name + "'");
    found = &e;
  }
  if (!found) throw Error("'" + zip.path() + "' is a zip file but not a torch checkpoint (no '<archive>/data.pkl' entry)");
  return *found;
}

// Copies a strided view into a contiguous buffer (elements of `esize` bytes).
void strided_copy(const uint8_t* src, const Shape& size, const Shape& stride, size_t esize, uint8_t* dst) {
  const int nd = static_cast<int>(size.size());
  const int64_t numel = shape_numel(size);
  if (numel == 0) return;
  std::vector<int64_t> idx(static_cast<size_t>(nd), 0);
  int64_t src_off = 0;  // in elements
  for (int64_t n = 0; n < numel; ++n) {
    std::memcpy(dst + static_cast<size_t>(n) * esize, src + static_cast<size_t>(src_off) * esize, esize);
    for (int d = nd - 1; d >= 0; --d) {  // odometer increment
      const size_t u = static_cast<size_t>(d);
      if (++idx[u] < size[u]) {
        src_off += stride[u];
        break;
      }
      src_off -= (size[u] - 1) * stride[u];
      idx[u] = 0;
    }
  }
}

class Loader {
 public:
  explicit Loader(std::shared_ptr<const MappedFile> file) : path_(file->path()), zip_(std::move(file)) {}

  TorchCheckpoint run() {
    const ZipEntry& pkl = find_pickle(zip_);
    out_.archive = pkl.name.substr(0, pkl.name.find('/'));
    out_.keepalive = zip_.keepalive();
    if (const ZipEntry* bo = zip_.find(out_.archive + "/byteorder")) {
      std::string order(reinterpret_cast<const char*>(zip_.data(*bo)), static_cast<size_t>(bo->size));
      if (order != "little")
        throw Error("torch checkpoint '" + path_ + "': byte order '" + order + "' is not supported (only little-endian)");
    }
    zip_.check_crc(pkl);  // small; catches a corrupted pickle early
    Unpickler up(zip_.data(pkl), static_cast<size_t>(pkl.size), "'" + path_ + "' " + pkl.name);
    const PyObject* root = up.load();
    if (root->kind != Kind::Dict)
      throw Error("torch checkpoint '" + path_ + "': top level is a " + root->kind_name() + ", not a dict");
    const PyObject* sd = root;
    for (const auto& [k, v] : root->dict) {
      if (k->kind == Kind::Str && k->str == "model") {
        if (v->kind != Kind::Dict)
          throw Error("torch checkpoint '" + path_ + "': 'model' is a " + v->kind_name() + ", not a state dict");
        sd = v;
      }
    }
    std::unordered_set<std::string> seen;
    for (const auto& [k, v] : sd->dict) {
      if (k->kind != Kind::Str)
        throw Error("torch checkpoint '" + path_ + "': state-dict key " + k->repr() + " is not a string");
      if (!seen.insert(k->str).second) throw Error("torch checkpoint '" + path_ + "': duplicate key '" + k->str + "'");
      if (v->kind == Kind::Tensor) {
        out_.tensors.emplace_back(k->str, tensor(k->str, *v));
      } else {
        out_.non_tensors.push_back(k->str);
      }
    }
    return std::move(out_);
  }

 private:
  Error fail(const std::string& key, const std::string& why) const {
    return Error("torch checkpoint '" + path_ + "': tensor '" + key + "': " + why);
  }

  Tensor tensor(const std::string& key, const PyObject& t) {
    const PyObject& s = *t.storage;
    const DType dt = s.dtype;
    const size_t esize = dtype_size(dt);
    const std::string entry_name = out_.archive + "/data/" + s.str;
    const ZipEntry* e = zip_.find(entry_name);
    if (!e) throw fail(key, "storage entry '" + entry_name + "' is missing");
    uint64_t storage_bytes = 0;
    if (__builtin_mul_overflow(static_cast<uint64_t>(s.numel), esize, &storage_bytes) || storage_bytes != e->size)
      throw fail(key, "storage '" + entry_name + "' holds " + std::to_string(e->size) + " bytes, but its id says " +
                          std::to_string(s.numel) + " " + dtype_name(dt) + " elements");
    // Extent of the view in elements: offset + 1 + sum((size-1)*stride), checked against the storage.
    int64_t numel = 1, last = t.offset;
    bool ok = true;
    for (size_t i = 0; i < t.size.size(); ++i) {
      int64_t span = 0;
      ok = ok && !__builtin_mul_overflow(numel, t.size[i], &numel);
      if (t.size[i] > 0) ok = ok && !__builtin_mul_overflow(t.size[i] - 1, t.stride[i], &span) &&
                              !__builtin_add_overflow(last, span, &last);
    }
    if (!ok) throw fail(key, "size " + shape_str(t.size) + " / stride " + shape_str(t.stride) + " overflow");
    if (numel > 0 && last >= s.numel)
      throw fail(key, "view (offset " + std::to_string(t.offset) + ", size " + shape_str(t.size) + ", stride " +
                          shape_str(t.stride) + ") exceeds its storage of " + std::to_string(s.numel) + " elements");
    // A view (stride 0 repeats elements) may not hold more elements than its storage: a state dict never needs it,
    // and a hostile one would make the copy below as large as it likes.
    if (numel > s.numel)
      throw fail(key, "view of " + std::to_string(numel) + " elements (size " + shape_str(t.size) + ", stride " +
                          shape_str(t.stride) + ") is larger than its storage of " + std::to_string(s.numel) +
                          " elements");
    if (numel == 0) return Tensor::zeros(t.size, dt);
    const uint8_t* src = zip_.data(*e) + static_cast<size_t>(t.offset) * esize;
    bool contiguous = true;
    int64_t expect = 1;
    for (size_t i = t.size.size(); i-- > 0;) {
      if (t.size[i] != 1 && t.stride[i] != expect) contiguous = false;
      expect *= t.size[i];
    }
    const bool aligned = reinterpret_cast<uintptr_t>(src) % (esize < 8 ? esize : 8) == 0;
    if (contiguous && aligned) return Tensor::borrow(const_cast<uint8_t*>(src), t.size, dt, out_.keepalive);
    Tensor copy = Tensor::empty(t.size, dt);
    strided_copy(src, t.size, t.stride, esize, static_cast<uint8_t*>(copy.raw()));
    return copy;
  }

  std::string path_;
  ZipReader zip_;
  TorchCheckpoint out_;
};

}  // namespace

TorchCheckpoint read_torch_checkpoint(const std::string& path) { return Loader(MappedFile::open(path)).run(); }

TorchCheckpoint read_torch_checkpoint(std::shared_ptr<const MappedFile> file) { return Loader(std::move(file)).run(); }

}  // namespace sam3
