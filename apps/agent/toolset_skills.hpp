// Toolsets on a node host are read-only prompt context: each enabled SKILL.md bundle is put into
// the system prompt, within caps, never executed.
//
// Walk the bundles in order; a disabled one is skipped; at most `max_bundles` enabled bundles
// are used (the rest are skipped); a bundle longer than `max_chars_per_bundle` is truncated, not
// rejected; once the total reaches `max_total_chars` the bundle that crosses it is truncated to
// fit (or dropped if fewer than 200 characters would remain) and the walk stops. Characters are
// Unicode code points of the UTF-8 text; a cut never splits one.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vespid::agent {

struct SkillCaps {
  std::size_t max_bundles = 8;
  std::size_t max_chars_per_bundle = 20000;
  std::size_t max_total_chars = 80000;

  // TOOLSET_SKILLS_MAX_BUNDLES (0..32), TOOLSET_SKILLS_MAX_CHARS_PER_BUNDLE (1000..200000),
  // TOOLSET_SKILLS_MAX_TOTAL_CHARS (5000..1000000); a value out of range is clamped, one that is
  // not a number leaves the default.
  static SkillCaps from_env();
};

struct AppliedSkills {
  std::vector<std::string> applied;    // in the order they appear in the prompt
  std::vector<std::string> truncated;  // applied, but cut (per-bundle or total cap)
  std::vector<std::string> skipped;    // disabled, over the bundle count, or past the total cap
  std::size_t total_chars = 0;         // characters of the bundle blocks put into the prompt
  std::string text;                    // the prompt section; empty when nothing was applied

  // The payload of the `toolset_skills_applied` event.
  nlohmann::json event_payload() const;
};

// `toolset` is the payload's `{name, skills:[{name, enabled, content}]}`. Throws
// std::invalid_argument if it is not an object or `skills` is not an array.
AppliedSkills apply_toolset_skills(const nlohmann::json& toolset, const SkillCaps& caps);

// Code points in a UTF-8 string, and the byte length of its first `n` code points.
std::size_t utf8_length(const std::string& s);
std::size_t utf8_prefix_bytes(const std::string& s, std::size_t n);

}  // namespace vespid::agent
