// A plain libpq session of the test's own, for what a test does next to the plugin: hold the
// revision lock, look at pg_stat_activity, end the plugin's sessions. Blocking calls; test
// thread only.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <functional>
#include <string>

namespace vespid::storage_test::postgres {

class RawSession {
 public:
  // Throws std::runtime_error with libpq's message if it cannot connect.
  explicit RawSession(const std::string& conninfo);
  ~RawSession();
  RawSession(const RawSession&) = delete;
  RawSession& operator=(const RawSession&) = delete;

  // Runs `sql`; returns the first column of the first row ("" if none). Throws on an error.
  std::string exec(const std::string& sql);

 private:
  PGconn* conn_;
};

// Polls `done` every 20 ms until it holds or `timeout` passes; returns its last answer.
bool wait_until(const std::function<bool()>& done,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));

// The name the plugin's sessions carry in pg_stat_activity (fallback_application_name) when
// driven by the conformance test host.
inline constexpr const char* kPluginApplication = "vespid-postgres/storage-test";

}  // namespace vespid::storage_test::postgres
