#include "test_host.hpp"

#include <cstdio>

namespace vespid::storage_test {
namespace {

// Handle-based services (timer_arm, watch_update, ...) carry no instance; a storage plugin can
// only reach them with a handle it should never have had, so they are counted process-wide.
std::mutex g_orphan_mu;
std::vector<std::string> g_orphan_calls;

void orphan(const char* service) {
  std::fprintf(stderr, "[storage-test] storage plugin called host service %s\n", service);
  std::lock_guard<std::mutex> lock(g_orphan_mu);
  g_orphan_calls.emplace_back(service);
}

const char* level_name(int level) {
  switch (level) {
    case VSP_LOG_TRACE:
      return "TRACE";
    case VSP_LOG_DEBUG:
      return "DEBUG";
    case VSP_LOG_INFO:
      return "INFO";
    case VSP_LOG_WARN:
      return "WARN";
    case VSP_LOG_ERROR:
      return "ERROR";
    default:
      return "LEVEL?";
  }
}

void h_log(vsp_host_instance* hi, int level, const char* msg, size_t len) {
  TestHost::from(hi).record_log(level, msg, len);
}
void h_report_failure(vsp_host_instance* hi, int status, const char* message) {
  std::fprintf(stderr, "[storage-test] report_failure(%d): %s\n", status, message ? message : "");
  TestHost::from(hi).record_forbidden("report_failure");
}
const char* h_instance_name(vsp_host_instance* hi) {
  return TestHost::from(hi).instance_name().c_str();
}
const char* h_state_dir(vsp_host_instance* hi) {
  return TestHost::from(hi).state_dir().c_str();
}
int h_config_get(vsp_host_instance*, const char*, vsp_text_sink_fn, void*) {
  return VSP_E_NOT_FOUND;
}
int h_post(vsp_host_instance* hi, vsp_task_fn, void*) {
  TestHost::from(hi).record_forbidden("post");
  return VSP_E_CLOSED;
}
vsp_host_timer* h_timer_new(vsp_host_instance* hi, vsp_timer_fn, void*) {
  TestHost::from(hi).record_forbidden("timer_new");
  return nullptr;
}
void h_timer_arm(vsp_host_timer*, uint64_t, uint64_t) {
  orphan("timer_arm");
}
void h_timer_disarm(vsp_host_timer*) {
  orphan("timer_disarm");
}
void h_timer_free(vsp_host_timer*) {
  orphan("timer_free");
}
vsp_host_watch* h_watch_new(vsp_host_instance* hi, int, uint32_t, vsp_watch_fn, void*) {
  TestHost::from(hi).record_forbidden("watch_new");
  return nullptr;
}
void h_watch_update(vsp_host_watch*, uint32_t) {
  orphan("watch_update");
}
void h_watch_free(vsp_host_watch*) {
  orphan("watch_free");
}
int h_conn_open(vsp_host_instance* hi, const vsp_conn_info*, vsp_plugin_conn*, vsp_host_conn**,
                vsp_error* err) {
  TestHost::from(hi).record_forbidden("conn_open");
  if (err != nullptr) {
    err->status = VSP_E_UNSUPPORTED;
    std::snprintf(err->message, sizeof err->message, "storage plugins have no connections");
  }
  return VSP_E_UNSUPPORTED;
}
int h_conn_recv(vsp_host_conn*, const char*, size_t) {
  orphan("conn_recv");
  return VSP_E_CLOSED;
}
void h_conn_closed(vsp_host_conn*, int, const char*) {
  orphan("conn_closed");
}
void h_conn_writable(vsp_host_conn*) {
  orphan("conn_writable");
}
void h_conn_protocol_error(vsp_host_conn*, int, const char*) {
  orphan("conn_protocol_error");
}

const vsp_host_api kApi = {
    sizeof(vsp_host_api),   VSP_ABI_MAJOR,   VSP_ABI_MINOR, &h_log,         &h_report_failure,
    &h_instance_name,       &h_state_dir,    &h_config_get, &h_post,        &h_timer_new,
    &h_timer_arm,           &h_timer_disarm, &h_timer_free, &h_watch_new,   &h_watch_update,
    &h_watch_free,          &h_conn_open,    &h_conn_recv,  &h_conn_closed, &h_conn_writable,
    &h_conn_protocol_error,
};

}  // namespace

TestHost::TestHost(std::filesystem::path state_dir, std::string instance_name)
    : state_dir_(state_dir.string()), instance_name_(std::move(instance_name)) {}

const vsp_host_api* TestHost::api() const noexcept {
  return &kApi;
}

std::vector<std::string> TestHost::forbidden_calls() const {
  std::vector<std::string> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out = forbidden_;
  }
  std::lock_guard<std::mutex> lock(g_orphan_mu);
  out.insert(out.end(), g_orphan_calls.begin(), g_orphan_calls.end());
  return out;
}

std::vector<std::string> TestHost::log_lines() const {
  std::lock_guard<std::mutex> lock(mu_);
  return logs_;
}

void TestHost::record_forbidden(const char* service) {
  std::fprintf(stderr, "[storage-test] storage plugin called host service %s\n", service);
  std::lock_guard<std::mutex> lock(mu_);
  forbidden_.emplace_back(service);
}

void TestHost::record_log(int level, const char* msg, size_t len) {
  std::string line = std::string(level_name(level)) + " " +
                     (msg != nullptr ? std::string(msg, len) : std::string());
  std::fprintf(stderr, "[%s] %s\n", instance_name_.c_str(), line.c_str());
  std::lock_guard<std::mutex> lock(mu_);
  logs_.push_back(std::move(line));
}

}  // namespace vespid::storage_test
