#include "channels.hpp"

#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <stdexcept>

#include "json_scan.hpp"

namespace vespid::bench {

std::shared_ptr<StreamConn> connect_blocking(boost::asio::io_context& io,
                                             const StreamConn::Endpoint& ep,
                                             const std::string& what) {
  auto conn = std::make_shared<StreamConn>(io);
  auto done = std::make_shared<std::promise<boost::system::error_code>>();
  auto f = done->get_future();
  conn->connect(ep, [done](const boost::system::error_code& ec) { done->set_value(ec); });
  if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    throw std::runtime_error("connecting to " + what + " timed out");
  }
  if (auto ec = f.get())
    throw std::runtime_error("cannot connect to " + what + ": " + ec.message());
  return conn;
}

namespace {

// Reads "id" and whether "ok" is true from one answer line; lines without an id (events) are
// not answers.
class LineChannel : public Channel, public std::enable_shared_from_this<LineChannel> {
 public:
  explicit LineChannel(std::shared_ptr<StreamConn> conn) : conn_(std::move(conn)) {}
  boost::asio::io_context& io() override { return conn_->io(); }
  void close() override {
    boost::asio::post(conn_->io(), [c = conn_] { c->close(); });
  }

  // Starts reading on the connection's own thread (a StreamConn is touched only there).
  void begin() {
    boost::asio::post(conn_->io(), [weak = weak_from_this(), conn = conn_] {
      conn->start(
          [weak](std::string_view data) -> std::size_t {
            auto self = weak.lock();
            if (!self) return data.size();
            return for_each_line(data, [&](std::string_view line) { self->on_line(line); });
          },
          [](const boost::system::error_code&) {});
    });
  }

 protected:
  virtual void on_line(std::string_view line) = 0;
  std::shared_ptr<StreamConn> conn_;
};

class EchoChannel : public LineChannel {
 public:
  EchoChannel(std::shared_ptr<StreamConn> conn, std::string payload)
      : LineChannel(std::move(conn)), tail_(",\"p\":\"" + payload + "\"}\n") {}

  void send_request(uint64_t id) override {
    std::string& out = conn_->out();
    out += "{\"id\":";
    out += std::to_string(id);
    out += tail_;
    conn_->flush_soon();
  }

 private:
  void on_line(std::string_view line) override {
    std::optional<uint64_t> id;
    scan_object(line, [&](std::string_view key, std::string_view raw) {
      if (key != "id") return true;
      id = to_uint(raw);
      return false;
    });
    if (id && reply_) reply_(*id, true, {});
  }

  std::string tail_;
};

class InvokeChannel : public LineChannel {
 public:
  InvokeChannel(std::shared_ptr<StreamConn> conn,
                std::shared_ptr<const std::vector<std::string>> nodes, std::size_t first,
                std::string payload)
      : LineChannel(std::move(conn)),
        nodes_(std::move(nodes)),
        next_(first),
        tail_("\",\"command\":\"echo\",\"params\":{\"p\":\"" + payload + "\"}}}\n") {}

  void send_request(uint64_t id) override {
    const std::string& node = (*nodes_)[next_++ % nodes_->size()];
    std::string& out = conn_->out();
    out += "{\"type\":\"req\",\"id\":";
    out += std::to_string(id);
    out += ",\"method\":\"nodes.invoke\",\"params\":{\"node\":\"";
    out += node;
    out += tail_;
    conn_->flush_soon();
  }

 private:
  void on_line(std::string_view line) override {
    std::optional<uint64_t> id;
    bool ok = false;
    std::string_view error;
    scan_object(line, [&](std::string_view key, std::string_view raw) {
      if (key == "id") id = to_uint(raw);
      if (key == "ok") ok = raw == "true";
      if (key == "error") error = raw;
      return true;
    });
    if (!id || !reply_) return;
    std::string_view code;
    if (!ok) {
      scan_object(error, [&](std::string_view key, std::string_view raw) {
        if (key == "code") code = plain_string(raw).value_or("?");
        return key != "code";
      });
    }
    reply_(*id, ok, code);
  }

  std::shared_ptr<const std::vector<std::string>> nodes_;
  std::size_t next_;
  std::string tail_;
};

}  // namespace

std::shared_ptr<Channel> echo_channel(std::shared_ptr<StreamConn> conn, std::string payload) {
  auto ch = std::make_shared<EchoChannel>(std::move(conn), std::move(payload));
  ch->begin();  // after make_shared: begin() needs weak_from_this()
  return ch;
}

std::shared_ptr<Channel> invoke_channel(std::shared_ptr<StreamConn> conn,
                                        std::shared_ptr<const std::vector<std::string>> nodes,
                                        std::size_t first, std::string payload) {
  auto ch =
      std::make_shared<InvokeChannel>(std::move(conn), std::move(nodes), first, std::move(payload));
  ch->begin();
  return ch;
}

}  // namespace vespid::bench
