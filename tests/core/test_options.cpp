#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "core/error.hpp"
#include "core/options.hpp"

namespace po = boost::program_options;
using esm::cli::CommandInfo;

namespace {
struct Parsed {
  po::variables_map vm;
};
Parsed run(std::vector<std::string> args, const std::string& ini_text) {
  // One directory per test and process: ctest runs these cases in parallel (-j), and a shared
  // c.ini let one case parse another's file.
  const auto* t = ::testing::UnitTest::GetInstance()->current_test_info();
  auto dir = std::filesystem::temp_directory_path() /
             ("esm_options_test_" + std::string(t ? t->name() : "x") + "_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto ini = dir / "c.ini";
  std::ofstream(ini) << ini_text;
  for (auto& a : args)
    if (a == "@INI") a = ini.string();
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  po::options_description desc("test");
  desc.add_options()("seed", po::value<int>()->default_value(1), "")("name", po::value<std::string>(), "");
  po::positional_options_description pos;
  Parsed p;
  CommandInfo info{"demo", "esmpipe demo", "demo"};
  esm::cli::parse(static_cast<int>(argv.size()), argv.data(), info, desc, pos, p.vm);
  return p;
}
}  // namespace

TEST(Options, ConfigFileAndCommandLineWins) {
  auto p = run({"demo", "--config", "@INI", "--seed", "7"}, "seed = 3\nname = x  # comment\n[other]\nbogus = 1\n");
  EXPECT_EQ(p.vm["seed"].as<int>(), 7);
  EXPECT_EQ(p.vm["name"].as<std::string>(), "x");
}

TEST(Options, SectionOfTheCommandApplies) {
  auto p = run({"demo", "--config", "@INI"}, "[demo]\nseed = 9\n");
  EXPECT_EQ(p.vm["seed"].as<int>(), 9);
}

TEST(Options, UnknownKeyNamesFileAndLine) {
  try {
    run({"demo", "--config", "@INI"}, "seed = 3\n\nsede = 4\n");
    FAIL();
  } catch (const esm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("c.ini:3: unknown option 'sede'"), std::string::npos) << e.what();
  }
}

TEST(Options, SplitList) {
  EXPECT_EQ(esm::cli::split_list("1, 2,,-1"), (std::vector<std::string>{"1", "2", "-1"}));
}
