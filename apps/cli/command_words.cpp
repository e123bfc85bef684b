#include "command_words.hpp"

#include <algorithm>
#include <ostream>

namespace vespid::cli {

namespace {

// The commands of a group, without CLI11's option groups (which are unnamed subcommands).
std::vector<CLI::App*> commands_of(CLI::App* group) {
  return group->get_subcommands([](CLI::App* sub) { return !sub->get_name().empty(); });
}

CLI::App* command_named(CLI::App* group, const std::string& word) {
  for (CLI::App* sub : commands_of(group)) {
    if (sub->check_name(word)) return sub;
  }
  return nullptr;
}

// The option as CLI11 will find it: on the command, or on one above it (fallthrough).
const CLI::Option* option_named(CLI::App* cmd, const std::string& word) {
  for (CLI::App* at = cmd; at != nullptr; at = at->get_parent()) {
    if (const CLI::Option* opt = at->get_option_no_throw(word)) return opt;
  }
  return nullptr;
}

std::string path_of(const CLI::App* cmd) {
  std::string path = cmd->get_name();
  for (const CLI::App* at = cmd->get_parent(); at != nullptr; at = at->get_parent()) {
    path = at->get_name() + " " + path;
  }
  return path;
}

std::string names_text(CLI::App* group) {
  std::string out;
  for (CLI::App* sub : commands_of(group)) out += (out.empty() ? "" : ", ") + sub->get_name();
  return out;
}

// The short help: the group's commands, one a line with what each does.
void print_commands(CLI::App* group, std::ostream& err) {
  const std::string path = path_of(group);
  err << "usage: " << path << " COMMAND [options]\n\ncommands:\n";
  std::size_t width = 0;
  for (CLI::App* sub : commands_of(group)) width = std::max(width, sub->get_name().size());
  for (CLI::App* sub : commands_of(group)) {
    err << "  " << sub->get_name() << std::string(width - sub->get_name().size() + 2, ' ')
        << sub->get_description() << '\n';
  }
  err << "\n`" << path << " COMMAND --help` shows a command's options and an example.\n";
}

}  // namespace

void add_conventional_aliases(CLI::App& app) {
  for (CLI::App* group : commands_of(&app)) add_conventional_aliases(*group);
  CLI::App* list = command_named(&app, "list");
  if (list != nullptr && command_named(&app, "ls") == nullptr) list->alias("ls");
  std::vector<CLI::App*> removers;
  for (const char* word : {"remove", "delete", "revoke"}) {
    if (CLI::App* sub = command_named(&app, word)) removers.push_back(sub);
  }
  // With two of them, `rm` would be a guess; people then type the word itself.
  if (removers.size() == 1 && command_named(&app, "rm") == nullptr) removers[0]->alias("rm");
}

void use_error_form(CLI::App& app) {
  app.failure_message([](const CLI::App* top, const CLI::Error& e) {
    // The command that was being parsed: the last one chosen, at each level.
    const CLI::App* at = top;
    for (auto chosen = at->get_subcommands(); !chosen.empty(); chosen = at->get_subcommands()) {
      at = chosen.back();
    }
    return "error: " + std::string(e.what()) + "\n`" + path_of(at) +
           " --help` shows the options and an example.\n";
  });
}

bool report_command_word_error(CLI::App& app, int argc, const char* const* argv,
                               std::ostream& err) {
  CLI::App* at = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--") return false;
    if (!word.empty() && word[0] == '-') {
      // CLI11 answers these itself, wherever they stand.
      if (word == "-h" || word == "--help" || word == "--version") return false;
      if (word.find('=') != std::string::npos) continue;
      const CLI::Option* opt = option_named(at, word);
      if (opt != nullptr && opt->get_expected_max() > 0) ++i;  // its value is no command
      continue;
    }
    if (commands_of(at).empty()) return false;  // a command's own arguments from here on
    CLI::App* next = command_named(at, word);
    if (next == nullptr) {
      std::vector<std::string> names;
      for (CLI::App* sub : commands_of(at)) names.push_back(sub->get_name());
      const std::string near = nearest_word(word, names);
      err << "error: \"" << word << "\" is not a command of " << path_of(at);
      if (!near.empty()) err << "; did you mean \"" << near << "\"?";
      err << "\n" << path_of(at) << " commands: " << names_text(at) << "\n";
      return true;
    }
    at = next;
  }
  if (commands_of(at).empty() || at->get_require_subcommand_min() == 0) return false;
  if (at != &app) err << "error: `" << path_of(at) << "` needs a command\n\n";
  if (at == &app) err << app.get_description() << "\n\n";
  print_commands(at, err);
  return true;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  // d[i][j]: the distance between the first i characters of a and the first j of b.
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string nearest_word(const std::string& word, const std::vector<std::string>& candidates) {
  // Two edits at most, and fewer than the word has letters: "x" is nobody's typo of "list".
  const std::size_t limit = std::min<std::size_t>(2, word.size() > 1 ? word.size() - 1 : 0);
  std::string best;
  std::size_t best_distance = limit + 1;
  for (const auto& c : candidates) {
    const std::size_t dist = edit_distance(word, c);
    if (dist < best_distance) {
      best = c;
      best_distance = dist;
    }
  }
  return best;
}

}  // namespace vespid::cli
