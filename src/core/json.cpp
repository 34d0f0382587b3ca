#include "core/json.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/error.hpp"

namespace esm::json {

namespace {
const char* type_name(Value::Type t) {
  static const char* n[] = {"null", "bool", "integer", "number", "string", "array", "object"};
  return n[static_cast<int>(t)];
}
}  // namespace

#define ESM_JSON_GET(T, name, cond, expr)                                               \
  T Value::name() const {                                                               \
    if (!(cond)) fail("JSON: expected ", #T, ", found ", type_name(type()));            \
    return expr;                                                                        \
  }
ESM_JSON_GET(bool, as_bool, type() == Type::Bool, std::get<bool>(v_))
ESM_JSON_GET(int64_t, as_int, type() == Type::Int || (type() == Type::Double && std::get<double>(v_) == std::floor(std::get<double>(v_))),
             type() == Type::Int ? std::get<int64_t>(v_) : static_cast<int64_t>(std::get<double>(v_)))
ESM_JSON_GET(double, as_double, is_number(), type() == Type::Int ? double(std::get<int64_t>(v_)) : std::get<double>(v_))
#undef ESM_JSON_GET

const std::string& Value::as_string() const {
  if (!is_string()) fail("JSON: expected string, found ", type_name(type()));
  return std::get<std::string>(v_);
}
const Array& Value::as_array() const {
  if (!is_array()) fail("JSON: expected array, found ", type_name(type()));
  return std::get<Array>(v_);
}
Array& Value::as_array() {
  if (is_null()) v_ = Array{};
  if (!is_array()) fail("JSON: expected array, found ", type_name(type()));
  return std::get<Array>(v_);
}
const Object& Value::as_object() const {
  if (!is_object()) fail("JSON: expected object, found ", type_name(type()));
  return std::get<Object>(v_);
}
Object& Value::as_object() {
  if (is_null()) v_ = Object{};
  if (!is_object()) fail("JSON: expected object, found ", type_name(type()));
  return std::get<Object>(v_);
}

const Value* Value::find(const std::string& key) const {
  if (!is_object()) return nullptr;
  for (auto& [k, v] : std::get<Object>(v_))
    if (k == key) return &v;
  return nullptr;
}
Value& Value::operator[](const std::string& key) {
  auto& o = as_object();
  for (auto& [k, v] : o)
    if (k == key) return v;
  o.emplace_back(key, Value());
  return o.back().second;
}
const Value& Value::at(const std::string& key) const {
  const Value* v = find(key);
  if (!v) fail("JSON: missing key '", key, "'");
  return *v;
}
void Value::push_back(Value v) { as_array().push_back(std::move(v)); }

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) { char b[8]; std::snprintf(b, sizeof b, "\\u%04x", c); out += b; }
        else out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

void Value::dump_to(std::string& out, int indent, int depth) const {
  auto nl = [&](int d) {
    if (indent < 0) return;
    out += '\n';
    out.append(static_cast<size_t>(indent * d), ' ');
  };
  switch (type()) {
    case Type::Null: out += "null"; break;
    case Type::Bool: out += std::get<bool>(v_) ? "true" : "false"; break;
    case Type::Int: out += std::to_string(std::get<int64_t>(v_)); break;
    case Type::Double: {
      double d = std::get<double>(v_);
      if (!std::isfinite(d)) { out += "null"; break; }
      char b[32];
      std::snprintf(b, sizeof b, "%.17g", d);
      // Shortest form that round-trips keeps manifests readable.
      for (int p = 6; p <= 17; ++p) {
        char t[32];
        std::snprintf(t, sizeof t, "%.*g", p, d);
        if (std::strtod(t, nullptr) == d) { std::snprintf(b, sizeof b, "%s", t); break; }
      }
      out += b;
      break;
    }
    case Type::String: out += quote(std::get<std::string>(v_)); break;
    case Type::Array: {
      auto& a = std::get<Array>(v_);
      out += '[';
      for (size_t i = 0; i < a.size(); ++i) {
        if (i) out += ',';
        nl(depth + 1);
        a[i].dump_to(out, indent, depth + 1);
      }
      if (!a.empty()) nl(depth);
      out += ']';
      break;
    }
    case Type::Object: {
      auto& o = std::get<Object>(v_);
      out += '{';
      for (size_t i = 0; i < o.size(); ++i) {
        if (i) out += ',';
        nl(depth + 1);
        out += quote(o[i].first);
        out += indent < 0 ? ":" : ": ";
        o[i].second.dump_to(out, indent, depth + 1);
      }
      if (!o.empty()) nl(depth);
      out += '}';
      break;
    }
  }
}

std::string Value::dump(int indent) const {
  std::string out;
  dump_to(out, indent, 0);
  return out;
}

namespace {
class Parser {
 public:
  Parser(const std::string& t, const std::string& what) : t_(t), what_(what) {}
  Value parse_all() {
    Value v = value(0);
    ws();
    if (i_ != t_.size()) err("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void err(const std::string& m) { fail(what_, ": invalid JSON at byte ", i_, ": ", m); }
  void ws() { while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\n' || t_[i_] == '\r' || t_[i_] == '\t')) ++i_; }
  bool lit(const char* s) {
    size_t n = std::char_traits<char>::length(s);
    if (t_.compare(i_, n, s) == 0) { i_ += n; return true; }
    return false;
  }
  Value value(int depth) {
    if (depth > 256) err("nesting too deep");
    ws();
    if (i_ >= t_.size()) err("unexpected end");
    char c = t_[i_];
    if (c == '{') {
      ++i_;
      Object o;
      ws();
      if (i_ < t_.size() && t_[i_] == '}') { ++i_; return Value(std::move(o)); }
      for (;;) {
        ws();
        if (i_ >= t_.size() || t_[i_] != '"') err("expected a string key");
        std::string k = string();
        ws();
        if (i_ >= t_.size() || t_[i_] != ':') err("expected ':'");
        ++i_;
        o.emplace_back(std::move(k), value(depth + 1));
        ws();
        if (i_ < t_.size() && t_[i_] == ',') { ++i_; continue; }
        if (i_ < t_.size() && t_[i_] == '}') { ++i_; break; }
        err("expected ',' or '}'");
      }
      return Value(std::move(o));
    }
    if (c == '[') {
      ++i_;
      Array a;
      ws();
      if (i_ < t_.size() && t_[i_] == ']') { ++i_; return Value(std::move(a)); }
      for (;;) {
        a.push_back(value(depth + 1));
        ws();
        if (i_ < t_.size() && t_[i_] == ',') { ++i_; continue; }
        if (i_ < t_.size() && t_[i_] == ']') { ++i_; break; }
        err("expected ',' or ']'");
      }
      return Value(std::move(a));
    }
    if (c == '"') return Value(string());
    if (lit("true")) return Value(true);
    if (lit("false")) return Value(false);
    if (lit("null")) return Value();
    if (lit("NaN") || lit("Infinity")) return Value(NAN);  // Python's json writes these
    if (lit("-Infinity")) return Value(-INFINITY);
    return number();
  }
  Value number() {
    size_t s = i_;
    bool is_double = false;
    if (i_ < t_.size() && t_[i_] == '-') ++i_;
    while (i_ < t_.size()) {
      char c = t_[i_];
      if (c >= '0' && c <= '9') ++i_;
      else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') { is_double = true; ++i_; }
      else break;
    }
    std::string num = t_.substr(s, i_ - s);
    if (num.empty() || num == "-") err("expected a value");
    char* end = nullptr;
    if (!is_double) {
      errno = 0;
      long long v = std::strtoll(num.c_str(), &end, 10);
      if (errno == 0 && *end == 0) return Value(static_cast<int64_t>(v));
    }
    double d = std::strtod(num.c_str(), &end);
    if (*end != 0) err("bad number '" + num + "'");
    return Value(d);
  }
  std::string string() {
    ++i_;  // opening quote
    std::string out;
    while (true) {
      if (i_ >= t_.size()) err("unterminated string");
      char c = t_[i_++];
      if (c == '"') break;
      if (c != '\\') { out += c; continue; }
      if (i_ >= t_.size()) err("unterminated escape");
      char e = t_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && i_ + 1 < t_.size() && t_[i_] == '\\' && t_[i_ + 1] == 'u') {
            i_ += 2;
            uint32_t lo = hex4();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          utf8(out, cp);
          break;
        }
        default: err("bad escape");
      }
    }
    return out;
  }
  uint32_t hex4() {
    if (i_ + 4 > t_.size()) err("short \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = t_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else err("bad hex digit");
    }
    return v;
  }
  static void utf8(std::string& o, uint32_t cp) {
    if (cp < 0x80) o += char(cp);
    else if (cp < 0x800) { o += char(0xC0 | (cp >> 6)); o += char(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) { o += char(0xE0 | (cp >> 12)); o += char(0x80 | ((cp >> 6) & 0x3F)); o += char(0x80 | (cp & 0x3F)); }
    else { o += char(0xF0 | (cp >> 18)); o += char(0x80 | ((cp >> 12) & 0x3F)); o += char(0x80 | ((cp >> 6) & 0x3F)); o += char(0x80 | (cp & 0x3F)); }
  }
  const std::string& t_;
  std::string what_;
  size_t i_ = 0;
};
}  // namespace

Value parse(const std::string& text, const std::string& what) { return Parser(text, what).parse_all(); }

}  // namespace esm::json
