#include "toolset_skills.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

using namespace vespid::agent;
using nlohmann::json;

namespace {

json skill(const std::string& name, const std::string& content, bool enabled = true) {
  return {{"name", name}, {"enabled", enabled}, {"content", content}};
}

json toolset(std::vector<json> skills) {
  return {{"name", "ts"}, {"skills", skills}};
}

using Names = std::vector<std::string>;

}  // namespace

TEST(ToolsetSkills, WalksInOrderAndSkipsDisabled) {
  const auto r = apply_toolset_skills(
      toolset({skill("b", "B body"), skill("off", "x", false), skill("a", "A body")}), SkillCaps{});
  EXPECT_EQ(r.applied, (Names{"b", "a"}));
  EXPECT_EQ(r.skipped, (Names{"off"}));
  EXPECT_TRUE(r.truncated.empty());
  EXPECT_LT(r.text.find("### b\nB body"), r.text.find("### a\nA body"));
  EXPECT_EQ(r.text.find("### off"), std::string::npos);
  EXPECT_EQ(r.total_chars, std::string("### b\nB body\n### a\nA body\n").size());
  EXPECT_NE(r.text.find("read-only"), std::string::npos);
}

TEST(ToolsetSkills, TruncatesALongBundleInsteadOfRejectingIt) {
  SkillCaps caps;
  caps.max_chars_per_bundle = 10;
  const auto r = apply_toolset_skills(toolset({skill("long", std::string(50, 'x'))}), caps);
  EXPECT_EQ(r.applied, (Names{"long"}));
  EXPECT_EQ(r.truncated, (Names{"long"}));
  EXPECT_NE(r.text.find("### long\n" + std::string(10, 'x') + "\n"), std::string::npos);
  EXPECT_EQ(r.text.find(std::string(11, 'x')), std::string::npos);
}

TEST(ToolsetSkills, StopsAtTheTotalCap) {
  SkillCaps caps;
  caps.max_chars_per_bundle = 1000;
  caps.max_total_chars = 1500;
  // Each block is "### sN\n" (7) + 600 + "\n" = 608; the third crosses 1500 and is cut to 284.
  const auto r = apply_toolset_skills(
      toolset({skill("s1", std::string(600, 'a')), skill("s2", std::string(600, 'b')),
               skill("s3", std::string(600, 'c')), skill("s4", std::string(600, 'd'))}),
      caps);
  EXPECT_EQ(r.applied, (Names{"s1", "s2", "s3"}));
  EXPECT_EQ(r.truncated, (Names{"s3"}));
  EXPECT_EQ(r.skipped, (Names{"s4"}));
  EXPECT_EQ(r.total_chars, 1500u);
  EXPECT_EQ(r.text.find("dddd"), std::string::npos);
}

TEST(ToolsetSkills, DropsALastBundleThatWouldKeepUnder200Chars) {
  SkillCaps caps;
  caps.max_total_chars = 700;
  const auto r = apply_toolset_skills(
      toolset({skill("s1", std::string(600, 'a')), skill("s2", std::string(600, 'b'))}), caps);
  EXPECT_EQ(r.applied, (Names{"s1"}));
  EXPECT_EQ(r.skipped, (Names{"s2"}));
  EXPECT_EQ(r.total_chars, 608u);
}

TEST(ToolsetSkills, MaxBundlesCountsEnabledBundlesOnly) {
  SkillCaps caps;
  caps.max_bundles = 2;
  const auto r = apply_toolset_skills(
      toolset({skill("off", "x", false), skill("a", "1"), skill("b", "2"), skill("c", "3")}), caps);
  EXPECT_EQ(r.applied, (Names{"a", "b"}));
  EXPECT_EQ(r.skipped, (Names{"off", "c"}));
}

TEST(ToolsetSkills, CutsNeverSplitAUtf8Character) {
  SkillCaps caps;
  caps.max_chars_per_bundle = 3;
  const auto r = apply_toolset_skills(toolset({skill("u", "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9")}),
                                      caps);  // four é
  EXPECT_NE(r.text.find("### u\n\xC3\xA9\xC3\xA9\xC3\xA9\n"), std::string::npos);
  EXPECT_EQ(r.truncated, (Names{"u"}));
}

TEST(ToolsetSkills, EventPayloadHasTheContractFields) {
  const auto r = apply_toolset_skills(toolset({skill("a", "x")}), SkillCaps{});
  const json p = r.event_payload();
  EXPECT_EQ(p["applied"], json::array({"a"}));
  EXPECT_TRUE(p["truncated"].is_array());
  EXPECT_TRUE(p["skipped"].is_array());
  EXPECT_EQ(p["totalChars"], r.total_chars);
}

TEST(ToolsetSkills, RejectsAToolsetWithoutSkillsArray) {
  EXPECT_THROW(apply_toolset_skills(json{{"name", "x"}}, SkillCaps{}), std::invalid_argument);
  EXPECT_THROW(apply_toolset_skills(json("x"), SkillCaps{}), std::invalid_argument);
}

TEST(ToolsetSkills, CapsFromEnvironmentAreClamped) {
  ::setenv("TOOLSET_SKILLS_MAX_BUNDLES", "99", 1);
  ::setenv("TOOLSET_SKILLS_MAX_CHARS_PER_BUNDLE", "5", 1);
  ::setenv("TOOLSET_SKILLS_MAX_TOTAL_CHARS", "nope", 1);
  const auto caps = SkillCaps::from_env();
  EXPECT_EQ(caps.max_bundles, 32u);
  EXPECT_EQ(caps.max_chars_per_bundle, 1000u);
  EXPECT_EQ(caps.max_total_chars, 80000u);
  ::unsetenv("TOOLSET_SKILLS_MAX_BUNDLES");
  ::unsetenv("TOOLSET_SKILLS_MAX_CHARS_PER_BUNDLE");
  ::unsetenv("TOOLSET_SKILLS_MAX_TOTAL_CHARS");
  const auto def = SkillCaps::from_env();
  EXPECT_EQ(def.max_bundles, 8u);
  EXPECT_EQ(def.max_chars_per_bundle, 20000u);
  EXPECT_EQ(def.max_total_chars, 80000u);
}
