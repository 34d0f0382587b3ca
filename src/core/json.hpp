// A small JSON value: enough for manifests, safetensors headers and HF config.json.
// Objects keep insertion order so written files are deterministic.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace esm::json {

class Value;
using Array = std::vector<Value>;
using Object = std::vector<std::pair<std::string, Value>>;

class Value {
 public:
  enum class Type { Null, Bool, Int, Double, String, Array, Object };
  Value() = default;
  Value(std::nullptr_t) {}
  Value(bool b) : v_(b) {}
  Value(int i) : v_(int64_t(i)) {}
  Value(long i) : v_(int64_t(i)) {}
  Value(long long i) : v_(int64_t(i)) {}
  Value(unsigned i) : v_(int64_t(i)) {}
  Value(unsigned long i) : v_(int64_t(i)) {}
  Value(unsigned long long i) : v_(int64_t(i)) {}
  Value(double d) : v_(d) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(Array a) : v_(std::move(a)) {}
  Value(Object o) : v_(std::move(o)) {}

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is_null() const { return type() == Type::Null; }
  bool is_number() const { return type() == Type::Int || type() == Type::Double; }
  bool is_string() const { return type() == Type::String; }
  bool is_object() const { return type() == Type::Object; }
  bool is_array() const { return type() == Type::Array; }

  // Accessors throw esm::Error naming the expected type.
  bool as_bool() const;
  int64_t as_int() const;
  double as_double() const;
  const std::string& as_string() const;
  const Array& as_array() const;
  Array& as_array();
  const Object& as_object() const;
  Object& as_object();

  // Object helpers. operator[] inserts (turning null into an object).
  const Value* find(const std::string& key) const;
  Value& operator[](const std::string& key);
  const Value& at(const std::string& key) const;  // throws if missing
  bool contains(const std::string& key) const { return find(key) != nullptr; }
  void push_back(Value v);

  std::string dump(int indent = -1) const;  // -1: compact
  bool operator==(const Value& o) const { return v_ == o.v_; }

 private:
  void dump_to(std::string& out, int indent, int depth) const;
  std::variant<std::nullptr_t, bool, int64_t, double, std::string, Array, Object> v_{nullptr};
};

// Throws esm::Error with the byte offset of the problem; `what` names the source in messages.
Value parse(const std::string& text, const std::string& what = "JSON");
std::string quote(const std::string& s);

}  // namespace esm::json
