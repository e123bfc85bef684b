#include "nats.hpp"

#include <unistd.h>

#include <boost/asio/post.hpp>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <future>
#include <stdexcept>
#include <thread>

#include "channels.hpp"
#include "clock.hpp"

namespace vespid::bench {

namespace asio = boost::asio;

void NatsServer::start(const std::string& bin, const std::string& dir) {
  if (::access(bin.c_str(), X_OK) != 0) {
    throw std::runtime_error(bin + " is not there (apt-get install nats-server)");
  }
  std::filesystem::create_directories(dir);
  port_ = pick_free_port();
  proc_.start(
      {bin, "-a", "127.0.0.1", "-p", std::to_string(port_), "--pid", dir + "/nats.pid", "-m", "0"},
      dir + "/nats.log");
  asio::io_context io;
  for (int i = 0; i < 500; ++i) {
    asio::generic::stream_protocol::socket s(io);
    boost::system::error_code ec;
    s.connect(tcp_endpoint("127.0.0.1", port_), ec);
    if (!ec) return;
    if (!proc_.running()) throw std::runtime_error("nats-server exited; see " + dir + "/nats.log");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("nats-server did not start listening; see " + dir + "/nats.log");
}

void NatsConn::begin(std::string subscriptions, OnMsg on_msg, std::function<void()> on_ready,
                     std::function<void()> on_closed) {
  on_msg_ = std::move(on_msg);
  on_ready_ = std::move(on_ready);
  on_closed_ = std::move(on_closed);
  conn_->send(
      R"(CONNECT {"verbose":false,"pedantic":false,"echo":false,"lang":"vespid-bench","version":"0"})"
      "\r\n" +
      subscriptions + "PING\r\n");
  std::weak_ptr<NatsConn> weak = weak_from_this();
  conn_->start(
      [weak](std::string_view data) -> std::size_t {
        auto self = weak.lock();
        return self ? self->on_data(data) : data.size();
      },
      [weak](const boost::system::error_code&) {
        if (auto self = weak.lock(); self && self->on_closed_) self->on_closed_();
      });
}

std::size_t NatsConn::on_data(std::string_view data) {
  std::size_t pos = 0;
  while (true) {
    const std::size_t eol = data.find("\r\n", pos);
    if (eol == std::string_view::npos) return pos;
    std::string_view line = data.substr(pos, eol - pos);
    if (line.starts_with("MSG ")) {
      // MSG <subject> <sid> [reply-to] <#bytes>
      std::string_view f[5];
      int n = 0;
      std::size_t i = 4;
      while (i < line.size() && n < 5) {
        const std::size_t sp = line.find(' ', i);
        const std::size_t end = sp == std::string_view::npos ? line.size() : sp;
        f[n++] = line.substr(i, end - i);
        i = end + 1;
      }
      if (n < 3) return data.size();  // not NATS; drop it
      std::size_t bytes = 0;
      const std::string_view count = f[n - 1];
      std::from_chars(count.data(), count.data() + count.size(), bytes);
      if (data.size() < eol + 2 + bytes + 2) return pos;  // wait for the payload
      const std::string_view payload = data.substr(eol + 2, bytes);
      const std::string_view reply = n == 4 ? f[2] : std::string_view{};
      if (on_msg_) on_msg_(f[0], reply, payload);
      pos = eol + 2 + bytes + 2;
      continue;
    }
    if (line == "PING") {
      conn_->send("PONG\r\n");
    } else if (line == "PONG" && !ready_) {
      ready_ = true;
      if (on_ready_) on_ready_();
    }
    // INFO, +OK and -ERR need nothing (a -ERR on this traffic would show up as lost requests).
    pos = eol + 2;
  }
}

std::shared_ptr<NatsConn> nats_connect_blocking(asio::io_context& io, int port,
                                                std::string subscriptions, NatsConn::OnMsg on_msg) {
  auto stream = connect_blocking(io, tcp_endpoint("127.0.0.1", port), "nats-server");
  auto nc = std::make_shared<NatsConn>(stream);
  auto ready = std::make_shared<std::promise<void>>();
  auto f = ready->get_future();
  asio::post(io, [nc, subs = std::move(subscriptions), on_msg = std::move(on_msg), ready] {
    nc->begin(subs, on_msg, [ready] { ready->set_value(); });
  });
  if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    throw std::runtime_error("nats-server did not answer PING");
  }
  return nc;
}

std::shared_ptr<NatsConn> nats_responder(asio::io_context& io, int port,
                                         const std::string& subscription) {
  auto holder = std::make_shared<std::weak_ptr<NatsConn>>();
  auto nc = nats_connect_blocking(
      io, port, "SUB " + subscription + " 1\r\n",
      [holder](std::string_view, std::string_view reply, std::string_view payload) {
        auto self = holder->lock();
        if (!self || reply.empty()) return;
        std::string& out = self->stream().out();
        out += "PUB ";
        out += reply;
        out += ' ';
        out += std::to_string(payload.size());
        out += "\r\n";
        out += payload;
        out += "\r\n";
        self->stream().flush_soon();
      });
  *holder = nc;
  return nc;
}

namespace {

class NatsChannel : public Channel, public std::enable_shared_from_this<NatsChannel> {
 public:
  NatsChannel(asio::io_context& io, int tag, std::string payload,
              std::shared_ptr<const std::vector<std::string>> subjects, std::size_t first)
      : io_(io),
        inbox_("_INBOX." + std::to_string(tag) + "."),
        tail_(",\"p\":\"" + payload + "\"}"),
        subjects_(std::move(subjects)),
        next_(first) {}
  asio::io_context& io() override { return io_; }
  void close() override {
    asio::post(io_, [nc = nc_] { nc->stream().close(); });
  }

  void send_request(uint64_t id) override {
    const std::string ids = std::to_string(id);
    const std::size_t bytes = 6 + ids.size() + tail_.size();  // {"id": + id + tail
    std::string& out = nc_->stream().out();
    out += "PUB ";
    out += (*subjects_)[next_++ % subjects_->size()];
    out += ' ';
    out += inbox_;
    out += ids;
    out += ' ';
    out += std::to_string(bytes);
    out += "\r\n{\"id\":";
    out += ids;
    out += tail_;
    out += "\r\n";
    nc_->stream().flush_soon();
  }

  void on_msg(std::string_view subject) {
    if (!subject.starts_with(inbox_)) return;
    subject.remove_prefix(inbox_.size());
    uint64_t id = 0;
    if (std::from_chars(subject.data(), subject.data() + subject.size(), id).ec != std::errc{}) {
      return;
    }
    if (reply_) reply_(id, true, {});
  }

  std::shared_ptr<NatsConn> nc_;

 private:
  asio::io_context& io_;
  std::string inbox_;
  std::string tail_;
  std::shared_ptr<const std::vector<std::string>> subjects_;
  std::size_t next_;
};

}  // namespace

std::shared_ptr<Channel> nats_channel(asio::io_context& io, int port, int tag, std::string payload,
                                      std::shared_ptr<const std::vector<std::string>> subjects,
                                      std::size_t first) {
  auto ch = std::make_shared<NatsChannel>(io, tag, std::move(payload), std::move(subjects), first);
  std::weak_ptr<NatsChannel> weak = ch;
  ch->nc_ =
      nats_connect_blocking(io, port, "SUB _INBOX." + std::to_string(tag) + ".* 1\r\n",
                            [weak](std::string_view subject, std::string_view, std::string_view) {
                              if (auto self = weak.lock()) self->on_msg(subject);
                            });
  return ch;
}

}  // namespace vespid::bench

namespace vespid::bench {

NatsCrowd::Stats NatsCrowd::connect_all(int n, double timeout_s, std::size_t max_connecting) {
  struct Tally {
    std::atomic<std::size_t> ready{0}, failed{0}, connecting{0};
  };
  auto tally = std::make_shared<Tally>();
  const uint64_t start = now_ns();
  const uint64_t deadline = start + static_cast<uint64_t>(timeout_s * 1e9);
  std::vector<std::shared_ptr<NatsConn>> fresh;
  for (int i = 0; i < n; ++i) {
    asio::io_context& io = pool_.next();
    auto stream = std::make_shared<StreamConn>(io);
    auto nc = std::make_shared<NatsConn>(stream);
    fresh.push_back(nc);
    tally->connecting.fetch_add(1);
    asio::post(io, [nc, stream, tally, port = port_, i] {
      stream->connect(tcp_endpoint("127.0.0.1", port),
                      [nc, tally, i](const boost::system::error_code& ec) {
                        tally->connecting.fetch_sub(1);
                        if (ec) {
                          tally->failed.fetch_add(1);
                          return;
                        }
                        nc->begin("SUB node." + std::to_string(i) + " 1\r\n", {},
                                  [tally] { tally->ready.fetch_add(1); });
                      });
    });
    while (max_connecting > 0 && tally->connecting.load() >= max_connecting) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  while (tally->ready.load() + tally->failed.load() < static_cast<std::size_t>(n) &&
         now_ns() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (auto& c : fresh) conns_.push_back(c);
  return {tally->ready.load(), tally->failed.load(), (now_ns() - start) / 1e9};
}

void NatsCrowd::close_all() {
  std::atomic<std::size_t> done{0};
  for (auto& c : conns_) {
    asio::post(c->stream().io(), [c, &done] {
      c->stream().close();
      ++done;
    });
  }
  while (done.load() < conns_.size()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  conns_.clear();
}

}  // namespace vespid::bench
