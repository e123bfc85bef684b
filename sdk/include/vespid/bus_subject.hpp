// Header-only C++17 helper for bus plugins (vespid/bus.h): the subject rules in one place, so
// that every bus refuses the same subjects and matches wildcards the same way.
//
//   subject   tokens separated by '.', each one or more printable ASCII characters other than
//             space ('!' to '~'); no token may be a wildcard ("*" or ">").
//   pattern   the same, where a token may be "*" (exactly one token) and the last token may be
//             ">" (one or more tokens).
//   queue group  one or more printable ASCII characters other than space.
#ifndef VESPID_BUS_SUBJECT_HPP
#define VESPID_BUS_SUBJECT_HPP

#include <string>
#include <string_view>

namespace vsp::bus {

// Why `text` is not a valid subject (or, with `pattern`, a valid subscription pattern); empty
// when it is.
inline std::string subject_problem(std::string_view text, bool pattern) {
  const char* what = pattern ? "pattern" : "subject";
  if (text.empty()) return std::string("empty ") + what;
  size_t start = 0;
  while (true) {
    const size_t dot = text.find('.', start);
    const std::string_view token =
        text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    const bool last = dot == std::string_view::npos;
    if (token.empty()) {
      return std::string(what) + " \"" + std::string(text) + "\" has an empty token";
    }
    for (char c : token) {
      if (c < '!' || c > '~') {
        return std::string(what) + " \"" + std::string(text) +
               "\" contains a space, a control or a non-ASCII character";
      }
    }
    if (token == "*" || token == ">") {
      if (!pattern) {
        return "subject \"" + std::string(text) + "\" contains a wildcard (only patterns may)";
      }
      if (token == ">" && !last) {
        return "pattern \"" + std::string(text) + "\" has \">\" before its last token";
      }
    }
    if (last) return {};
    start = dot + 1;
  }
}

inline bool valid_subject(std::string_view text) {
  return subject_problem(text, false).empty();
}

// Why `group` is not a valid queue group name; empty when it is.
inline std::string queue_group_problem(std::string_view group) {
  if (group.empty()) return "empty queue group";
  for (char c : group) {
    if (c < '!' || c > '~') {
      return "queue group \"" + std::string(group) +
             "\" contains a space, a control or a non-ASCII character";
    }
  }
  return {};
}

// Whether the valid `subject` matches the valid `pattern`.
inline bool matches(std::string_view pattern, std::string_view subject) {
  size_t pi = 0, si = 0;
  while (true) {
    const size_t pe = pattern.find('.', pi);
    const std::string_view ptok = pattern.substr(pi, pe == std::string_view::npos ? pe : pe - pi);
    // A subject token is left here (the loop ends when either side runs out), and ">" takes it
    // and everything after it.
    if (ptok == ">") return true;
    const size_t se = subject.find('.', si);
    const std::string_view stok = subject.substr(si, se == std::string_view::npos ? se : se - si);
    if (ptok != "*" && ptok != stok) return false;
    const bool pattern_done = pe == std::string_view::npos;
    const bool subject_done = se == std::string_view::npos;
    if (pattern_done || subject_done) return pattern_done && subject_done;
    pi = pe + 1;
    si = se + 1;
  }
}

// Whether `pattern` uses a wildcard at all (an exact pattern can be looked up by subject).
inline bool has_wildcard(std::string_view pattern) {
  size_t start = 0;
  while (true) {
    const size_t dot = pattern.find('.', start);
    const std::string_view token =
        pattern.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (token == "*" || token == ">") return true;
    if (dot == std::string_view::npos) return false;
    start = dot + 1;
  }
}

}  // namespace vsp::bus

#endif  // VESPID_BUS_SUBJECT_HPP
