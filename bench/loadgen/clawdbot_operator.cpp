#include "clawdbot_operator.hpp"

#include <atomic>
#include <boost/asio/post.hpp>
#include <chrono>
#include <stdexcept>

#include "json_scan.hpp"

namespace vespid::bench {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

// Channels number their idempotency keys apart (the reference requires one per node.invoke).
std::atomic<uint64_t> g_channels{0};

// The handshake request: what Clawdbot's own CLI sends, with the gateway's shared token.
std::string connect_params(const std::string& token) {
  return json{
      {"minProtocol", 3},
      {"maxProtocol", 3},
      {"client",
       {{"id", "cli"}, {"version", "vespid-bench"}, {"platform", "linux"}, {"mode", "cli"}}},
      {"role", "operator"},
      {"scopes", {"operator.admin"}},
      {"auth", {{"token", token}}}}
      .dump();
}

}  // namespace

std::shared_ptr<ClawdbotOperator> ClawdbotOperator::open(asio::io_context& io, int port,
                                                         const std::string& token) {
  auto conn = std::make_shared<StreamConn>(io);
  auto op = std::make_shared<ClawdbotOperator>(conn);
  op->token_ = token;
  auto ready = op->ready_.get_future();
  asio::post(io, [op, port] {
    op->conn_->connect(tcp_endpoint("127.0.0.1", port), [op](const boost::system::error_code& ec) {
      if (ec) return op->fail_handshake("connect: " + ec.message());
      std::weak_ptr<ClawdbotOperator> weak = op;
      op->conn_->send(ws_upgrade_request("/", {}));
      op->conn_->start(
          [weak](std::string_view data) -> std::size_t {
            auto self = weak.lock();
            return self ? self->on_data(data) : data.size();
          },
          [weak](const boost::system::error_code&) {
            if (auto self = weak.lock()) self->on_closed();
          });
    });
  });
  if (ready.wait_for(std::chrono::seconds(15)) != std::future_status::ready) {
    op->close();
    throw std::runtime_error("clawdbot gateway: no hello-ok in 15 s");
  }
  const std::string why = ready.get();
  if (!why.empty()) throw std::runtime_error("clawdbot gateway: " + why);
  return op;
}

void ClawdbotOperator::fail_handshake(const std::string& why) {
  if (ready_set_) return;
  ready_set_ = true;
  state_ = State::Closed;
  ready_.set_value(why.empty() ? "refused" : why);
}

std::size_t ClawdbotOperator::on_data(std::string_view data) {
  std::size_t used = 0;
  if (state_ == State::Upgrading) {
    int status = 0;
    used = ws_parse_upgrade(data, status);
    if (used == 0) return 0;
    if (status != 101) {
      fail_handshake("upgrade answered " + std::to_string(status));
      conn_->close();
      return data.size();
    }
    state_ = State::Connecting;
    request("connect", connect_params(token_),
            [this](bool ok, std::string_view code, std::string_view) {
              if (!ok) return fail_handshake("connect refused: " + std::string(code));
              state_ = State::Ready;
              ready_set_ = true;
              ready_.set_value("");
            });
  }
  used += reader_.read(data.substr(used), *conn_, [this](std::string_view t) { on_text(t); });
  if (reader_.closed()) {
    fail_handshake("closed: " + std::to_string(reader_.close_code()) + " " +
                   reader_.close_reason());
    conn_->close();
  }
  return used;
}

void ClawdbotOperator::on_text(std::string_view text) {
  std::string_view type, raw_id, error, payload;
  bool ok = false;
  scan_object(text, [&](std::string_view key, std::string_view raw) {
    if (key == "type")
      type = raw;
    else if (key == "id")
      raw_id = raw;
    else if (key == "ok")
      ok = raw == "true";
    else if (key == "error")
      error = raw;
    else if (key == "payload")
      payload = raw;
    return true;
  });
  if (type != "\"res\"") return;  // events (ticks, presence, health) are not answers
  const auto id = to_uint(raw_id);
  if (!id) return;
  auto it = waiting_.find(*id);
  if (it == waiting_.end()) return;
  Done done = std::move(it->second);
  waiting_.erase(it);
  std::string_view code;
  if (!ok) {
    code = "?";
    scan_object(error, [&](std::string_view key, std::string_view raw) {
      if (key == "code") code = plain_string(raw).value_or("?");
      return key != "code";
    });
  }
  done(ok, code, payload);
}

void ClawdbotOperator::on_closed() {
  fail_handshake("connection closed during the handshake");
  state_ = State::Closed;
  // What is still waiting is never answered: the load driver counts it lost.
  waiting_.clear();
}

void ClawdbotOperator::request(std::string_view method, std::string_view params_json, Done done) {
  const uint64_t id = next_id_++;
  frame_ = "{\"type\":\"req\",\"id\":\"";
  frame_ += std::to_string(id);
  frame_ += "\",\"method\":\"";
  frame_ += method;
  frame_ += "\",\"params\":";
  frame_ += params_json;
  frame_ += '}';
  append_client_frame(conn_->out(), 0x1, frame_);
  conn_->flush_soon();
  waiting_.emplace(id, std::move(done));
}

json ClawdbotOperator::call(const std::string& method, const json& params, double timeout_s) {
  auto answer = std::make_shared<std::promise<std::pair<bool, std::string>>>();
  auto got = answer->get_future();
  asio::post(conn_->io(), [self = shared_from_this(), method, p = params.dump(), answer] {
    if (self->state_ != State::Ready) {
      answer->set_value({false, "not connected"});
      return;
    }
    self->request(method, p, [answer](bool ok, std::string_view code, std::string_view payload) {
      answer->set_value({ok, std::string(ok ? payload : code)});
    });
  });
  if (got.wait_for(std::chrono::duration<double>(timeout_s)) != std::future_status::ready) {
    throw std::runtime_error("clawdbot gateway: no answer to " + method);
  }
  auto [ok, text] = got.get();
  if (!ok) throw std::runtime_error("clawdbot gateway: " + method + " failed: " + text);
  return text.empty() ? json() : json::parse(text);
}

void ClawdbotOperator::invoke_nodes(std::shared_ptr<const std::vector<std::string>> nodes,
                                    std::size_t first, const std::string& payload) {
  nodes_ = std::move(nodes);
  next_node_ = first;
  params_tail_ = "\",\"command\":\"echo\",\"params\":{\"p\":\"" + payload +
                 "\"},\"idempotencyKey\":\"c" + std::to_string(g_channels.fetch_add(1)) + "-";
}

void ClawdbotOperator::send_request(uint64_t id) {
  if (state_ != State::Ready) return;  // closed under the load: counted lost
  const std::string& node = (*nodes_)[next_node_++ % nodes_->size()];
  std::string params = "{\"nodeId\":\"";
  params += node;
  params += params_tail_;
  params += std::to_string(id);
  params += "\"}";
  request("node.invoke", params, [this, id](bool ok, std::string_view code, std::string_view) {
    if (reply_) reply_(id, ok, code);
  });
}

void ClawdbotOperator::close() {
  asio::post(conn_->io(), [self = shared_from_this()] {
    self->state_ = State::Closed;
    self->conn_->close();
  });
}

}  // namespace vespid::bench
