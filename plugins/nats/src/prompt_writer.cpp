#include "prompt_writer.hpp"

namespace vespid::natsbus {

PromptWriter::PromptWriter(natsConnection* nc, std::chrono::milliseconds flush_timeout)
    : nc_(nc), flush_timeout_(flush_timeout), thread_([this] { run(); }) {}

PromptWriter::~PromptWriter() {
  stop();
}

void PromptWriter::kick() {
  std::lock_guard lock(mu_);
  if (pending_) return;
  pending_ = true;
  wake_.notify_one();
}

void PromptWriter::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

void PromptWriter::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return pending_ || stopping_; });
    if (stopping_) return;
    pending_ = false;
    lock.unlock();
    // Errors are not this writer's to report: a connection that is down refuses publishes
    // itself, and libnats's flusher still writes whatever a failed flush left behind.
    const natsStatus s = natsConnection_FlushTimeout(nc_, flush_timeout_.count());
    lock.lock();
    if (s != NATS_OK && s != NATS_TIMEOUT && !stopping_) {
      // Down or reconnecting: do not spin; the next publish after this wait kicks again.
      wake_.wait_for(lock, std::chrono::milliseconds(10), [&] { return stopping_; });
    }
  }
}

}  // namespace vespid::natsbus
