// esmpipe stats FILE...: record and residue statistics of FASTA files, every file split over
// all MPI ranks. Lengths count every sequence character, as `seqkit stats` does; '*' and
// characters outside the 25 ESM letters are reported separately.
#include <cstdio>
#include <ctime>
#include <iostream>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/mpi_env.hpp"
#include "core/options.hpp"
#include "core/progress.hpp"
#include "io/byte_source.hpp"
#include "io/fasta_scanner.hpp"
#include "io/residues.hpp"
#include "io/seq_stats.hpp"

namespace esm {

namespace {

using io::SeqStats;

// Per-rank CPU time in the log shows how evenly the work split, whatever else shares the cores.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// One file over all ranks; the merged result on rank 0 (others get their own part).
SeqStats file_stats(const std::string& path) {
  double cpu0 = cpu_seconds();
  auto scanner = io::open_shard_collective(path);
  SeqStats mine;
  io::RawRecord rec;
  Progress progress(path, scanner->range_bytes(), "bytes");
  uint64_t reported = 0, batch = 0;
  while (scanner->next(rec)) {
    mine.add(rec.seq.data(), rec.seq.size());
    if (++batch == 4096) {
      uint64_t now = scanner->bytes_scanned();
      progress.add(now - reported, now - reported);
      reported = now;
      batch = 0;
    }
  }
  progress.add(scanner->bytes_scanned() - reported);
  progress.finish();
  mine.finish();
  log::info(path, ": this rank read ", mine.records, " records, ", mine.residues, " residues (",
            human_bytes(double(scanner->bytes_scanned())), ", ", human_duration(cpu_seconds() - cpu0), " CPU)");
  uint64_t records = mpi::allreduce_sum(mine.records), residues = mpi::allreduce_sum(mine.residues);
  if (records == 0) fail(path, ": no FASTA records (empty file)");
  if (residues == 0) fail(path, ": ", records, " header line(s) but no sequence at all: header-only file");
  auto parts = mpi::gather_bytes(mine.serialize());
  SeqStats all;
  for (const auto& p : parts) all.merge(SeqStats::deserialize(p));
  return all;
}

std::string byte_name(int c) {
  if (c > 0x20 && c < 0x7f) return std::string(1, char(c));
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", c);
  return buf;
}

json::Value to_json(const std::string& path, const std::string& format, const SeqStats& s) {
  json::Value v;
  v["file"] = path;
  v["format"] = format;
  v["records"] = s.records;
  v["residues"] = s.residues;
  v["min_len"] = s.min_len;
  v["median_len"] = s.median();
  v["mean_len"] = s.mean();
  v["max_len"] = s.max_len;
  v["n50"] = s.n50();
  v["over_1022"] = s.over_1022;
  v["frac_over_1022"] = double(s.over_1022) / double(s.records);
  v["over_1023"] = s.over_1023;
  v["frac_over_1023"] = double(s.over_1023) / double(s.records);
  json::Value hist = json::Object{};
  for (char c : io::kResidueLetters) hist[std::string(1, c)] = s.bytes[uint8_t(c)];
  v["residue_histogram"] = hist;
  v["terminal_stops"] = s.terminal_stops;
  v["invalid_chars"] = s.invalid_chars();
  v["records_with_invalid"] = s.records_with_invalid;
  json::Value bad = json::Object{};
  for (int c = 0; c < 256; ++c) {
    uint64_t n = s.bytes[c] - (c == '*' ? s.terminal_stops : 0);
    if (n && !io::is_residue(char(c))) bad[byte_name(c)] = n;
  }
  v["invalid_histogram"] = bad;
  return v;
}

void print_table(const json::Value& files) {
  std::vector<std::vector<std::string>> rows = {
      {"file", "format", "records", "residues", "min", "median", "mean", "max", "N50", ">1022", ">1023", "invalid"}};
  auto fixed = [](double d, int prec) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", prec, d);
    return std::string(buf);
  };
  for (const auto& f : files.as_array()) {
    rows.push_back({f.at("file").as_string(), f.at("format").as_string(), std::to_string(f.at("records").as_int()),
                    std::to_string(f.at("residues").as_int()), std::to_string(f.at("min_len").as_int()),
                    fixed(f.at("median_len").as_double(), 1), fixed(f.at("mean_len").as_double(), 1),
                    std::to_string(f.at("max_len").as_int()), std::to_string(f.at("n50").as_int()),
                    fixed(100 * f.at("frac_over_1022").as_double(), 2) + "%",
                    fixed(100 * f.at("frac_over_1023").as_double(), 2) + "%", std::to_string(f.at("invalid_chars").as_int())});
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      std::string cell = r[i];
      if (i < 2) cell.resize(width[i], ' ');  // names left, numbers right
      else cell.insert(0, width[i] - cell.size(), ' ');
      std::cout << cell << (i + 1 < r.size() ? "  " : "\n");
    }
  }
  for (const auto& f : files.as_array()) {
    std::cout << "\nresidues of " << f.at("file").as_string() << ":\n";
    double total = double(f.at("residues").as_int());
    int k = 0;
    for (const auto& [letter, count] : f.at("residue_histogram").as_object()) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "  %s %12lld %6.2f%%", letter.c_str(), (long long)count.as_int(), 100.0 * count.as_int() / total);
      std::cout << buf << (++k % 5 == 0 ? "\n" : "");
    }
    if (k % 5) std::cout << "\n";
    std::cout << "  terminal '*': " << f.at("terminal_stops").as_int() << ", invalid characters: " << f.at("invalid_chars").as_int()
              << " in " << f.at("records_with_invalid").as_int() << " record(s)";
    for (const auto& [name, count] : f.at("invalid_histogram").as_object()) std::cout << "  " << name << "=" << count.as_int();
    std::cout << "\n";
  }
}

}  // namespace

int cmd_stats(int argc, char** argv) {
  namespace po = cli::po;
  po::options_description opts("stats options");
  opts.add_options()
      ("input", po::value<std::vector<std::string>>()->multitoken(), "FASTA files (plain, .gz, .zst)")
      ("json", po::bool_switch(), "print JSON instead of a table");
  po::positional_options_description pos;
  pos.add("input", -1);
  po::variables_map vm;
  if (!cli::parse(argc, argv,
                  {"stats", "esmpipe stats [options] FILE...",
                   "records, residues, length distribution (min/median/mean/max, N50), residue histogram and invalid characters"},
                  opts, pos, vm))
    return kExitOk;
  if (!vm.count("input")) fail("no input files (see 'esmpipe stats --help')");
  json::Value files = json::Array{};
  for (const auto& path : vm["input"].as<std::vector<std::string>>()) {
    std::string format = io::compression_name(io::detect_compression(path));
    SeqStats s = file_stats(path);
    if (mpi::is_root()) files.push_back(to_json(path, format, s));
  }
  if (mpi::is_root()) {
    if (vm["json"].as<bool>()) {
      json::Value out;
      out["files"] = files;
      std::cout << out.dump(2) << "\n";
    } else {
      print_table(files);
    }
  }
  return kExitOk;
}

}  // namespace esm
