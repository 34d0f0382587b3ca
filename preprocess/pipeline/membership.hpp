// Membership sources: which UniRef50 cluster each UniRef90 cluster belongs to.
// Streamed once, pair by pair, so a 20 GB uniref50.xml.gz never sits in memory.
//   - UniRef50 XML: <entry id="UniRef50_X"> with <representativeMember>/<member> elements whose
//     <property type="UniRef90 ID" value="UniRef90_Y"/> gives the pair (Y, X). UniRef100-level
//     members repeat a UniRef90 ID; each pair is reported once per entry.
//   - UniRef90 XML: <entry id="UniRef90_Y"> whose members carry <property type="UniRef50 ID">.
//   - TSV: "uniref90_id<TAB>uniref50_id" lines; a first line whose first field does not start
//     with "UniRef" is a header.
// The root element may be <UniRef> (UniProt's test files) or <UniRef50>/<UniRef90> (releases).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace esm::prep {

struct MembershipPair {
  std::string_view uniref90, uniref50;
  uint64_t ordinal = 0;  // 0-based position of the pair in the source
  uint64_t line = 0;     // line where the pair was found (1-based)
};

struct MembershipStats {
  std::string format;                // "uniref50-xml", "uniref90-xml", "tsv"
  uint64_t entries = 0;              // XML entries or TSV data lines
  uint64_t pairs = 0;
  uint64_t members_without_uniref90_id = 0;  // UniRef50 XML members with no UniRef90 ID property
};

using PairSink = std::function<void(const MembershipPair&)>;

// Detects the format from the content (first non-blank byte '<' = XML) and streams the pairs.
// Throws esm::Error naming the file and line for malformed input.
MembershipStats read_membership(const std::string& path, const PairSink& sink);

MembershipStats read_membership_xml(const std::string& path, const PairSink& sink);
MembershipStats read_membership_tsv(const std::string& path, const PairSink& sink);

}  // namespace esm::prep
