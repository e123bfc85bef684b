// Owning PGresult handles, reading binary-format fields, and turning PostgreSQL's errors into
// the storage ABI's statuses and one-line messages.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace vespid::postgres {

struct ResultFree {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultFree>;

// Field (row, col) of a binary-format result as bytes (empty for NULL; ask is_null).
std::string_view field(const PGresult* r, int row, int col) noexcept;
bool is_null(const PGresult* r, int row, int col) noexcept;
// An int8 (or int4 widened) field; throws vsp::Error(VSP_E_INTERNAL) on a NULL or a bad width.
int64_t int_field(const PGresult* r, int row, int col);

// Whether a statement's result is a success (a command or a query that ran).
bool succeeded(const PGresult* r) noexcept;
// The SQLSTATE of a failed statement, or "".
std::string sqlstate(const PGresult* r);
// "<primary message> (SQLSTATE xxxxx)" plus the server's detail, on one line.
std::string describe(const PGresult* r);

// The storage status for a server error: VSP_E_FULL for disk full (53100), VSP_E_PERMISSION
// for a missing privilege (42501), VSP_E_INVALID for a program limit (54000: a key too long
// for the primary-key index), VSP_E_IO for everything else.
int status_for_sqlstate(std::string_view state) noexcept;

// libpq's multi-line messages ("...failed: Connection refused\n\tIs the server running...")
// on one line, for a log line or a vsp_error.
std::string one_line(std::string_view text);

}  // namespace vespid::postgres
