#include "pipeline/membership.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/error.hpp"
#include "pipeline/byte_stream.hpp"

namespace esm::prep {

namespace {

// A pull tokenizer for the subset of XML that UniRef files use: elements with quoted
// attributes, text, comments, processing instructions. Text content is skipped (sequences),
// so only tags are materialised.
class XmlTags {
 public:
  struct Tag {
    std::string name;
    std::vector<std::pair<std::string, std::string>> attrs;
    bool closing = false, self_closing = false;
    uint64_t line = 0;
    const std::string* attr(const char* key) const {
      for (const auto& [k, v] : attrs)
        if (k == key) return &v;
      return nullptr;
    }
  };

  explicit XmlTags(const std::string& path) : in_(path) {}

  bool next(Tag& tag) {
    for (;;) {
      // Skip text up to the next '<', counting lines.
      int c;
      while ((c = get()) != -1 && c != '<') {}
      if (c == -1) return false;
      tag.line = line_;
      raw_.clear();
      int first = get();
      if (first == -1) bad("the file ends inside a tag");
      if (first == '!' || first == '?') {
        skip_special(first);
        continue;
      }
      raw_.push_back(static_cast<char>(first));
      char quote = 0;
      for (;;) {
        c = get();
        if (c == -1) bad("the file ends inside a tag opened at line ", tag.line);
        if (quote) {
          if (c == quote) quote = 0;
          else if (c == '<') bad("'<' inside an attribute value of the tag opened at line ", tag.line, " (unterminated quote?)");
        } else if (c == '"' || c == '\'') {
          quote = static_cast<char>(c);
        } else if (c == '>') {
          break;
        } else if (c == '<') {
          bad("'<' inside the tag opened at line ", tag.line);
        }
        raw_.push_back(static_cast<char>(c));
      }
      parse(tag);
      return true;
    }
  }

  uint64_t line() const { return line_; }
  const std::string& path() const { return in_.path(); }

  template <typename... A>
  [[noreturn]] void bad(const A&... a) {
    fail(in_.path(), ":", line_, ": malformed XML: ", a...);
  }

 private:
  int get() {
    if (pos_ == len_) {
      len_ = in_.read(buf_, sizeof buf_);
      pos_ = 0;
      if (len_ == 0) return -1;
    }
    char c = buf_[pos_++];
    if (c == '\n') ++line_;
    return static_cast<unsigned char>(c);
  }

  void skip_special(int first) {
    // <!-- comment -->, <?pi ?>, <!DOCTYPE ...>: skip to the matching end.
    uint64_t start = line_;
    if (first == '!') {
      int a = get(), b = a == '-' ? get() : 0;
      if (a == '-' && b == '-') {
        int m1 = 0, m2 = 0, c;
        while ((c = get()) != -1) {
          if (c == '>' && m1 == '-' && m2 == '-') return;
          m2 = m1;
          m1 = c;
        }
        bad("the file ends inside a comment opened at line ", start);
      }
    }
    int c;
    while ((c = get()) != -1 && c != '>') {}
    if (c == -1) bad("the file ends inside a declaration opened at line ", start);
  }

  void parse(Tag& tag) {
    tag.attrs.clear();
    tag.closing = tag.self_closing = false;
    std::string_view s = raw_;
    if (!s.empty() && s.front() == '/') { tag.closing = true; s.remove_prefix(1); }
    if (!s.empty() && s.back() == '/') { tag.self_closing = true; s.remove_suffix(1); }
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    size_t i = 0;
    while (i < s.size() && !is_space(s[i])) ++i;
    tag.name.assign(s.substr(0, i));
    if (tag.name.empty()) bad("a tag without a name");
    for (;;) {
      while (i < s.size() && is_space(s[i])) ++i;
      if (i >= s.size()) break;
      size_t k = i;
      while (i < s.size() && s[i] != '=' && !is_space(s[i])) ++i;
      std::string key(s.substr(k, i - k));
      while (i < s.size() && is_space(s[i])) ++i;
      if (i >= s.size() || s[i] != '=') bad("attribute '", key, "' of <", tag.name, "> has no value");
      ++i;
      while (i < s.size() && is_space(s[i])) ++i;
      if (i >= s.size() || (s[i] != '"' && s[i] != '\''))
        bad("attribute '", key, "' of <", tag.name, "> is not quoted");
      char q = s[i++];
      size_t v = i;
      while (i < s.size() && s[i] != q) ++i;
      if (i >= s.size()) bad("attribute '", key, "' of <", tag.name, "> is not terminated");
      tag.attrs.emplace_back(std::move(key), std::string(s.substr(v, i - v)));
      ++i;
    }
  }

  ByteStream in_;
  char buf_[1 << 16];
  size_t pos_ = 0, len_ = 0;
  uint64_t line_ = 1;
  std::string raw_;
};

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

MembershipStats read_membership_xml(const std::string& path, const PairSink& sink) {
  MembershipStats stats;
  XmlTags xml(path);
  XmlTags::Tag tag;
  bool seen_root = false, in_entry = false;
  int member_depth = 0;  // inside <representativeMember> or <member>
  bool member_has_u90 = false;
  enum class Level { None, U50, U90 } level = Level::None;
  std::string entry_id, u50_of_entry;
  uint64_t entry_line = 0, u50_line = 0;
  std::unordered_set<std::string> seen_in_entry;

  while (xml.next(tag)) {
    if (!seen_root) {
      if (tag.closing || !starts_with(tag.name, "UniRef"))
        xml.bad("expected a <UniRef>, <UniRef50> or <UniRef90> root element, found <", tag.name, ">");
      seen_root = true;
      continue;
    }
    if (tag.name == "entry") {
      if (tag.closing) {
        if (!in_entry) xml.bad("</entry> without <entry>");
        if (member_depth) xml.bad("</entry> inside an unclosed member of entry ", entry_id);
        if (level == Level::U90) {
          if (u50_of_entry.empty())
            fail(path, ":", entry_line, ": UniRef90 entry ", entry_id, " has no 'UniRef50 ID' property");
          sink(MembershipPair{entry_id, u50_of_entry, stats.pairs++, entry_line});
        }
        in_entry = false;
        continue;
      }
      if (in_entry) xml.bad("<entry> inside entry ", entry_id, " (opened at line ", entry_line, ")");
      const std::string* id = tag.attr("id");
      if (!id || id->empty()) xml.bad("<entry> without an id attribute");
      entry_id = *id;
      entry_line = tag.line;
      if (starts_with(entry_id, "UniRef50_")) level = Level::U50;
      else if (starts_with(entry_id, "UniRef90_")) level = Level::U90;
      else if (starts_with(entry_id, "UniRef100_"))
        fail(path, ":", tag.line, ": ", entry_id, " is a UniRef100 entry; membership needs UniRef50 or UniRef90 XML");
      else xml.bad("entry id '", entry_id, "' is not a UniRef50_ or UniRef90_ ID");
      if (stats.format.empty()) stats.format = level == Level::U50 ? "uniref50-xml" : "uniref90-xml";
      else if (stats.format != (level == Level::U50 ? "uniref50-xml" : "uniref90-xml"))
        xml.bad("entry ", entry_id, " mixes UniRef levels in one file");
      in_entry = !tag.self_closing;
      member_depth = 0;
      u50_of_entry.clear();
      seen_in_entry.clear();
      ++stats.entries;
      continue;
    }
    if (!in_entry) {
      if (tag.closing && starts_with(tag.name, "UniRef")) seen_root = true;  // root closed
      continue;
    }
    if (tag.name == "member" || tag.name == "representativeMember") {
      if (tag.closing) {
        if (member_depth == 0) xml.bad("</", tag.name, "> without its start tag");
        --member_depth;
        if (level == Level::U50 && !member_has_u90) ++stats.members_without_uniref90_id;
      } else if (!tag.self_closing) {
        if (member_depth) xml.bad("<", tag.name, "> inside another member");
        ++member_depth;
        member_has_u90 = false;
      }
      continue;
    }
    if (tag.name == "property" && !tag.closing && member_depth) {
      const std::string* type = tag.attr("type");
      if (!type) xml.bad("<property> without a type attribute");
      const std::string* value = tag.attr("value");
      if (level == Level::U50 && *type == "UniRef90 ID") {
        if (!value || !starts_with(*value, "UniRef90_"))
          xml.bad("'UniRef90 ID' property without a UniRef90_ value in entry ", entry_id);
        member_has_u90 = true;
        if (seen_in_entry.insert(*value).second)
          sink(MembershipPair{*value, entry_id, stats.pairs++, tag.line});
      } else if (level == Level::U90 && *type == "UniRef50 ID") {
        if (!value || !starts_with(*value, "UniRef50_"))
          xml.bad("'UniRef50 ID' property without a UniRef50_ value in entry ", entry_id);
        if (u50_of_entry.empty()) {
          u50_of_entry = *value;
          u50_line = tag.line;
        } else if (u50_of_entry != *value) {
          fail(path, ":", tag.line, ": UniRef90 entry ", entry_id, " names two UniRef50 clusters: ", u50_of_entry,
               " (line ", u50_line, ") and ", *value);
        }
      }
    }
  }
  if (!seen_root) fail(path, ": empty membership file (no UniRef XML root element)");
  if (in_entry)
    fail(path, ":", xml.line(), ": the file ends inside entry ", entry_id, " (opened at line ", entry_line,
         "): truncated XML");
  if (stats.format.empty()) stats.format = "uniref-xml";
  return stats;
}

MembershipStats read_membership_tsv(const std::string& path, const PairSink& sink) {
  MembershipStats stats;
  stats.format = "tsv";
  LineReader in(path);
  std::string line;
  bool first = true;
  while (in.next(line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t tab = line.find('\t');
    if (first) {
      first = false;
      if (!starts_with(line, "UniRef")) continue;  // header line
    }
    if (tab == std::string::npos || tab == 0 || tab + 1 >= line.size() || line.find('\t', tab + 1) != std::string::npos)
      fail(path, ":", in.line_number(), ": expected two TAB-separated columns uniref90_id, uniref50_id; found '",
           line.substr(0, 200), "'");
    std::string_view u90(line.data(), tab), u50(line.data() + tab + 1, line.size() - tab - 1);
    ++stats.entries;
    sink(MembershipPair{u90, u50, stats.pairs++, in.line_number()});
  }
  return stats;
}

MembershipStats read_membership(const std::string& path, const PairSink& sink) {
  char head[4096];
  size_t n;
  {
    ByteStream probe(path);
    n = probe.read(head, sizeof head);
  }
  size_t i = 0;
  while (i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\n' || head[i] == '\r')) ++i;
  if (i < n && head[i] == '<') return read_membership_xml(path, sink);
  if (i == n) fail(path, ": empty membership file");
  return read_membership_tsv(path, sink);
}

}  // namespace esm::prep
