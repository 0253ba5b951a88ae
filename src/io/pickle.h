// sam3.cpp — restricted unpickler for PyTorch state dicts, and a small pickle emitter.
//
// A checkpoint is data and must never run code. This unpickler is a plain stack machine over the opcodes a
// torch.save'd state dict uses (protocol 2, plus the protocol 3-5 opcodes a newer pickler may emit for the same
// objects). GLOBAL / STACK_GLOBAL resolve only names on a fixed allow-list (OrderedDict, the tensor rebuild
// functions, storage types, torch dtypes); any other name (os.system, builtins.eval, ...) is refused with an error
// naming it, at the GLOBAL opcode, before anything else happens. REDUCE "calls" only those allow-listed
// constructors, and they merely build inert records (a Tensor record holds the storage reference, offset, size,
// stride). Malformed input (truncation, stack underflow, bad memo index, absurd lengths, too-deep nesting, too many
// objects or container items) throws sam3::Error naming the pickle and the byte offset; the work is linear in the
// input size plus the container items, which are capped (UnpicklerLimits::max_items).
// ref: CPython Lib/pickle.py, Lib/pickletools.py; torch/serialization.py (_save / _load persistent ids),
//      torch/_utils.py (_rebuild_tensor_v2, _rebuild_parameter, _rebuild_parameter_with_state)
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"

namespace sam3 {

struct PyObject {
  enum class Kind : uint8_t {
    None, Bool, Int, Float, Str, Bytes, Tuple, List, Dict,
    Global,   // an allow-listed name; `str` holds "module.name"
    Storage,  // a persistent id ('storage', type, key, location, numel) resolved by the caller
    Tensor,   // the result of _rebuild_tensor_v2 / _rebuild_parameter*
  };
  Kind kind = Kind::None;
  bool boolean = false;
  int64_t integer = 0;
  double real = 0;
  std::string str;                   // Str / Bytes contents; Global name; Storage key
  std::vector<PyObject*> items;      // Tuple / List elements
  std::vector<std::pair<PyObject*, PyObject*>> dict;  // Dict items in insertion order (duplicates kept as written)
  bool ordered = false;              // Dict built by collections.OrderedDict
  std::vector<std::pair<PyObject*, PyObject*>> attrs;  // BUILD state applied to a Dict (e.g. OrderedDict._metadata)
  // Storage: element type, location ("cpu"), element count. Global naming a dtype/storage type: its DType.
  DType dtype = DType::F32;
  bool names_dtype = false;          // Global: a storage type or dtype (so `dtype` is meaningful)
  std::string location;
  int64_t numel = 0;
  // Tensor: storage (a Storage object), offset in elements, size and stride in elements.
  PyObject* storage = nullptr;
  int64_t offset = 0;
  Shape size, stride;

  const char* kind_name() const;
  // Short human-readable form for messages (nested containers abbreviated).
  std::string repr() const;
};

struct UnpicklerLimits {
  size_t max_stack = size_t{1} << 22;   // values on the stack
  size_t max_marks = 1000;              // nested MARKs (tuple/list/dict nesting depth)
  size_t max_objects = size_t{1} << 21; // objects created (each is a few hundred bytes)
  // Items put into containers, in all: list/tuple elements, dict pairs, BUILD attributes, OrderedDict(list) copies.
  // A memoised container can be copied by a short opcode sequence (BINGET + BUILD), so this, not the input size,
  // bounds the work and memory of those copies.
  size_t max_items = size_t{1} << 22;
};

class Unpickler {
 public:
  // `name` is used in error messages (e.g. "'sam3.pt' archive/data.pkl"). The bytes must outlive load().
  Unpickler(const uint8_t* data, size_t size, std::string name, UnpicklerLimits limits = {});
  // Runs to STOP and returns the root object. The objects are owned by this Unpickler.
  PyObject* load();

 private:
  PyObject* make(PyObject::Kind kind);
  [[noreturn]] void fail(const std::string& why) const;
  PyObject* pop();
  PyObject* top();
  std::vector<PyObject*> pop_mark();  // the values above the last MARK, which is removed
  PyObject* global(const std::string& module, const std::string& name);
  PyObject* reduce(PyObject* callable, PyObject* args);
  PyObject* persistent(PyObject* pid);
  void build(PyObject* obj, PyObject* state);
  PyObject* rebuild_tensor(const std::vector<PyObject*>& a, const char* fn);
  void count_items(size_t n);  // fails beyond limits_.max_items

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  size_t op_pos_ = 0;  // offset of the opcode being executed, for messages
  std::string name_;
  UnpicklerLimits limits_;
  std::deque<PyObject> pool_;
  std::vector<PyObject*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint32_t, PyObject*> memo_;
  size_t items_ = 0;  // container items so far (see UnpicklerLimits::max_items)
};

// Emits pickle protocol 2 opcodes, as CPython's pickler does for the same objects.
class PickleWriter {
 public:
  PickleWriter();  // PROTO 2
  void mark();
  void none();
  void boolean(bool v);
  void integer(int64_t v);  // BININT1 / BININT2 / BININT / LONG1
  void str(const std::string& s);  // BINUNICODE (UTF-8)
  void global(const std::string& module, const std::string& name);  // GLOBAL
  void empty_dict();
  void empty_tuple();
  void tuple();  // TUPLE (from the last MARK)
  void tuple_of(const std::vector<int64_t>& v);  // EMPTY_TUPLE / TUPLE1-3 / MARK..TUPLE
  void reduce();
  void build();
  void binpersid();
  void setitem();
  void setitems();  // SETITEMS (from the last MARK)
  void put(uint32_t memo_index);  // BINPUT / LONG_BINPUT
  void get(uint32_t memo_index);  // BINGET / LONG_BINGET
  void stop();
  void raw(const std::string& bytes) { out_ += bytes; }  // anything else (tests)
  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

}  // namespace sam3
