#include "context.hpp"

#include <CLI/CLI.hpp>

#include "state_dir.hpp"  // libs/paths

namespace vespid::cli {

std::string Context::state_dir() const {
  return paths::resolve_state_dir(opts_.state_dir);
}

std::string Context::socket_path() const {
  return opts_.socket.empty() ? paths::admin_socket_path(state_dir()) : opts_.socket;
}

OperatorClient& Context::client() {
  if (!client_) client_ = OperatorClient::connect(socket_path(), state_dir());
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
