// ref: CPython Lib/pickle.py (_Unpickler.load_*), Lib/pickletools.py (opcode table);
//      torch/serialization.py (_save persistent_id, _load persistent_load); torch/_utils.py (_rebuild_*)
#include "io/pickle.h"

#include <cstring>

#include "core/error.h"

namespace sam3 {

namespace {

using Kind = PyObject::Kind;

// Storage classes and dtype objects a state dict may name, with the element type they stand for.
struct NamedType {
  const char* name;
  DType dtype;
};
constexpr NamedType kStorageTypes[] = {
    {"FloatStorage", DType::F32},  {"HalfStorage", DType::F16},  {"BFloat16Storage", DType::BF16},
    {"DoubleStorage", DType::F64}, {"LongStorage", DType::I64},  {"IntStorage", DType::I32},
    {"ShortStorage", DType::I16},  {"CharStorage", DType::I8},   {"ByteStorage", DType::U8},
    {"BoolStorage", DType::Bool},  {"ComplexFloatStorage", DType::C64},
    {"UntypedStorage", DType::U8},  // torch >= 2: a storage of bytes
};
constexpr NamedType kDTypes[] = {
    {"float32", DType::F32}, {"float", DType::F32},  {"float16", DType::F16}, {"half", DType::F16},
    {"bfloat16", DType::BF16}, {"float64", DType::F64}, {"double", DType::F64}, {"int64", DType::I64},
    {"long", DType::I64},    {"int32", DType::I32},  {"int", DType::I32},     {"int16", DType::I16},
    {"short", DType::I16},   {"int8", DType::I8},    {"uint8", DType::U8},    {"bool", DType::Bool},
    {"complex64", DType::C64}, {"cfloat", DType::C64},
};
// Callables REDUCE may evaluate.
constexpr const char* kCallables[] = {
    "collections.OrderedDict",
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
};

std::string printable(const std::string& s, size_t max = 80) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

void repr_into(const PyObject* o, int depth, std::string& out) {
  if (!o) {
    out += "<null>";
    return;
  }
  auto seq = [&](const std::vector<PyObject*>& v, const char* open, const char* close) {
    out += open;
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) out += ", ";
      if (i == 4 || depth >= 2) {
        out += "...";
        break;
      }
      repr_into(v[i], depth + 1, out);
    }
    out += close;
  };
  switch (o->kind) {
    case Kind::None: out += "None"; break;
    case Kind::Bool: out += o->boolean ? "True" : "False"; break;
    case Kind::Int: out += std::to_string(o->integer); break;
    case Kind::Float: out += std::to_string(o->real); break;
    case Kind::Str: out += "'" + printable(o->str) + "'"; break;
    case Kind::Bytes: out += "b'" + printable(o->str) + "'"; break;
    case Kind::Tuple: seq(o->items, "(", ")"); break;
    case Kind::List: seq(o->items, "[", "]"); break;
    case Kind::Dict: out += (o->ordered ? "OrderedDict(" : "dict(") + std::to_string(o->dict.size()) + " items)"; break;
    case Kind::Global: out += o->str; break;
    case Kind::Storage: out += std::string("storage(") + dtype_name(o->dtype) + ", key '" + printable(o->str) + "')"; break;
    case Kind::Tensor: out += "tensor" + shape_str(o->size); break;
  }
}

}  // namespace

const char* PyObject::kind_name() const {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::Str: return "str";
    case Kind::Bytes: return "bytes";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Global: return "global";
    case Kind::Storage: return "storage";
    case Kind::Tensor: return "tensor";
  }
  return "?";
}

std::string PyObject::repr() const {
  std::string out;
  repr_into(this, 0, out);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Unpickler

Unpickler::Unpickler(const uint8_t* data, size_t size, std::string name, UnpicklerLimits limits)
    : data_(data), size_(size), name_(std::move(name)), limits_(limits) {}

void Unpickler::fail(const std::string& why) const {
  const unsigned char op = op_pos_ < size_ ? data_[op_pos_] : 0;
  std::string opname;
  if (op >= 0x20 && op < 0x7f) {
    opname = std::string("'") + static_cast<char>(op) + "'";
  } else {
    static const char* hex = "0123456789abcdef";
    opname = std::string("0x") + hex[op >> 4] + hex[op & 15];
  }
  throw Error("pickle " + name_ + ": at byte " + std::to_string(op_pos_) + " (opcode " + opname + "): " + why);
}

PyObject* Unpickler::make(Kind kind) {
  if (pool_.size() >= limits_.max_objects) fail("too many objects (limit " + std::to_string(limits_.max_objects) + ")");
  pool_.emplace_back();
  pool_.back().kind = kind;
  return &pool_.back();
}

void Unpickler::count_items(size_t n) {
  if (n > limits_.max_items - items_)
    fail("too many container items (limit " + std::to_string(limits_.max_items) + " in all)");
  items_ += n;
}

PyObject* Unpickler::pop() {
  const size_t floor = marks_.empty() ? 0 : marks_.back();
  if (stack_.size() <= floor) fail("stack underflow");
  PyObject* o = stack_.back();
  stack_.pop_back();
  return o;
}

PyObject* Unpickler::top() {
  const size_t floor = marks_.empty() ? 0 : marks_.back();
  if (stack_.size() <= floor) fail("stack underflow");
  return stack_.back();
}

std::vector<PyObject*> Unpickler::pop_mark() {
  if (marks_.empty()) fail("no MARK on the stack");
  const size_t m = marks_.back();
  marks_.pop_back();
  std::vector<PyObject*> v(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
  stack_.resize(m);
  return v;
}

PyObject* Unpickler::global(const std::string& module, const std::string& name) {
  const std::string full = module + "." + name;
  PyObject* g = nullptr;
  if (module == "torch") {
    for (const NamedType& t : kStorageTypes) {
      if (name == t.name) {
        g = make(Kind::Global);
        g->dtype = t.dtype;
        g->names_dtype = true;
      }
    }
    for (const NamedType& t : kDTypes) {
      if (name == t.name) {
        g = make(Kind::Global);
        g->dtype = t.dtype;
        g->names_dtype = true;
      }
    }
  }
  for (const char* c : kCallables) {
    if (full == c) g = make(Kind::Global);
  }
  if (!g)
    fail("refused global '" + printable(full) +
         "': a checkpoint may only name state-dict types (OrderedDict, torch tensor rebuild functions, storage "
         "types, dtypes); this file may try to run code");
  g->str = full;
  return g;
}

PyObject* Unpickler::persistent(PyObject* pid) {
  // torch/serialization.py: ('storage', storage_type, key, location, numel)
  if (pid->kind != Kind::Tuple || pid->items.size() != 5 || pid->items[0]->kind != Kind::Str ||
      pid->items[0]->str != "storage")
    fail("unsupported persistent id " + pid->repr() + " (expected ('storage', type, key, location, numel))");
  const auto& it = pid->items;
  if (it[1]->kind != Kind::Global || !it[1]->names_dtype)
    fail("persistent id: storage type is not a torch storage type or dtype: " + it[1]->repr());
  if (it[2]->kind != Kind::Str) fail("persistent id: storage key is not a string: " + it[2]->repr());
  if (it[3]->kind != Kind::Str) fail("persistent id: location is not a string: " + it[3]->repr());
  if (it[4]->kind != Kind::Int || it[4]->integer < 0) fail("persistent id: bad element count " + it[4]->repr());
  PyObject* s = make(Kind::Storage);
  s->dtype = it[1]->dtype;
  s->str = it[2]->str;
  s->location = it[3]->str;
  s->numel = it[4]->integer;
  return s;
}

PyObject* Unpickler::rebuild_tensor(const std::vector<PyObject*>& a, const char* fn) {
  // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  // _rebuild_tensor(storage, storage_offset, size, stride)
  if (a[0]->kind != Kind::Storage) fail(std::string(fn) + ": first argument is not a storage: " + a[0]->repr());
  if (a[1]->kind != Kind::Int || a[1]->integer < 0) fail(std::string(fn) + ": bad storage offset " + a[1]->repr());
  if (a[2]->kind != Kind::Tuple || a[3]->kind != Kind::Tuple || a[2]->items.size() != a[3]->items.size())
    fail(std::string(fn) + ": size " + a[2]->repr() + " and stride " + a[3]->repr() + " are not matching tuples");
  PyObject* t = make(Kind::Tensor);
  t->storage = a[0];
  t->offset = a[1]->integer;
  for (size_t i = 0; i < a[2]->items.size(); ++i) {
    const PyObject* sz = a[2]->items[i];
    const PyObject* st = a[3]->items[i];
    if (sz->kind != Kind::Int || sz->integer < 0) fail(std::string(fn) + ": bad size " + a[2]->repr());
    if (st->kind != Kind::Int || st->integer < 0) fail(std::string(fn) + ": bad stride " + a[3]->repr());
    t->size.push_back(sz->integer);
    t->stride.push_back(st->integer);
  }
  return t;
}

PyObject* Unpickler::reduce(PyObject* callable, PyObject* args) {
  if (callable->kind != Kind::Global) fail("REDUCE on a non-callable " + callable->repr());
  if (args->kind != Kind::Tuple) fail("REDUCE arguments are not a tuple: " + args->repr());
  const std::string& fn = callable->str;
  const std::vector<PyObject*>& a = args->items;
  if (fn == "collections.OrderedDict") {
    PyObject* d = make(Kind::Dict);
    d->ordered = true;
    if (a.empty()) return d;
    if (a.size() == 1 && a[0]->kind == Kind::List) {
      count_items(a[0]->items.size());
      for (PyObject* kv : a[0]->items) {
        if ((kv->kind != Kind::Tuple && kv->kind != Kind::List) || kv->items.size() != 2)
          fail("OrderedDict(): item is not a pair: " + kv->repr());
        d->dict.emplace_back(kv->items[0], kv->items[1]);
      }
      return d;
    }
    fail("OrderedDict(): unsupported arguments " + args->repr());
  }
  if (fn == "torch._utils._rebuild_tensor_v2") {
    if (a.size() != 6 && a.size() != 7) fail("_rebuild_tensor_v2 takes 6 or 7 arguments, got " + std::to_string(a.size()));
    return rebuild_tensor(a, "_rebuild_tensor_v2");
  }
  if (fn == "torch._utils._rebuild_tensor") {
    if (a.size() != 4) fail("_rebuild_tensor takes 4 arguments, got " + std::to_string(a.size()));
    return rebuild_tensor(a, "_rebuild_tensor");
  }
  if (fn == "torch._utils._rebuild_parameter" || fn == "torch._utils._rebuild_parameter_with_state") {
    // (data, requires_grad, backward_hooks[, state]): the parameter is its data tensor.
    const size_t n = fn == "torch._utils._rebuild_parameter" ? 3 : 4;
    if (a.size() != n) fail(fn + " takes " + std::to_string(n) + " arguments, got " + std::to_string(a.size()));
    if (a[0]->kind != Kind::Tensor) fail(fn + ": data is not a tensor: " + a[0]->repr());
    return a[0];
  }
  fail("'" + fn + "' is not callable in a checkpoint");
}

void Unpickler::build(PyObject* obj, PyObject* state) {
  // Only attribute dicts on dicts are meaningful here (OrderedDict._metadata of a state dict).
  if (obj->kind != Kind::Dict) fail("BUILD on " + obj->repr() + " is not supported");
  if (state->kind == Kind::None) return;
  if (state->kind != Kind::Dict) fail("BUILD state is not a dict: " + state->repr());
  count_items(state->dict.size());
  obj->attrs.insert(obj->attrs.end(), state->dict.begin(), state->dict.end());
}

PyObject* Unpickler::load() {
  auto need = [&](size_t n) {
    if (size_ - pos_ < n) fail("truncated: needs " + std::to_string(n) + " more bytes, " +
                               std::to_string(size_ - pos_) + " left");
  };
  auto u8 = [&]() {
    need(1);
    return data_[pos_++];
  };
  auto uint_le = [&](size_t n) {
    need(n);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= uint64_t{data_[pos_ + i]} << (8 * i);
    pos_ += n;
    return v;
  };
  auto bytes = [&](uint64_t n) {
    if (n > size_ - pos_) fail("length " + std::to_string(n) + " runs past the end of the data");
    std::string s(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return s;
  };
  auto line = [&]() {
    const void* nl = std::memchr(data_ + pos_, '\n', size_ - pos_);
    if (!nl) fail("truncated: unterminated line");
    const size_t end = static_cast<size_t>(static_cast<const uint8_t*>(nl) - data_);
    std::string s(reinterpret_cast<const char*>(data_ + pos_), end - pos_);
    pos_ = end + 1;
    return s;
  };
  auto push = [&](PyObject* o) {
    if (stack_.size() >= limits_.max_stack) fail("stack too deep");
    stack_.push_back(o);
  };
  auto integer = [&](int64_t v) {
    PyObject* o = make(Kind::Int);
    o->integer = v;
    push(o);
  };
  auto string = [&](Kind k, uint64_t n) {
    PyObject* o = make(k);
    o->str = bytes(n);
    push(o);
  };
  auto tuple_of = [&](std::vector<PyObject*> items) {
    PyObject* t = make(Kind::Tuple);
    count_items(items.size());
    t->items = std::move(items);
    push(t);
  };
  auto memo_put = [&](uint64_t idx) {
    if (idx > 0xFFFFFFFFu) fail("memo index too large");
    memo_[static_cast<uint32_t>(idx)] = top();
  };
  auto memo_get = [&](uint64_t idx) {
    auto it = idx <= 0xFFFFFFFFu ? memo_.find(static_cast<uint32_t>(idx)) : memo_.end();
    if (it == memo_.end()) fail("memo index " + std::to_string(idx) + " was never stored");
    push(it->second);
  };
  auto set_items = [&](PyObject* d, const std::vector<PyObject*>& kv) {
    if (d->kind != Kind::Dict) fail("SETITEM(S) on a " + std::string(d->kind_name()));
    if (kv.size() % 2) fail("SETITEMS with an odd number of values");
    count_items(kv.size() / 2);
    for (size_t i = 0; i < kv.size(); i += 2) d->dict.emplace_back(kv[i], kv[i + 1]);
  };
  auto append_items = [&](PyObject* l, const std::vector<PyObject*>& v) {
    if (l->kind != Kind::List) fail("APPEND(S) on a " + std::string(l->kind_name()));
    count_items(v.size());
    l->items.insert(l->items.end(), v.begin(), v.end());
  };

  while (true) {
    op_pos_ = pos_;
    if (pos_ >= size_) fail("truncated: ended without STOP");
    const uint8_t op = data_[pos_++];
    switch (op) {
      case 0x80: {  // PROTO
        const uint8_t v = u8();
        if (v < 2 || v > 5) fail("unsupported pickle protocol " + std::to_string(v));
        break;
      }
      case 0x95: {  // FRAME: a length prefix for the opcodes that follow; nothing to do but check it
        const uint64_t n = uint_le(8);
        if (n > size_ - pos_) fail("frame of " + std::to_string(n) + " bytes runs past the end of the data");
        break;
      }
      case '.': {  // STOP
        PyObject* root = pop();
        return root;
      }
      case '(':  // MARK
        if (marks_.size() >= limits_.max_marks) fail("nesting too deep (more than " + std::to_string(limits_.max_marks) + " MARKs)");
        marks_.push_back(stack_.size());
        break;
      case '0': pop(); break;       // POP
      case '1': pop_mark(); break;  // POP_MARK
      case '2': push(top()); break;  // DUP
      case 'N': push(make(Kind::None)); break;
      case 0x88:
      case 0x89: {  // NEWTRUE / NEWFALSE
        PyObject* o = make(Kind::Bool);
        o->boolean = op == 0x88;
        push(o);
        break;
      }
      case 'K': integer(static_cast<int64_t>(uint_le(1))); break;                                // BININT1
      case 'M': integer(static_cast<int64_t>(uint_le(2))); break;                                // BININT2
      case 'J': integer(static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(uint_le(4))))); break;  // BININT
      case 0x8a:
      case 0x8b: {  // LONG1 / LONG4: little-endian two's complement of n bytes
        const uint64_t n = op == 0x8a ? uint_le(1) : uint_le(4);
        if (n > 8) fail("integer of " + std::to_string(n) + " bytes does not fit in 64 bits");
        uint64_t v = uint_le(static_cast<size_t>(n));
        if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);  // sign-extend
        integer(static_cast<int64_t>(v));
        break;
      }
      case 'G': {  // BINFLOAT: big-endian IEEE double
        need(8);
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | data_[pos_ + static_cast<size_t>(i)];
        pos_ += 8;
        PyObject* o = make(Kind::Float);
        std::memcpy(&o->real, &bits, 8);
        push(o);
        break;
      }
      case 'X': string(Kind::Str, uint_le(4)); break;     // BINUNICODE
      case 0x8c: string(Kind::Str, uint_le(1)); break;    // SHORT_BINUNICODE
      case 0x8d: string(Kind::Str, uint_le(8)); break;    // BINUNICODE8
      case 'T': string(Kind::Str, uint_le(4)); break;     // BINSTRING (protocol 1 str, read as text)
      case 'U': string(Kind::Str, uint_le(1)); break;     // SHORT_BINSTRING
      case 'B': string(Kind::Bytes, uint_le(4)); break;   // BINBYTES
      case 'C': string(Kind::Bytes, uint_le(1)); break;   // SHORT_BINBYTES
      case 0x8e: string(Kind::Bytes, uint_le(8)); break;  // BINBYTES8
      case '}': {  // EMPTY_DICT
        push(make(Kind::Dict));
        break;
      }
      case ']': push(make(Kind::List)); break;   // EMPTY_LIST
      case ')': tuple_of({}); break;             // EMPTY_TUPLE
      case 't': tuple_of(pop_mark()); break;     // TUPLE
      case 0x85: {                               // TUPLE1
        PyObject* a = pop();
        tuple_of({a});
        break;
      }
      case 0x86: {  // TUPLE2
        PyObject* b = pop();
        PyObject* a = pop();
        tuple_of({a, b});
        break;
      }
      case 0x87: {  // TUPLE3
        PyObject* c = pop();
        PyObject* b = pop();
        PyObject* a = pop();
        tuple_of({a, b, c});
        break;
      }
      case 'l': {  // LIST
        PyObject* l = make(Kind::List);
        l->items = pop_mark();
        count_items(l->items.size());
        push(l);
        break;
      }
      case 'd': {  // DICT
        PyObject* d = make(Kind::Dict);
        set_items(d, pop_mark());
        push(d);
        break;
      }
      case 'a': {  // APPEND
        PyObject* v = pop();
        append_items(top(), {v});
        break;
      }
      case 'e': {  // APPENDS
        std::vector<PyObject*> v = pop_mark();
        append_items(top(), v);
        break;
      }
      case 's': {  // SETITEM
        PyObject* v = pop();
        PyObject* k = pop();
        set_items(top(), {k, v});
        break;
      }
      case 'u': {  // SETITEMS
        std::vector<PyObject*> kv = pop_mark();
        set_items(top(), kv);
        break;
      }
      case 'q': memo_put(uint_le(1)); break;             // BINPUT
      case 'r': memo_put(uint_le(4)); break;             // LONG_BINPUT
      case 0x94: memo_put(memo_.size()); break;          // MEMOIZE
      case 'h': memo_get(uint_le(1)); break;             // BINGET
      case 'j': memo_get(uint_le(4)); break;             // LONG_BINGET
      case 'c': {                                        // GLOBAL "module\nname\n"
        const std::string module = line();
        const std::string name = line();
        push(global(module, name));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        PyObject* name = pop();
        PyObject* module = pop();
        if (module->kind != Kind::Str || name->kind != Kind::Str) fail("STACK_GLOBAL needs two strings");
        push(global(module->str, name->str));
        break;
      }
      case 'R': {  // REDUCE
        PyObject* args = pop();
        PyObject* callable = pop();
        push(reduce(callable, args));
        break;
      }
      case 'b': {  // BUILD
        PyObject* state = pop();
        build(top(), state);
        break;
      }
      case 'Q': {  // BINPERSID
        PyObject* pid = pop();
        push(persistent(pid));
        break;
      }
      default:
        fail("unsupported pickle opcode (a state dict does not need it)");
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// PickleWriter

namespace {
void le(std::string& out, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
}  // namespace

PickleWriter::PickleWriter() { out_ = "\x80\x02"; }
void PickleWriter::mark() { out_ += '('; }
void PickleWriter::none() { out_ += 'N'; }
void PickleWriter::boolean(bool v) { out_ += static_cast<char>(v ? 0x88 : 0x89); }

void PickleWriter::integer(int64_t v) {
  if (v >= 0 && v < 256) {
    out_ += 'K';
    le(out_, static_cast<uint64_t>(v), 1);
  } else if (v >= 0 && v < 65536) {
    out_ += 'M';
    le(out_, static_cast<uint64_t>(v), 2);
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    out_ += 'J';
    le(out_, static_cast<uint64_t>(v), 4);
  } else {  // LONG1: shortest little-endian two's complement
    int n = 8;
    while (n > 1) {
      const int64_t lo = -(int64_t{1} << (8 * (n - 1) - 1));
      const int64_t hi = (int64_t{1} << (8 * (n - 1) - 1)) - 1;
      if (v < lo || v > hi) break;
      --n;
    }
    out_ += '\x8a';
    out_ += static_cast<char>(n);
    le(out_, static_cast<uint64_t>(v), n);
  }
}

void PickleWriter::str(const std::string& s) {
  out_ += 'X';
  le(out_, s.size(), 4);
  out_ += s;
}

void PickleWriter::global(const std::string& module, const std::string& name) { out_ += "c" + module + "\n" + name + "\n"; }
void PickleWriter::empty_dict() { out_ += '}'; }
void PickleWriter::empty_tuple() { out_ += ')'; }
void PickleWriter::tuple() { out_ += 't'; }

void PickleWriter::tuple_of(const std::vector<int64_t>& v) {
  if (v.empty()) {
    empty_tuple();
    return;
  }
  if (v.size() > 3) mark();
  for (int64_t x : v) integer(x);
  if (v.size() > 3) {
    tuple();
  } else {
    out_ += static_cast<char>(0x84 + v.size());  // TUPLE1..3 = 0x85..0x87
  }
}

void PickleWriter::reduce() { out_ += 'R'; }
void PickleWriter::build() { out_ += 'b'; }
void PickleWriter::binpersid() { out_ += 'Q'; }
void PickleWriter::setitem() { out_ += 's'; }
void PickleWriter::setitems() { out_ += 'u'; }

void PickleWriter::put(uint32_t i) {
  if (i < 256) {
    out_ += 'q';
    le(out_, i, 1);
  } else {
    out_ += 'r';
    le(out_, i, 4);
  }
}

void PickleWriter::get(uint32_t i) {
  if (i < 256) {
    out_ += 'h';
    le(out_, i, 1);
  } else {
    out_ += 'j';
    le(out_, i, 4);
  }
}

void PickleWriter::stop() { out_ += '.'; }

}  // namespace sam3
