// An operator connection to the Clawdbot reference gateway's WebSocket (issue 17, run by hand
// beside this gateway): the upgrade, then its handshake request `connect` (protocol 3, role
// operator, scope operator.admin, the gateway's auth token), then request frames
// {type:"req", id, method, params} answered by {type:"res", id, ok, payload?, error?{code}}.
// Events on the connection are read and ignored. As a load channel it calls `node.invoke` of
// command "echo" with params {"p": payload} on bridge nodes round robin, as the gateway target
// calls `nodes.invoke`.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "load.hpp"
#include "stream_conn.hpp"
#include "ws_frames.hpp"

namespace vespid::bench {

class ClawdbotOperator : public Channel, public std::enable_shared_from_this<ClawdbotOperator> {
 public:
  // ok, the error's code when not ok, and the payload's raw JSON when ok.
  using Done = std::function<void(bool ok, std::string_view code, std::string_view payload)>;

  // Connects to 127.0.0.1:port and completes the handshake; blocks (from any thread but the
  // io_context's) until the gateway accepted it. Throws std::runtime_error otherwise, or after
  // 15 s.
  static std::shared_ptr<ClawdbotOperator> open(boost::asio::io_context& io, int port,
                                                const std::string& token);

  // A blocking call (setup: pairing) from a thread that is not the connection's: the payload,
  // or std::runtime_error with the error.
  nlohmann::json call(const std::string& method, const nlohmann::json& params,
                      double timeout_s = 60);

  // The load channel: node.invoke on `nodes`, round robin from `first`. Set before the load.
  void invoke_nodes(std::shared_ptr<const std::vector<std::string>> nodes, std::size_t first,
                    const std::string& payload);

  boost::asio::io_context& io() override { return conn_->io(); }
  void send_request(uint64_t id) override;
  void close() override;

  explicit ClawdbotOperator(std::shared_ptr<StreamConn> conn) : conn_(std::move(conn)) {}

 private:
  enum class State { Upgrading, Connecting, Ready, Closed };

  // On the connection's thread: sends one request frame, `done` gets its answer.
  void request(std::string_view method, std::string_view params_json, Done done);
  std::size_t on_data(std::string_view data);
  void on_text(std::string_view text);
  void on_closed();
  void fail_handshake(const std::string& why);

  std::shared_ptr<StreamConn> conn_;
  std::string token_;
  State state_ = State::Upgrading;
  WsReader reader_;
  std::promise<std::string> ready_;  // "" once hello-ok arrived, else why not
  bool ready_set_ = false;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Done> waiting_;
  std::shared_ptr<const std::vector<std::string>> nodes_;
  std::size_t next_node_ = 0;
  std::string params_tail_;  // `","command":"echo","params":{"p":"<payload>"},"idempotencyKey":"`
  std::string frame_;        // reused for each request frame's text
};

}  // namespace vespid::bench
