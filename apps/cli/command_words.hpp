// The command words of the command line (`vespid org create`): the aliases people type (`ls`,
// `rm`) and what to say when a word is not a command (the nearest one) or is missing (the
// commands there are), before CLI11's generic "A subcommand is required".
#pragma once

#include <CLI/CLI.hpp>
#include <iosfwd>
#include <string>
#include <vector>

namespace vespid::cli {

// Adds `ls` to every `list` and `rm` to the one `remove`, `delete` or `revoke` of each command
// group that has no such word yet. Call after every group is registered.
void add_conventional_aliases(CLI::App& app);

// Walks argv's command words the way CLI11 will. When one is not a command of its group, or a
// group is left without a command, says so on `err` (with the nearest command, or the group's
// commands) and returns true: a usage error, exit 2. False when CLI11 should parse as usual.
bool report_command_word_error(CLI::App& app, int argc, const char* const* argv, std::ostream& err);

// CLI11's parse errors in the CLI's form: `error: <what CLI11 says>` and which --help to read,
// that of the command the error is about.
void use_error_form(CLI::App& app);

// The number of single-character insertions, deletions, substitutions and swaps of neighbours
// that turn `a` into `b` (optimal string alignment distance).
std::size_t edit_distance(const std::string& a, const std::string& b);

// The candidate nearest to `word`, if near enough to be a typo of it; "" otherwise.
std::string nearest_word(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace vespid::cli
