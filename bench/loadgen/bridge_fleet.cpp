#include "bridge_fleet.hpp"

#include <boost/asio/post.hpp>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <thread>

#include "clock.hpp"
#include "json_scan.hpp"
#include "operator_client.hpp"
#include "stream_conn.hpp"

namespace vespid::bench {

namespace asio = boost::asio;
using nlohmann::json;

// Fleet-wide tallies of one connect round, touched from every client thread.
struct BridgeFleet::Shared : ConnectRound {};

struct BridgeFleet::Node : std::enable_shared_from_this<BridgeFleet::Node> {
  enum class State { Idle, Connecting, Handshake, Online, Done };

  Node(asio::io_context& io_, BridgeFleet& fleet_, std::string id_)
      : io(io_), fleet(fleet_), id(std::move(id_)) {}

  asio::io_context& io;
  BridgeFleet& fleet;
  std::string id;
  std::string token;  // from pair-ok, or given
  std::shared_ptr<StreamConn> conn;
  State state = State::Idle;

  // Connects and sends `first` (a hello or a pair-request line).
  void open(std::string first, std::shared_ptr<Shared> shared) {
    state = State::Connecting;
    conn = std::make_shared<StreamConn>(io);
    if (fleet.tls_) conn->use_tls(fleet.tls_);
    auto self = shared_from_this();
    conn->connect(tcp_endpoint("127.0.0.1", fleet.port_), [self, first = std::move(first), shared](
                                                              const boost::system::error_code& ec) {
      shared->connecting.fetch_sub(1);
      if (ec) {
        self->state = State::Done;
        shared->refuse("connect: " + ec.message());
        return;
      }
      self->state = State::Handshake;
      std::weak_ptr<Node> weak = self;
      self->conn->send(first);
      self->conn->start(
          [weak, shared](std::string_view data) -> std::size_t {
            auto n = weak.lock();
            if (!n) return data.size();
            return for_each_line(data, [&](std::string_view line) { n->on_line(line, *shared); });
          },
          [weak, shared](const boost::system::error_code& ec2) {
            if (auto n = weak.lock()) n->on_closed(ec2, *shared);
          });
    });
  }

  void on_line(std::string_view line, Shared& shared) {
    std::string_view type, raw_id, params, raw_token, code;
    scan_object(line, [&](std::string_view key, std::string_view raw) {
      if (key == "type")
        type = raw;
      else if (key == "id")
        raw_id = raw;
      else if (key == "paramsJSON")
        params = raw;
      else if (key == "token")
        raw_token = raw;
      else if (key == "code")
        code = raw;
      return true;
    });
    if (type == "\"invoke\"") {
      // Answer at once, echoing the params: the node costs as little as a node can.
      std::string& out = conn->out();
      out += "{\"type\":\"invoke-res\",\"id\":";
      out += raw_id;
      out += ",\"ok\":true,\"payloadJSON\":";
      out += params.empty() ? std::string_view("null") : params;
      out += "}\n";
      conn->flush_soon();
      fleet.invokes_.fetch_add(1, std::memory_order_relaxed);
    } else if (type == "\"ping\"") {
      std::string& out = conn->out();
      out += "{\"type\":\"pong\",\"id\":";
      out += raw_id.empty() ? std::string_view("null") : raw_id;
      out += "}\n";
      conn->flush_soon();
      fleet.pings_.fetch_add(1, std::memory_order_relaxed);
    } else if (type == "\"pair-ok\"") {
      token = std::string(plain_string(raw_token).value_or(""));
    } else if (type == "\"hello-ok\"") {
      if (state != State::Handshake) return;
      state = State::Online;
      fleet.online_.fetch_add(1);
      shared.online_now();
    } else if (type == "\"error\"") {
      // NOT_PAIRED / UNAUTHORIZED before hello-ok refuse this node; other errors are noted.
      if (state == State::Handshake) {
        state = State::Done;
        shared.refuse("error " + std::string(plain_string(code).value_or("?")));
        conn->close();
      }
    }
  }

  void on_closed(const boost::system::error_code& ec, Shared& shared) {
    if (state == State::Online) fleet.online_.fetch_sub(1);
    if (state == State::Handshake) {
      shared.refuse(ec == asio::error::eof ? "closed before hello-ok"
                                           : "closed before hello-ok: " + ec.message());
    }
    state = State::Done;
  }
};

BridgeFleet::BridgeFleet(IoPool& pool, int port, std::shared_ptr<TlsClient> tls)
    : pool_(pool), port_(port), tls_(std::move(tls)), shared_(std::make_shared<Shared>()) {}

BridgeFleet::~BridgeFleet() = default;

std::vector<NodeCred> BridgeFleet::pair(const std::vector<std::string>& ids,
                                        const std::string& socket_path, const std::string& org,
                                        double timeout_s) {
  PairApprover admin;
  admin.pending = [socket_path] {
    // A fresh connection each time: an admin connection hears every node event, and one left
    // unread while thousands of nodes pair would be cut off as a slow consumer.
    json pending = cli::OperatorClient::connect(socket_path)
                       .call("nodes.pending", json::object(), std::chrono::seconds(120));
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& p : pending["pending"]) {
      out.emplace_back(p["nodeId"].get<std::string>(), p["requestId"].get<std::string>());
    }
    return out;
  };
  admin.approve = [socket_path, org](const std::vector<std::string>& request_ids,
                                     std::string& last_error) {
    approve_all(socket_path, org, request_ids, last_error);
  };
  return pair(ids, admin, timeout_s);
}

std::vector<NodeCred> BridgeFleet::pair(const std::vector<std::string>& ids,
                                        const PairApprover& approver, double timeout_s) {
  const uint64_t deadline = now_ns() + static_cast<uint64_t>(timeout_s * 1e9);
  auto shared = std::make_shared<Shared>();
  std::vector<std::shared_ptr<Node>> fresh;
  for (const auto& id : ids) {
    auto n = std::make_shared<Node>(pool_.next(), *this, id);
    fresh.push_back(n);
    nodes_.push_back(n);
    const std::string line = json{{"type", "pair-request"},
                                  {"nodeId", id},
                                  {"displayName", "bench " + id},
                                  {"platform", "vespid-bench"},
                                  {"commands", {"echo"}}}
                                 .dump() +
                             "\n";
    shared->connecting.fetch_add(1);
    asio::post(n->io, [n, line, shared] { n->open(line, shared); });
    // A few hundred connects in flight at a time: pairing is setup, not the thing measured.
    while (shared->connecting.load() > 256)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  // Approve what is pending for these nodes, check who got pair-ok and hello-ok, and go again
  // until all did: a node whose stored request belonged to an earlier socket (an interrupted
  // run) files a new request after the first approval, which the next round approves.
  std::set<std::string> approved;  // requestIds
  std::string last_error;
  while (true) {
    std::atomic<std::size_t> checked{0};
    std::vector<NodeCred> got(fresh.size());
    std::vector<char> done(fresh.size(), 0);
    for (std::size_t i = 0; i < fresh.size(); ++i) {
      asio::post(fresh[i]->io, [&, i] {
        got[i] = {fresh[i]->id, fresh[i]->token};
        done[i] = !fresh[i]->token.empty() && fresh[i]->state == Node::State::Online;
        ++checked;
      });
    }
    while (checked.load() < fresh.size()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::set<std::string> waiting;
    for (std::size_t i = 0; i < fresh.size(); ++i) {
      if (!done[i]) waiting.insert(fresh[i]->id);
    }
    if (waiting.empty()) return got;
    if (now_ns() > deadline || shared->refused.load() > 0) {
      throw std::runtime_error(
          "pairing: " + std::to_string(fresh.size() - waiting.size()) + " of " +
          std::to_string(fresh.size()) + " nodes got pair-ok and hello-ok (" +
          std::to_string(shared->refused.load()) + " refused; last error: " + last_error + ")");
    }
    std::vector<std::string> request_ids;
    for (const auto& [node_id, rid] : approver.pending()) {
      if (waiting.count(node_id) && !approved.count(rid)) request_ids.push_back(rid);
    }
    if (request_ids.size() < waiting.size() / 2 && approved.empty()) {
      // Most requests are still on their way: wait, so the approvals go out in one batch.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    approved.insert(request_ids.begin(), request_ids.end());
    approver.approve(request_ids, last_error);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void BridgeFleet::approve_all(const std::string& socket_path, const std::string& org,
                              const std::vector<std::string>& request_ids,
                              std::string& last_error) {
  // In parallel over several admin connections, each pipelining its share, so the storage
  // thread can commit many approvals in one batch. A failed approval (the request was replaced
  // or expired) is remembered, not fatal: the caller's next round sees what is still pending.
  const std::size_t lanes = std::min<std::size_t>(8, request_ids.size());
  std::vector<std::thread> workers;
  std::mutex err_mu;
  for (std::size_t lane = 0; lane < lanes; ++lane) {
    workers.emplace_back([&, lane] {
      try {
        auto c = cli::OperatorClient::connect(socket_path);
        std::size_t sent = 0, answered = 0;
        auto read_one = [&] {
          auto line = c.read_line(std::chrono::seconds(60));
          if (!line) throw std::runtime_error("no answer to nodes.approve in 60 s");
          json r = json::parse(*line);
          if (r.value("type", "") != "res") return;
          ++answered;
          if (!r.value("ok", false)) {
            std::lock_guard lock(err_mu);
            last_error = r.dump();
          }
        };
        for (std::size_t i = lane; i < request_ids.size(); i += lanes) {
          c.send_raw(json{{"type", "req"},
                          {"id", i},
                          {"method", "nodes.approve"},
                          {"params", {{"requestId", request_ids[i]}, {"org", org}}}}
                         .dump() +
                     "\n");
          ++sent;
          // At most 64 outstanding per lane: well inside the connection's queue depth.
          while (sent - answered >= 64) read_one();
        }
        while (answered < sent) read_one();
      } catch (const std::exception& e) {
        std::lock_guard lock(err_mu);
        last_error = e.what();
      }
    });
  }
  for (auto& w : workers) w.join();
}

ConnectStats BridgeFleet::connect_all(const std::vector<NodeCred>& creds, double timeout_s,
                                      std::size_t max_connecting) {
  shared_ = std::make_shared<Shared>();
  auto shared = shared_;
  const std::size_t before = online_.load();
  std::vector<std::shared_ptr<Node>> fresh;
  std::vector<std::string> lines;
  for (const auto& c : creds) {
    fresh.push_back(std::make_shared<Node>(pool_.next(), *this, c.id));
    fresh.back()->token = c.token;
    lines.push_back(json{{"type", "hello"}, {"nodeId", c.id}, {"token", c.token}}.dump() + "\n");
  }
  const uint64_t start = now_ns();
  const uint64_t deadline = start + static_cast<uint64_t>(timeout_s * 1e9);
  for (std::size_t i = 0; i < fresh.size(); ++i) {
    shared->connecting.fetch_add(1);
    asio::post(fresh[i]->io,
               [n = fresh[i], line = std::move(lines[i]), shared] { n->open(line, shared); });
    shared->throttle(max_connecting);
  }
  for (auto& n : fresh) nodes_.push_back(n);
  return shared->finish(online_, before, creds.size(), start, deadline);
}

void BridgeFleet::close_all() {
  close_members(nodes_);
}

}  // namespace vespid::bench
