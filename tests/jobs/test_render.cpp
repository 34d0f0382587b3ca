// sbatch template rendering: placeholders, dropped lines, multi-line values, errors.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "core/error.hpp"
#include "job.hpp"
#include "source_dir.hpp"
#include "slurm.hpp"

using esm::jobs::render_template;

TEST(Render, FillsDropsAndExpands) {
  std::map<std::string, std::string> v = {{"a", "1"}, {"empty", ""}, {"lines", "#SBATCH --x\n#SBATCH --y"}, {"b", "B"}};
  std::string t = "#!/bin/bash\n#SBATCH --n={{a}}\n#SBATCH --p={{empty}}\n{{lines}}\necho {{ a }}{{empty}} {{b}}\n";
  EXPECT_EQ(render_template(t, "t.sbatch", v), "#!/bin/bash\n#SBATCH --n=1\n#SBATCH --x\n#SBATCH --y\necho 1 B\n");
}

TEST(Render, UnknownPlaceholderNamesTheLine) {
  try {
    render_template("a\n#SBATCH {{nope}}\n", "/s/t.sbatch", {});
    FAIL() << "no error";
  } catch (const esm::Error& e) {
    EXPECT_STREQ(e.what(), "/s/t.sbatch:2: unknown placeholder {{nope}}");
  }
  EXPECT_THROW(render_template("{{a\n", "t", {{"a", "1"}}), esm::Error);
}

TEST(Render, ShippedTemplatesRenderForBothStages) {
  const char* src = source_dir();
  setenv("ESMPIPE_SLURM_DIR", (std::string(src) + "/slurm").c_str(), 1);
  auto job = esm::jobs::load_job(std::string(src) + "/jobs/uniref50-esm2nv.ini");
  for (const char* tpl : {"dgx-a100", "dgx-h100", "cpu"}) {
    esm::jobs::Overrides o;
    o.sets = {std::string("embed.template=") + tpl};
    job = esm::jobs::load_job(std::string(src) + "/jobs/uniref50-esm2nv.ini", o);
    for (const auto& stage : job.stages) {
      std::string path = esm::jobs::find_template(job, stage);
      std::ifstream in(path);
      std::string text((std::istreambuf_iterator<char>(in)), {});
      std::string s = render_template(text, path, esm::jobs::template_values(job, stage, o, "/opt/esmpipe", path));
      EXPECT_EQ(s.find("{{"), std::string::npos) << s;
      EXPECT_NE(s.find("#SBATCH --job-name=uniref50-esm2nv-" + stage.name + "\n"), std::string::npos) << s;
      EXPECT_NE(s.find("--mpi=pmix"), std::string::npos);
      EXPECT_NE(s.find("#SBATCH --requeue\n"), std::string::npos);
      EXPECT_NE(s.find("--output=" + job.workdir + "/logs/uniref50-esm2nv-" + stage.name + "-%j.out"), std::string::npos);
      if (stage.name == "embed") {
        EXPECT_NE(s.find("#SBATCH --signal=B:USR1@600\n"), std::string::npos) << s;
        EXPECT_NE(s.find("esm_stage_begin \"--resume\""), std::string::npos);
        if (std::string(tpl) != "cpu") {
          EXPECT_NE(s.find("#SBATCH --gpus-per-node=8\n"), std::string::npos);
        }
      } else {
        EXPECT_EQ(s.find("--signal"), std::string::npos) << "preprocess has no signal_seconds";
        EXPECT_EQ(s.find("--gpus-per-node"), std::string::npos) << "gpus_per_node = 0 drops the line";
      }
    }
  }
}
