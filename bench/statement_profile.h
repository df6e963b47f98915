// SPDX-License-Identifier: GPL-3.0-or-later
// Where a timed part spends its time, statement by statement: the server's slow log with
// long_query_time = 0 while the part runs, then the statements grouped by shape (literals and
// value lists folded) with their count and total server time. bench/run --profile prints it;
// it is how a missed target's profile is taken (bench/README.md).
#pragma once

#include <string>
#include <vector>

#include "db/connection.h"

namespace mgdpr::bench {

struct StatementShape {
  std::string shape;  // the statement with literals as ? and lists folded, cut at 160 chars
  int64_t count = 0;
  double seconds = 0;
};

// The shape of one statement: quoted strings and numbers become ?, a run of ?s in a list or of
// VALUES tuples becomes one.
std::string statement_shape(std::string_view statement);

// Groups a slow log's statements by shape, the most expensive first.
std::vector<StatementShape> read_slow_log(const std::string& path);

// Turns the slow log on for every statement of connections opened from now on (the profile of
// a child process) and of `open` ones, and off again. The server writes the log: `path` must be
// absolute.
class StatementProfile {
 public:
  StatementProfile(db::Connection& root, std::string path, std::vector<db::Connection*> open = {});
  // Stops logging and returns the shapes.
  std::vector<StatementShape> finish();

 private:
  db::Connection& root_;
  std::string path_;
  std::vector<db::Connection*> open_;
};

// The shapes as a markdown table under a title, the top `limit` of them, with their share of
// `wall_seconds`.
std::string profile_table(const std::string& title, const std::vector<StatementShape>& shapes,
                          double wall_seconds, size_t limit = 15);

}  // namespace mgdpr::bench
