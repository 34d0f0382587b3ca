// Job files: parsing, ${...} references, path resolution, overrides and the errors people hit.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.hpp"
#include "ini.hpp"
#include "job.hpp"
#include "source_dir.hpp"

namespace fs = std::filesystem;
using esm::jobs::parse_job;

namespace {

const char* kJob = R"(# a comment
[job]
name = t1
workdir = out            # relative to the job file
template = cpu
ranks_per_node = 2
partition = gpu
sbatch = --constraint=a100

[preprocess]
uniref50 = data/u50.fasta.gz
uniref90 = /abs/u90.fasta.gz
membership = m.tsv
out = ${job.workdir}/pre
seed = 7
val-size = 40
nodes = 3

[embed]
model = ../models/esm2
fasta = ${preprocess.out}/uniref50_valid.fasta
out = ${job.workdir}/e.h5
mean = true
per-residue = false
dtype = float16
sbatch = --qos=long
sbatch = --comment=x
signal_seconds = 120
)";

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const esm::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(JobFile, ResolvesPathsReferencesAndResources) {
  auto job = parse_job(kJob, "/jobs/x/t1.ini");
  EXPECT_EQ(job.name, "t1");
  EXPECT_EQ(job.dir, "/jobs/x");
  EXPECT_EQ(job.workdir, "/jobs/x/out");
  ASSERT_EQ(job.stages.size(), 2u);
  const auto& pre = job.stages[0];
  EXPECT_EQ(pre.name, "preprocess");
  EXPECT_EQ(pre.out, "/jobs/x/out/pre");
  EXPECT_EQ(pre.res.nodes, 3);
  EXPECT_EQ(pre.res.ranks_per_node, 2);  // from [job]
  EXPECT_EQ(pre.res.partition, "gpu");
  EXPECT_EQ(pre.res.sbatch, std::vector<std::string>{"--constraint=a100"});
  EXPECT_EQ(pre.res.signal_seconds, 0);
  std::vector<std::string> want = {"--uniref50", "/jobs/x/data/u50.fasta.gz", "--uniref90", "/abs/u90.fasta.gz",
                                   "--membership", "/jobs/x/m.tsv", "--out", "/jobs/x/out/pre", "--seed", "7",
                                   "--val-size", "40"};
  EXPECT_EQ(pre.args(), want);

  const auto& emb = job.stages[1];
  EXPECT_EQ(emb.input, "/jobs/x/out/pre/uniref50_valid.fasta");
  EXPECT_EQ(emb.out, "/jobs/x/out/e.h5");
  EXPECT_EQ(emb.res.nodes, 1);
  EXPECT_EQ(emb.res.signal_seconds, 120);
  // A stage's own sbatch lines replace the [job] ones.
  EXPECT_EQ(emb.res.sbatch, (std::vector<std::string>{"--qos=long", "--comment=x"}));
  want = {"--model", "/jobs/models/esm2", "--fasta", "/jobs/x/out/pre/uniref50_valid.fasta", "--out",
          "/jobs/x/out/e.h5", "--mean", "--dtype", "float16"};
  EXPECT_EQ(emb.args(), want);  // true -> flag, false -> left out
}

TEST(JobFile, OverridesComeFromTheCommandLine) {
  esm::jobs::Overrides o;
  o.workdir = "/scratch/w";
  o.sets = {"embed.dtype=float32", "preprocess.seed=9", "embed.time=01:00:00"};
  auto job = parse_job(kJob, "/jobs/x/t1.ini", o);
  EXPECT_EQ(job.workdir, "/scratch/w");
  EXPECT_EQ(job.stages[0].out, "/scratch/w/pre");  // references follow the override
  EXPECT_EQ(job.stages[1].input, "/scratch/w/pre/uniref50_valid.fasta");
  EXPECT_EQ(job.stages[0].option("seed")->value, "9");
  EXPECT_EQ(job.stages[1].option("dtype")->value, "float32");
  EXPECT_EQ(job.stages[1].res.time, "01:00:00");
  o.sets = {"embed.out=rel.h5"};  // relative to the current directory, not the job file
  job = parse_job(kJob, "/jobs/x/t1.ini", o);
  EXPECT_EQ(job.stages[1].out, (fs::current_path() / "rel.h5").lexically_normal().string());
  o.sets = {"job.signal_seconds=0"};  // a [job] value applies to embed too, 0 included
  EXPECT_EQ(parse_job(kJob, "/jobs/x/t1.ini", o).stages[1].res.signal_seconds, 120);  // embed sets its own
  o.sets = {"job.signal_seconds=0", "embed.time=10"};
  auto j2 = parse_job(std::string(kJob).replace(std::string(kJob).find("signal_seconds = 120"), 20, "# none"), "/j/t.ini", o);
  EXPECT_EQ(j2.stages[1].res.signal_seconds, 0);
  o.sets = {"nodot"};
  EXPECT_NE(error_of([&] { parse_job(kJob, "/jobs/x/t1.ini", o); }).find("section.key=value"), std::string::npos);
}

TEST(JobFile, ErrorsNameFileAndLine) {
  auto err = [](const std::string& text) { return error_of([&] { parse_job(text, "/j/bad.ini"); }); };
  EXPECT_EQ(err("[job]\nname = a\nworkdir = w\n[embedd]\n"),
            "/j/bad.ini:4: unknown section [embedd] (expected [job], [preprocess], [embed])");
  EXPECT_EQ(err("[job]\nname = a\nworkdir = w\n[embed]\nmodel = m\nfasta = ${preprocess.out}/x\nout = o\n"),
            "/j/bad.ini:6: ${preprocess.out} names no key of the job file");
  EXPECT_EQ(err("[job]\nname = a\nworkdir = w\n[embed]\nmodel = m\nfasta = f\nout = o\nnodes = two\n"),
            "/j/bad.ini:8: nodes must be a whole number >= 1, found 'two'");
  EXPECT_EQ(err("[job]\nname = a\nworkdir = w\n[embed]\nmodel = m\nfasta = f\nout = o\nresume = true\n"),
            "/j/bad.ini:8: 'resume' is decided by esmpipe run/submit, not the job file");
  EXPECT_EQ(err("[job]\nname = a\nworkdir = w\n[embed]\nmodel = m\nout = o\n"),
            "/j/bad.ini:4: [embed] needs 'fasta' (e.g. ${preprocess.out}/uniref50_valid.fasta)");
  EXPECT_EQ(err("[job]\nname = a b\nworkdir = w\n[embed]\nmodel = m\nfasta = f\nout = o\n"),
            "/j/bad.ini:2: job name 'a b' may hold only letters, digits, '-', '_', '.'");
  EXPECT_EQ(err("[job]\nname = a\nworkdir = w\nfoo = 1\n"), "/j/bad.ini:4: unknown key 'foo' in [job] (name, workdir or a resource key)");
  EXPECT_EQ(err("[job]\nname = a\nworkdir = w\n"), "/j/bad.ini: no stage: add [preprocess] and/or [embed]");
  EXPECT_EQ(err("[job]\nname = a\nworkdir = ${job.workdir}\n[embed]\nmodel = m\nfasta = f\nout = o\n"),
            "/j/bad.ini:3: ${job.workdir} refers to itself");
  EXPECT_EQ(err("[job]\nname = a\nworkdir = w\ntime = 00:04:00\n[embed]\nmodel = m\nfasta = f\nout = o\n"),
            "/j/bad.ini:5: [embed] signal_seconds (300) must be shorter than its time limit (00:04:00 = 240 s)");
  EXPECT_EQ(err("[job]\nname = a\nworkdir = w\n[embed]\nmodel = m\nfasta = f\nout = o\ntime = 1h\n"),
            "/j/bad.ini:8: time '1h' is not a Slurm time (M, H:M:S, D-H:M:S, ...)");
  for (const char* ok : {"10", "10:00", "1:00:00", "2-0", "1-12:00", "1-00:00:00"})
    EXPECT_EQ(err(std::string("[job]\nname = a\nworkdir = w\n[embed]\nmodel = m\nfasta = f\nout = o\ntime = ") + ok + "\n"), "") << ok;
  EXPECT_EQ(err("x = 1\n"), "/j/bad.ini:1: 'x' is outside any [section]");
  EXPECT_EQ(err("[job]\nname\n"), "/j/bad.ini:2: expected 'key = value', found 'name'");
  EXPECT_EQ(err("[job]\n[job]\n"), "/j/bad.ini:2: section [job] appears twice");
}

TEST(JobFile, ShippedJobFilesParse) {
  const char* src = source_dir();
  auto demo = esm::jobs::load_job(std::string(src) + "/jobs/demo.ini");
  EXPECT_EQ(demo.name, "demo");
  ASSERT_EQ(demo.stages.size(), 2u);
  EXPECT_EQ(demo.stages[1].input, demo.stages[0].out + "/uniref50_valid.fasta");
  EXPECT_TRUE(fs::exists(demo.stages[0].option("uniref50")->value));
  EXPECT_TRUE(fs::exists(demo.stages[1].option("model")->value));
  auto big = esm::jobs::load_job(std::string(src) + "/jobs/uniref50-esm2nv.ini");
  ASSERT_EQ(big.stages.size(), 2u);
  EXPECT_EQ(big.stages[1].res.ranks_per_node, 8);
  EXPECT_EQ(big.stages[1].res.gpus_per_node, 8);
  EXPECT_EQ(big.stages[1].input, big.stages[0].out + "/uniref50_train_filt.fasta");
}

TEST(JobFile, ShellQuoting) {
  EXPECT_EQ(esm::jobs::shell_quote("/a/b-c_d.h5"), "/a/b-c_d.h5");
  EXPECT_EQ(esm::jobs::shell_quote("a b"), "'a b'");
  EXPECT_EQ(esm::jobs::shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(esm::jobs::shell_quote(""), "''");
  EXPECT_EQ(esm::jobs::shell_quote("$HOME"), "'$HOME'");
}
