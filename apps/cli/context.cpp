#include "context.hpp"

#include <sys/stat.h>

#include <CLI/CLI.hpp>

#include "state_dir.hpp"  // libs/paths

namespace vespid::cli {

namespace {

// Where the packaged system service keeps its state and admin socket (docs/operations.md).
constexpr const char* kSystemStateDir = "/var/lib/vespid";

bool is_directory(const char* path) {
  struct stat st {};
  return ::stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

std::string Context::state_dir() const {
  return paths::resolve_state_dir(opts_.state_dir);
}

std::string Context::socket_path() const {
  return opts_.socket.empty() ? paths::admin_socket_path(state_dir()) : opts_.socket;
}

OperatorClient& Context::client() {
  if (client_) return *client_;
  try {
    client_ = OperatorClient::connect(socket_path(), state_dir());
  } catch (const ConnectionError& e) {
    // Nobody at the caller's own state dir, but the system service is installed: say where it
    // is rather than switch to it, since which gateway a command administers is never a guess.
    if (!opts_.state_dir.empty() || !opts_.socket.empty() || state_dir() == kSystemStateDir ||
        !is_directory(kSystemStateDir)) {
      throw;
    }
    throw ConnectionError(std::string(e.what()) + "\nthe system service (vespid-gateway.service) " +
                          "keeps its socket in " + kSystemStateDir + ": sudo vespid --state-dir " +
                          kSystemStateDir + " ...");
  }
  return *client_;
}

nlohmann::json Context::call(const std::string& method, const nlohmann::json& params) {
  return client().call(method, params);
}

nlohmann::json Context::call(const std::string& method, const nlohmann::json& params,
                             OperatorClient::Duration timeout) {
  return client().call(method, params, timeout);
}

void on_run(CLI::App* sub, Registry& reg, std::function<void()> fn) {
  sub->callback([&action = reg.action, fn = std::move(fn)] { action = fn; });
}

}  // namespace vespid::cli
