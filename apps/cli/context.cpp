#include "context.hpp"

#include <CLI/CLI.hpp>

#include "paths/state_dir.hpp"

namespace vespid::cli {

std::string Context::state_dir() const {
  return paths::resolve_state_dir(opts_.state_dir);
}

std::string Context::socket_path() const {
  return opts_.socket.empty() ? paths::admin_socket_path(state_dir()) : opts_.socket;
}

nlohmann::json Context::call(const std::string& method, const nlohmann::json& params) {
  if (!client_) client_ = OperatorClient::connect(socket_path(), state_dir());
  return client_->call(method, params);
}

void on_run(CLI::App* sub, Registry& reg, std::function<void()> fn) {
  sub->callback([&action = reg.action, fn = std::move(fn)] { action = fn; });
}

}  // namespace vespid::cli
