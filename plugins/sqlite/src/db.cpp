#include "db.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vespid/plugin.hpp>

#include "refusal.hpp"

namespace vespid::sqlite {
namespace {

// SQLite treats a NULL data pointer as SQL NULL, so an empty key or value needs a real pointer.
constexpr char kEmpty[1] = {0};

}  // namespace

int status_for(int sqlite_rc) noexcept {
  // `& 0xff`: the primary code of an extended result code (SQLITE_FULL has none today, but
  // SQLITE_IOERR_* and friends do).
  return (sqlite_rc & 0xff) == SQLITE_FULL ? VSP_E_FULL : VSP_E_IO;
}

Db Db::open(const std::string& path) {
  sqlite3* raw = nullptr;
  // NOMUTEX: the host calls a storage instance on one thread at a time, so SQLite's per-
  // connection mutex would be pure overhead. EXRESCODE: extended codes for clearer messages.
  const int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw, path);  // owns the handle even on failure: SQLite requires closing it either way
  if (rc != SQLITE_OK) {
    int sys = raw ? sqlite3_system_errno(raw) : 0;
    // When the file does not exist, SQLite's last errno comes from its read-only retry (ENOENT)
    // and hides the real refusal: ask the directory itself whether we may create a file there.
    if (sys == ENOENT && ::access(path.c_str(), F_OK) != 0) {
      std::string dir = directory_of(path);
      if (::access(dir.c_str(), F_OK) == 0 && ::access(dir.c_str(), W_OK | X_OK) != 0) sys = errno;
    }
    std::string msg = "sqlite: cannot open database \"" + path +
                      "\": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    if (sys != 0) msg += std::string(" (") + std::strerror(sys) + ")";
    throw vsp::Error(is_refusal(sys) ? VSP_E_PERMISSION : status_for(rc), msg);
  }
  // SQLite falls back to a read-only open, silently, when it may not write the file (its mode, a
  // read-only file system, chattr +i). Such a store would start, serve reads and fail every
  // write. Refuse it here, before anything is read: reading a WAL database makes SQLite create
  // -wal and -shm files, and a read-only -shm left behind keeps the store read-only even after
  // the file is fixed.
  if (sqlite3_db_readonly(raw, "main") == 1) {
    std::string why = write_refused(path);
    throw vsp::Error(
        VSP_E_PERMISSION,
        "sqlite: \"" + path + "\" can only be opened read-only (" +
            (why.empty() ? "SQLite would not open it for writing" : why) +
            "); the gateway writes to its database and will not start on one it "
            "cannot write: make it writable (mode, owner, mount) for the user the gateway runs as");
  }
  return db;
}

Db::Db(Db&& other) noexcept
    : db_(other.db_), path_(std::move(other.path_)), busy_timeout_ms_(other.busy_timeout_ms_) {
  other.db_ = nullptr;
}

void Db::set_busy_timeout(int ms) {
  sqlite3_busy_timeout(db_, ms);
  busy_timeout_ms_ = ms;
}

Db::~Db() {
  // close_v2 never leaves the handle half-open; statements are finalized before this runs (the
  // Store declares its Db first so its statements are destroyed first).
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

void Db::exec(const char* sql, std::string_view doing) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) fail(rc, doing);
}

void Db::fail(int rc, std::string_view doing) const {
  std::string msg = "sqlite: " + std::string(doing) + " \"" + path_ + "\" failed: ";
  msg += db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  int status = status_for(rc);
  const int primary = rc & 0xff;
  if (primary == SQLITE_BUSY) {
    msg += " (another connection held the write lock longer than busy_timeout_ms=" +
           std::to_string(busy_timeout_ms_) + ")";
  } else if (primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN) {
    // The file itself was checked at open; what is left is the directory, where WAL mode
    // creates its -wal and -shm files, or the file having changed since.
    const std::string dir = directory_of(path_);
    if (std::string why = write_refused(dir); !why.empty()) {
      msg += " (the directory \"" + dir + "\" is not writable: " + why + "; SQLite creates \"" +
             path_ + "-wal\" and \"" + path_ + "-shm\" there)";
      status = VSP_E_PERMISSION;
    } else if (std::string why_file = write_refused(path_); !why_file.empty()) {
      msg += " (" + why_file + ")";
      status = VSP_E_PERMISSION;
    }
  }
  throw vsp::Error(status, msg);
}

Statement::Statement(Db& db, const char* sql) : db_(db) {
  int rc = sqlite3_prepare_v3(db.handle(), sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) db.fail(rc, std::string("preparing \"") + sql + "\" on");
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

void Statement::bind_blob(int index, std::string_view bytes) {
  const char* data = bytes.data() != nullptr ? bytes.data() : kEmpty;
  int rc = sqlite3_bind_blob64(stmt_, index, data, bytes.size(), SQLITE_STATIC);
  if (rc != SQLITE_OK) db_.fail(rc, "binding a value for");
}

void Statement::bind_int64(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) db_.fail(rc, "binding a value for");
}

bool Statement::step(std::string_view doing) {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.fail(rc, doing);
}

std::string_view Statement::column_blob(int index) const noexcept {
  const void* p = sqlite3_column_blob(stmt_, index);
  auto n = static_cast<size_t>(sqlite3_column_bytes(stmt_, index));
  return p != nullptr ? std::string_view(static_cast<const char*>(p), n)
                      : std::string_view(kEmpty, 0);
}

int64_t Statement::column_int64(int index) const noexcept {
  return sqlite3_column_int64(stmt_, index);
}

std::string_view Statement::column_text(int index) const noexcept {
  const unsigned char* p = sqlite3_column_text(stmt_, index);
  auto n = static_cast<size_t>(sqlite3_column_bytes(stmt_, index));
  return p != nullptr ? std::string_view(reinterpret_cast<const char*>(p), n) : std::string_view();
}

}  // namespace vespid::sqlite
