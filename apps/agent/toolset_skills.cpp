#include "toolset_skills.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace vespid::agent {

namespace {

// Below this many characters a truncated last bundle is more confusing than useful.
constexpr std::size_t kMinUsefulRemainder = 200;

bool is_continuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

std::size_t env_size(const char* name, std::size_t fallback, std::size_t lo, std::size_t hi) {
  const char* raw = std::getenv(name);
  if (raw == nullptr || *raw == '\0') return fallback;
  char* end = nullptr;
  const long long v = std::strtoll(raw, &end, 10);
  if (end == raw || *end != '\0') return fallback;
  if (v < static_cast<long long>(lo)) return lo;
  return std::min(static_cast<std::size_t>(v), hi);
}

std::string skill_name(const nlohmann::json& skill, std::size_t index) {
  if (skill.is_object()) {
    const auto it = skill.find("name");
    if (it != skill.end() && it->is_string() && !it->get<std::string>().empty()) {
      return it->get<std::string>();
    }
  }
  return "skill-" + std::to_string(index + 1);
}

std::string cut(const std::string& s, std::size_t chars) {
  return s.substr(0, utf8_prefix_bytes(s, chars));
}

std::string base64_decoded(const std::string& in) {
  std::string out(3 * (in.size() / 4) + 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) throw std::invalid_argument("a skill file is not valid base64");
  std::size_t len = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts the padding's zero bytes too.
  for (std::size_t i = in.size(); i > 0 && in[i - 1] == '='; --i) --len;
  out.resize(std::min(len, out.size()));
  return out;
}

// The reference's toolset ({id, name, mcpServers, agentSkills: [{format: "agentskills-v1", id,
// name, enabled?, files: [{path, content, encoding?}]}]}) as this host's skill list: each
// bundle's SKILL.md is its content. Bundles of another form are left out, as the reference
// agent leaves them out.
nlohmann::json skills_of_agent_skills(const nlohmann::json& bundles) {
  nlohmann::json skills = nlohmann::json::array();
  for (const auto& b : bundles) {
    if (!b.is_object() || b.value("format", std::string()) != "agentskills-v1") continue;
    const auto files = b.find("files");
    if (files == b.end() || !files->is_array()) continue;
    for (const auto& f : *files) {
      if (!f.is_object() || f.value("path", std::string()) != "SKILL.md") continue;
      if (!f.contains("content") || !f["content"].is_string()) break;
      std::string content = f["content"].get<std::string>();
      if (f.value("encoding", std::string("utf8")) == "base64") content = base64_decoded(content);
      nlohmann::json skill = {{"name", b.value("name", b.value("id", std::string()))},
                              {"content", std::move(content)}};
      if (b.contains("enabled")) skill["enabled"] = b["enabled"];
      skills.push_back(std::move(skill));
      break;
    }
  }
  return skills;
}

}  // namespace

std::size_t utf8_length(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return !is_continuation(static_cast<unsigned char>(c)); }));
}

std::size_t utf8_prefix_bytes(const std::string& s, std::size_t n) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!is_continuation(static_cast<unsigned char>(s[i]))) {
      if (seen == n) return i;
      ++seen;
    }
  }
  return s.size();
}

SkillCaps SkillCaps::from_env() {
  SkillCaps caps;
  caps.max_bundles = env_size("TOOLSET_SKILLS_MAX_BUNDLES", caps.max_bundles, 0, 32);
  caps.max_chars_per_bundle =
      env_size("TOOLSET_SKILLS_MAX_CHARS_PER_BUNDLE", caps.max_chars_per_bundle, 1000, 200000);
  caps.max_total_chars =
      env_size("TOOLSET_SKILLS_MAX_TOTAL_CHARS", caps.max_total_chars, 5000, 1000000);
  return caps;
}

nlohmann::json AppliedSkills::event_payload() const {
  return {{"applied", applied},
          {"truncated", truncated},
          {"skipped", skipped},
          {"totalChars", total_chars}};
}

AppliedSkills apply_toolset_skills(const nlohmann::json& toolset, const SkillCaps& caps) {
  if (!toolset.is_object()) throw std::invalid_argument("toolset must be an object");
  const auto skills_it = toolset.find("skills");
  const auto bundles_it = toolset.find("agentSkills");
  nlohmann::json skills;
  if (skills_it != toolset.end()) {
    if (!skills_it->is_array()) throw std::invalid_argument("toolset.skills must be an array");
    skills = *skills_it;
  } else if (bundles_it != toolset.end() && bundles_it->is_array()) {
    skills = skills_of_agent_skills(*bundles_it);
  } else {
    throw std::invalid_argument("toolset.skills (or the reference's agentSkills) must be an array");
  }
  const std::string toolset_name = toolset.value("name", std::string("unnamed"));

  AppliedSkills out;
  std::vector<std::string> blocks;
  std::size_t used_bundles = 0;
  bool stopped = false;  // the total cap was reached
  for (std::size_t i = 0; i < skills.size(); ++i) {
    const auto& skill = skills[i];
    const std::string name = skill_name(skill, i);
    const bool enabled =
        !(skill.is_object() && skill.contains("enabled") && skill["enabled"] == false);
    if (stopped || !enabled || used_bundles >= caps.max_bundles) {
      out.skipped.push_back(name);
      continue;
    }
    ++used_bundles;
    std::string content;
    if (skill.is_object() && skill.contains("content") && skill["content"].is_string()) {
      content = skill["content"].get<std::string>();
    }
    bool truncated = false;
    if (utf8_length(content) > caps.max_chars_per_bundle) {
      content = cut(content, caps.max_chars_per_bundle);
      truncated = true;
    }
    std::string block = "### " + name + "\n" + content;
    if (block.empty() || block.back() != '\n') block.push_back('\n');
    const std::size_t len = utf8_length(block);
    if (out.total_chars + len > caps.max_total_chars) {
      stopped = true;
      const std::size_t remaining = caps.max_total_chars - out.total_chars;
      if (remaining < kMinUsefulRemainder) {
        out.skipped.push_back(name);
        continue;
      }
      block = cut(block, remaining);
      truncated = true;
    }
    out.total_chars += utf8_length(block);
    out.applied.push_back(name);
    if (truncated) out.truncated.push_back(name);
    blocks.push_back(std::move(block));
  }

  if (!blocks.empty()) {
    out.text = "Toolset skills (read-only context)\nToolset: " + toolset_name +
               "\nThe skill documents below are reference material only; they are not tools you "
               "can call.\n\n";
    for (const auto& b : blocks) out.text += b;
  }
  return out;
}

}  // namespace vespid::agent
