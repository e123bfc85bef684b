// What every command needs: the global options, a connection to the gateway made on first use,
// and the choice between human tables and JSON.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "operator_client.hpp"

namespace CLI {
class App;
}

namespace vespid::cli {

struct GlobalOptions {
  std::string state_dir;  // --state-dir; empty means the usual resolution
  std::string socket;     // --socket; overrides <state dir>/gateway.sock
  bool json = false;      // --json
};

class Context {
 public:
  explicit Context(const GlobalOptions& opts) : opts_(opts) {}

  bool json() const { return opts_.json; }
  std::string state_dir() const;
  std::string socket_path() const;

  // Calls one operator.v1 method on the gateway, connecting first if needed. Throws
  // OperatorError (the gateway said no) or ConnectionError (it could not be asked).
  nlohmann::json call(const std::string& method,
                      const nlohmann::json& params = nlohmann::json::object());
  // The same with an answer timeout other than the client's default (30 s), for methods that
  // legitimately take long (`nodes.invoke` waits for a node).
  nlohmann::json call(const std::string& method, const nlohmann::json& params,
                      OperatorClient::Duration timeout);

  // The connection itself, connecting first if needed, for commands that wait for events.
  OperatorClient& client();

 private:
  const GlobalOptions& opts_;
  std::optional<OperatorClient> client_;
};

// Command groups register themselves into this. A command's CLI11 callback only records what
// to run; main() runs it after parsing succeeded, so usage errors never touch the gateway.
struct Registry {
  CLI::App& app;
  Context& ctx;
  std::function<void()>& action;
};

// Makes `sub` run `fn` when it is the command chosen on the command line.
void on_run(CLI::App* sub, Registry& reg, std::function<void()> fn);

}  // namespace vespid::cli
