#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/json.hpp"

using esm::json::parse;
using esm::json::Value;

TEST(Json, RoundTripKeepsOrderAndTypes) {
  std::string text = R"({"z":1,"a":[true,false,null],"s":"x\"y\n","d":0.5,"big":9007199254740993})";
  Value v = parse(text);
  EXPECT_EQ(v.dump(), text);
  EXPECT_EQ(v.at("big").as_int(), 9007199254740993LL);
  EXPECT_EQ(v.at("s").as_string(), "x\"y\n");
  EXPECT_DOUBLE_EQ(v.at("d").as_double(), 0.5);
}

TEST(Json, UnicodeEscapes) {
  EXPECT_EQ(parse(R"("\u00e9\ud83d\ude00")").as_string(), "\xc3\xa9\xf0\x9f\x98\x80");
}

TEST(Json, ErrorsNameThePosition) {
  try {
    parse("{\"a\": [1, 2,, 3]}", "config.json");
    FAIL();
  } catch (const esm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("config.json: invalid JSON at byte"), std::string::npos);
  }
  EXPECT_THROW(parse("{\"a\": 1} x"), esm::Error);
  EXPECT_THROW(parse("\"unterminated"), esm::Error);
  EXPECT_THROW(parse(""), esm::Error);
  EXPECT_THROW(parse(std::string(1000, '[')), esm::Error);
}

TEST(Json, TypeErrors) {
  Value v = parse("{\"a\": \"text\"}");
  EXPECT_THROW(v.at("a").as_int(), esm::Error);
  EXPECT_THROW(v.at("missing"), esm::Error);
}
