// A dialect of the core driven without a gateway around it: a loop, a transport that exists
// only in this process (its `send` collects what the dialect writes), and connections opened on
// it. Storage, where a dialect needs it, is a StorageService that was never opened: every
// operation fails with "storage is closed", as when the storage plugin is down.
#pragma once

#include <boost/asio/post.hpp>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "check.hpp"
#include "host/connections/connection.hpp"
#include "host/connections/dialect.hpp"
#include "host/plugins/instance_services.hpp"
#include "host/plugins/module_catalog.hpp"
#include "host/plugins/plugin_instance.hpp"
#include "known_bugs.hpp"
#include "runtime/api_error.hpp"
#include "runtime/logging.hpp"
#include "runtime/loop.hpp"
#include "runtime/task.hpp"
#include "storage/storage_service.hpp"

namespace vespid::fuzz {

// What the in-process transport was asked to do, for the connection being fuzzed.
struct Wire {
  std::vector<std::string> sent;
  bool closed = false;
};

inline Wire& wire() {
  static Wire w;
  return w;
}

class Rig final : public core::InstanceServices {
 public:
  Rig() {
    log::Settings quiet;
    quiet.level = "off";
    log::configure(quiet);
    vtbl_.struct_size = sizeof vtbl_;
    vtbl_.send = [](vsp_plugin_instance*, vsp_plugin_conn*, const char* data, size_t len) {
      wire().sent.emplace_back(data, len);
      return VSP_OK;
    };
    vtbl_.close = [](vsp_plugin_instance*, vsp_plugin_conn*, int, const char*) {
      wire().closed = true;
    };
    plugin_.id = "fuzz";
    plugin_.kind = VSP_KIND_TRANSPORT;
    plugin_.vtbl = &vtbl_;
    plugin_.vtbl_size = sizeof vtbl_;
    module_.file = "(in-process)";
    module_.name = "fuzz";
    module_.loadable = true;
    config::PluginInstance cfg{"fuzz", "fuzz", nlohmann::json::object(), false};
    transport_ = std::make_unique<core::PluginInstance>(
        *this, cfg, core::ModuleCatalog::Found{&module_, &plugin_});
    storage_ = std::make_unique<core::StorageService>(
        vtbl_storage_,
        [this](std::function<void()> fn) {
          boost::asio::post(loop_.io(), [this, fn = std::move(fn)]() mutable {
            loop_.sequencer().execute(std::move(fn));
          });
        },
        core::StorageService::Options{});
  }

  core::Loop& loop() override { return loop_; }
  const std::string& state_dir() const override { return dir_; }
  std::string config_text(const std::string&) const override { return {}; }
  void instance_failed(core::PluginInstance&, int, const std::string&) override {}

  core::StorageService& storage() { return *storage_; }

  std::shared_ptr<core::Connection> open(const char* dialect, uint32_t flags) {
    vsp_conn_info info{};
    info.struct_size = sizeof info;
    info.dialect = dialect;
    info.peer_address = "127.0.0.1:40000";
    info.local_address = "127.0.0.1:18790";
    info.flags = flags;
    info.path = "/";
    info.query = "";
    info.headers_json = "{}";
    wire() = Wire{};
    auto conn = std::make_shared<core::Connection>(++next_id_, *transport_, nullptr, info);
    conn->self = conn;
    return conn;
  }

  // Runs a dialect call inside the Sequencer and drives the loop until it finished. Returns
  // what escaped it, if anything: the connection hub logs such an exception and goes on to the
  // next frame (the peer gets no answer), so each harness says which ones it accepts.
  std::exception_ptr run(core::Task<void> task) {
    bool done = false;
    std::exception_ptr error;
    auto shared = std::make_shared<core::Task<void>>(std::move(task));
    loop_.sequencer().execute([&, shared] {
      core::spawn(
          std::move(*shared), [&] { done = true; },
          [&](std::exception_ptr e) {
            error = e;
            done = true;
          });
    });
    loop_.io().restart();
    while (!done) {
      // Nothing here waits for a timer or a peer: work still owed is ready at once.
      FUZZ_CHECK(loop_.io().poll_one() > 0, "a dialect call waits for something that never comes");
    }
    return error;
  }

  // Hands one frame to the dialect as the connection hub does (host/connections/
  // connection_hub.cpp): first to on_message_now (the hot frames, typed), then, if it did not
  // take it, to on_message. An error the handler did not answer itself is answered through
  // on_frame_failed with the code the hub picks. An API error, a JSON field of the wrong type
  // or shape and a storage failure (storage is down here) are the peer's or the storage's; any
  // other exception is a defect (the hub's INTERNAL) and a crash here. Known defect 1
  // (known_bugs.hpp) is flagged when FUZZ_KNOWN_BUGS=1.
  void frame(core::Dialect& dialect, const std::shared_ptr<core::Connection>& conn,
             std::string message) {
    std::exception_ptr e;
    bool taken = false;
    loop_.sequencer().execute([&] {
      try {
        taken = dialect.on_message_now(*conn, message);
      } catch (...) {
        e = std::current_exception();
        taken = true;
      }
    });
    if (taken) {
      // What it started (a concurrent method's task) runs on as far as it can.
      loop_.io().restart();
      while (loop_.io().poll_one() > 0) {
      }
    } else {
      e = run(dialect.on_message(conn, std::move(message)));
    }
    if (!e) return;
    std::string code, text;
    try {
      std::rethrow_exception(e);
    } catch (const api::ApiError& x) {
      code = x.code();
      text = x.what();
    } catch (const nlohmann::json::out_of_range& x) {
      // Known defect 1: json_input::parse lets out_of_range 406 (a number too large for a
      // double, "1e400") through where it documents parse_error.
      FUZZ_CHECK(!check_known_bugs() || x.id != 406, "json_input::parse threw out_of_range 406");
      code = "INVALID_REQUEST";
      text = x.what();
    } catch (const nlohmann::json::exception& x) {
      code = "INVALID_REQUEST";
      text = x.what();
    } catch (const core::StorageError& x) {
      code = "UNAVAILABLE";
      text = x.what();
    }
    if (conn->gone || conn->closing()) return;
    loop_.sequencer().execute([&] { dialect.on_frame_failed(*conn, code, text); });
  }

  void close(core::Dialect& dialect, const std::shared_ptr<core::Connection>& conn) {
    loop_.sequencer().execute([&] {
      conn->gone = true;
      dialect.on_close(*conn);
      conn->self.reset();
    });
  }

 private:
  core::Loop loop_;
  std::string dir_ = "/nonexistent";
  vsp_transport_vtbl vtbl_{};
  vsp_storage_vtbl vtbl_storage_{};
  core::PluginEntry plugin_;
  core::ModuleEntry module_;
  std::unique_ptr<core::PluginInstance> transport_;
  std::unique_ptr<core::StorageService> storage_;
  uint64_t next_id_ = 0;
};

}  // namespace vespid::fuzz
