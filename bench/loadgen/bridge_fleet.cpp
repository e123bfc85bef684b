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
struct BridgeFleet::Shared {
  std::atomic<std::size_t> refused{0};
  std::atomic<std::size_t> connecting{0};
  std::atomic<uint64_t> first_ok_ns{0};
  std::atomic<uint64_t> last_ok_ns{0};
  std::mutex reasons_mu;
  std::map<std::string, std::size_t> reasons;

  void refuse(const std::string& why) {
    refused.fetch_add(1);
    std::lock_guard lock(reasons_mu);
    ++reasons[why];
  }
};

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
      const uint64_t now = now_ns();
      uint64_t zero = 0;
      shared.first_ok_ns.compare_exchange_strong(zero, now);
      uint64_t last = shared.last_ok_ns.load();
      while (last < now && !shared.last_ok_ns.compare_exchange_weak(last, now)) {
      }
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

BridgeFleet::BridgeFleet(IoPool& pool, int port)
    : pool_(pool), port_(port), shared_(std::make_shared<Shared>()) {}

BridgeFleet::~BridgeFleet() = default;

std::vector<NodeCred> BridgeFleet::pair(const std::vector<std::string>& ids,
                                        const std::string& socket_path, const std::string& org,
                                        double timeout_s) {
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

  // Every request pending, with its requestId, before approving (nodes.pending is the only
  // listing; events would also do, but only on connections open before the requests).
  auto admin = cli::OperatorClient::connect(socket_path);
  std::set<std::string> want(ids.begin(), ids.end());
  std::vector<std::string> request_ids;
  while (true) {
    json pending = admin.call("nodes.pending");
    request_ids.clear();
    for (const auto& p : pending["pending"]) {
      if (want.count(p["nodeId"].get<std::string>())) request_ids.push_back(p["requestId"]);
    }
    if (request_ids.size() >= want.size()) break;
    if (now_ns() > deadline || shared->refused.load() > 0) {
      throw std::runtime_error("pairing: only " + std::to_string(request_ids.size()) + " of " +
                               std::to_string(want.size()) + " requests pending (" +
                               std::to_string(shared->refused.load()) + " refused)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  // Approvals in parallel over several admin connections, each pipelining its share, so the
  // storage thread can commit many in one batch.
  const std::size_t lanes = std::min<std::size_t>(8, request_ids.size());
  std::vector<std::thread> workers;
  std::atomic<std::size_t> failed{0};
  std::string first_error;
  std::mutex err_mu;
  for (std::size_t lane = 0; lane < lanes; ++lane) {
    workers.emplace_back([&, lane] {
      try {
        auto c = cli::OperatorClient::connect(socket_path);
        std::size_t sent = 0, answered = 0;
        for (std::size_t i = lane; i < request_ids.size(); i += lanes) {
          c.send_raw(json{{"type", "req"},
                          {"id", i},
                          {"method", "nodes.approve"},
                          {"params", {{"requestId", request_ids[i]}, {"org", org}}}}
                         .dump() +
                     "\n");
          ++sent;
          // At most 64 outstanding per lane: well inside the connection's queue depth.
          while (sent - answered >= 64) {
            auto line = c.read_line(std::chrono::seconds(60));
            if (!line) throw std::runtime_error("no answer to nodes.approve in 60 s");
            json r = json::parse(*line);
            if (r.value("type", "") != "res") continue;
            ++answered;
            if (!r.value("ok", false)) {
              failed.fetch_add(1);
              std::lock_guard lock(err_mu);
              if (first_error.empty()) first_error = r.dump();
            }
          }
        }
        while (answered < sent) {
          auto line = c.read_line(std::chrono::seconds(60));
          if (!line) throw std::runtime_error("no answer to nodes.approve in 60 s");
          json r = json::parse(*line);
          if (r.value("type", "") != "res") continue;
          ++answered;
          if (!r.value("ok", false)) {
            failed.fetch_add(1);
            std::lock_guard lock(err_mu);
            if (first_error.empty()) first_error = r.dump();
          }
        }
      } catch (const std::exception& e) {
        failed.fetch_add(1);
        std::lock_guard lock(err_mu);
        if (first_error.empty()) first_error = e.what();
      }
    });
  }
  for (auto& w : workers) w.join();
  if (failed.load() > 0) {
    throw std::runtime_error("pairing: " + std::to_string(failed.load()) +
                             " approvals failed; first: " + first_error);
  }

  // Each node gets pair-ok (its token) and hello-ok on its socket.
  std::vector<NodeCred> creds;
  while (true) {
    std::atomic<std::size_t> with_token{0};
    std::atomic<std::size_t> checked{0};
    std::vector<NodeCred> got(fresh.size());
    for (std::size_t i = 0; i < fresh.size(); ++i) {
      asio::post(fresh[i]->io, [&, i] {
        got[i] = {fresh[i]->id, fresh[i]->token};
        if (!fresh[i]->token.empty() && fresh[i]->state == Node::State::Online) ++with_token;
        ++checked;
      });
    }
    while (checked.load() < fresh.size()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (with_token.load() == fresh.size()) {
      creds = std::move(got);
      break;
    }
    if (now_ns() > deadline) {
      throw std::runtime_error("pairing: " + std::to_string(with_token.load()) + " of " +
                               std::to_string(fresh.size()) + " nodes got pair-ok and hello-ok");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return creds;
}

ConnectStats BridgeFleet::connect_all(const std::vector<NodeCred>& creds, double timeout_s,
                                      std::size_t max_connecting) {
  shared_ = std::make_shared<Shared>();
  auto shared = shared_;
  ConnectStats st;
  st.wanted = creds.size();
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
    while (max_connecting > 0 && shared->connecting.load() >= max_connecting) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  for (auto& n : fresh) nodes_.push_back(n);
  while (online_.load() - before + shared->refused.load() < creds.size() && now_ns() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  st.online = online_.load() - before;
  st.refused = shared->refused.load();
  const uint64_t first = shared->first_ok_ns.load(), last = shared->last_ok_ns.load();
  st.first_s = first ? (first - start) / 1e9 : 0;
  st.all_s = st.online == st.wanted && last ? (last - start) / 1e9 : (now_ns() - start) / 1e9;
  std::lock_guard lock(shared->reasons_mu);
  for (auto& [k, v] : shared->reasons) st.reasons.emplace_back(k, v);
  return st;
}

void BridgeFleet::close_all() {
  std::atomic<std::size_t> done{0};
  for (auto& n : nodes_) {
    asio::post(n->io, [n, &done] {
      if (n->conn) n->conn->close();
      ++done;
    });
  }
  while (done.load() < nodes_.size()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  nodes_.clear();
}

}  // namespace vespid::bench
