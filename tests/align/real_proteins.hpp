// Real proteins for the aligner tests: the first records of data/mini-uniref (gzip FASTA),
// read with zlib directly so the aligner's tests do not depend on the I/O module.
#pragma once
#include <zlib.h>

#include <cstdlib>
#include <string>
#include <vector>

inline std::vector<std::string> read_real_proteins(size_t max_records) {
  const char* src = std::getenv("ESMPIPE_SOURCE_DIR");
  const std::string path = std::string(src ? src : ".") + "/data/mini-uniref/uniref90.fasta.gz";
  std::vector<std::string> seqs;
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return seqs;
  char buf[4096];
  while (gzgets(f, buf, sizeof buf)) {
    std::string line(buf);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (!line.empty() && line[0] == '>') {
      if (seqs.size() == max_records) break;
      seqs.emplace_back();
    } else if (!seqs.empty()) {
      seqs.back() += line;
    }
  }
  gzclose(f);
  if (seqs.size() > max_records) seqs.resize(max_records);
  return seqs;
}
