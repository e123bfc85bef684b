// A real crash: a child process commits in a loop and reports each acknowledged commit through
// a pipe; the parent SIGKILLs it mid-loop and checks that every acknowledged write survived.
// The same with commit_unsynced (ABI 1.4), whose promise is exactly this: applied writes survive
// a crash of the process, before any sync.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sqlite_backend.hpp"

namespace vespid::storage_test::sqlite {
namespace {

struct Ack {
  uint64_t revision;
  uint64_t index;
};

Bytes key_for(uint64_t i) {
  return "crash/" + std::to_string(i);
}
Bytes value_for(uint64_t i) {
  return "value " + std::to_string(i) + Bytes(200, 'v');
}

// The child: no GoogleTest here (it must not report into the parent's run), only _exit.
[[noreturn]] void commit_forever(const StoragePlugin& plugin, const std::filesystem::path& dir,
                                 const std::string& config, int fd, bool unsynced) {
  TestHost host(dir, "crash-child");
  StoreClient store(plugin.vtbl, host);
  if (store.create(config) != VSP_OK || store.start() != VSP_OK) _exit(2);
  if (unsynced && !store.has_deferred_sync()) _exit(5);
  for (uint64_t i = 0;; ++i) {
    const std::vector<Txn> batch{
        Txn().put(key_for(i), value_for(i)).put("last", std::to_string(i))};
    Outcome o = unsynced ? store.commit_unsynced(batch) : store.commit(batch);
    if (o.status != VSP_OK || o.results[0].status != VSP_OK) _exit(3);
    Ack ack{o.results[0].revision, i};
    // Only now, after commit returned VSP_OK, is the write acknowledged.
    if (write(fd, &ack, sizeof ack) != static_cast<ssize_t>(sizeof ack)) _exit(4);
  }
}

// Reads whole acks until `want` are in or the pipe closes. False on a 10 s stall.
bool read_acks(int fd, std::vector<Ack>* acks, size_t want) {
  std::string buf;
  while (acks->size() < want) {
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, 10000);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    char chunk[4096];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;  // EOF: the writer is gone
    buf.append(chunk, static_cast<size_t>(n));
    while (buf.size() >= sizeof(Ack)) {
      Ack a;
      std::memcpy(&a, buf.data(), sizeof a);
      acks->push_back(a);
      buf.erase(0, sizeof a);
    }
  }
  return true;
}

class SqliteCrash : public SqliteTest {
 protected:
  // Kills a child committing in a loop (with commit, or commit_unsynced) and checks the store.
  void acknowledged_writes_survive_sigkill(bool unsynced);
};

TEST_F(SqliteCrash, AcknowledgedCommitsSurviveSigkill) {
  acknowledged_writes_survive_sigkill(false);
}

TEST_F(SqliteCrash, AppliedButUnsyncedCommitsSurviveSigkill) {
  acknowledged_writes_survive_sigkill(true);
}

void SqliteCrash::acknowledged_writes_survive_sigkill(bool unsynced) {
  constexpr size_t kAcksBeforeKill = 400;
  const std::string config = config_for(db_path());
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0) << std::strerror(errno);
  if (child == 0) {
    close(fds[0]);
    commit_forever(h().plugin(), h().dir(), config, fds[1], unsynced);
  }
  close(fds[1]);

  std::vector<Ack> acks;
  bool ok = read_acks(fds[0], &acks, kAcksBeforeKill);
  kill(child, SIGKILL);  // mid-loop: most likely inside a commit
  int wstatus = 0;
  waitpid(child, &wstatus, 0);
  ASSERT_TRUE(ok) << "the child stalled after " << acks.size() << " commits";
  ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL)
      << "the child ended on its own (status " << wstatus << ") after " << acks.size()
      << " commits";
  // Acks the child wrote before it died are acknowledged too, even if not read yet.
  read_acks(fds[0], &acks, SIZE_MAX);
  close(fds[0]);
  ASSERT_GE(acks.size(), kAcksBeforeKill);

  open();
  uint64_t last_revision = 0;
  for (const Ack& a : acks) {
    Kv kv;
    ASSERT_EQ(store().get(key_for(a.index), &kv), VSP_OK)
        << "acknowledged write " << a.index << " is lost";
    EXPECT_EQ(kv.value, value_for(a.index));
    EXPECT_EQ(kv.version, a.revision) << "write " << a.index;
    EXPECT_GT(a.revision, last_revision);
    last_revision = a.revision;
  }
  Kv last;
  ASSERT_EQ(store().get("last", &last), VSP_OK);
  EXPECT_GE(std::stoull(last.value), acks.back().index);
  Outcome o = store().commit({Txn().put("after-crash", "x")});
  ASSERT_EQ(o.status, VSP_OK) << o.message;
  EXPECT_GT(o.results.at(0).revision, last.version)
      << "the revision counter must continue past everything that survived";
}

}  // namespace
}  // namespace vespid::storage_test::sqlite
