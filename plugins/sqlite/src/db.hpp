// Thin RAII owners of a SQLite connection and its prepared statements. Every failure becomes a
// vsp::Error whose message carries SQLite's own message and the database path, so an operator
// reading the gateway's log knows which file and why.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace vespid::sqlite {

// The VSP status for a failed SQLite call outside of open: SQLITE_FULL is the one the storage
// ABI distinguishes (VSP_E_FULL); everything else is VSP_E_IO.
int status_for(int sqlite_rc) noexcept;

class Db {
 public:
  // Opens (creating if needed) the file at `path` for reading and writing. Throws vsp::Error
  // naming the path and the OS's reason (VSP_E_PERMISSION when the OS refused access, VSP_E_IO
  // otherwise), also when the file exists but could only be opened read-only.
  static Db open(const std::string& path);

  Db(Db&& other) noexcept;
  Db& operator=(Db&&) = delete;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  sqlite3* handle() const noexcept { return db_; }
  const std::string& path() const noexcept { return path_; }

  // How long a statement waits for another connection's lock; also named in the message of a
  // call that gave up waiting.
  void set_busy_timeout(int ms);

  // Runs SQL that returns no rows we need. Throws on failure; `doing` goes in the message.
  void exec(const char* sql, std::string_view doing);

  // Throws vsp::Error(status_for(rc)) with "sqlite: <doing> "<path>" failed: <sqlite message>",
  // plus the cause where SQLite's message does not say it: the lock that was not released, the
  // file or directory the OS will not let us write (then VSP_E_PERMISSION).
  [[noreturn]] void fail(int rc, std::string_view doing) const;

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  int busy_timeout_ms_ = 0;
};

// One prepared statement, prepared once and reused (SQLITE_PREPARE_PERSISTENT). Bind, step,
// and let a Statement::Use reset it, also when a sink or an error leaves the loop early.
class Statement {
 public:
  Statement(Db& db, const char* sql);
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Resets the statement and clears its bindings when it goes out of scope. Clearing matters
  // because blobs are bound SQLITE_STATIC (borrowed from the caller) and must not outlive the
  // call that lent them.
  class Use {
   public:
    explicit Use(Statement& s) noexcept : s_(s) {}
    ~Use() {
      sqlite3_reset(s_.stmt_);
      sqlite3_clear_bindings(s_.stmt_);
    }
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;

   private:
    Statement& s_;
  };

  // Binds a byte string as a BLOB (never NULL, even when empty), borrowed until reset.
  void bind_blob(int index, std::string_view bytes);
  void bind_int64(int index, int64_t value);

  // true: a row is ready; false: done. Throws on error.
  bool step(std::string_view doing);

  // Column accessors for the current row. A zero-length blob comes back as a valid pointer.
  std::string_view column_blob(int index) const noexcept;
  int64_t column_int64(int index) const noexcept;
  std::string_view column_text(int index) const noexcept;

 private:
  Db& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace vespid::sqlite
