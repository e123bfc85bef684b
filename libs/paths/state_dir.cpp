#include "state_dir.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

namespace vespid::paths {

namespace {
std::string home_dir() {
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') return h;
  // No $HOME (systemd units, cron): fall back to the password database.
  if (const passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_dir != nullptr)
    return pw->pw_dir;
  return "/";
}
}  // namespace

std::string resolve_state_dir(const std::string& explicit_dir) {
  if (!explicit_dir.empty()) return explicit_dir;
  if (const char* x = std::getenv("XDG_STATE_HOME"); x != nullptr && *x == '/') {
    return std::string(x) + "/vespid";
  }
  return home_dir() + "/.local/state/vespid";
}

}  // namespace vespid::paths
