// SPDX-License-Identifier: GPL-3.0-or-later
// Progress of a sweep on stderr: on a terminal a line redrawn in place with percent, rate and
// time left; otherwise (cron, systemd's journal) one plain line every 10 s, so a long first
// sweep shows that it moves; nothing with --quiet. Time is a parameter, for tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace mgdpr::cli {

// "1200 of 66667 contacts (1.8%), 325/s, about 3 min left"; rate and time left once known.
std::string progress_text(int64_t done, int64_t total, double elapsed_seconds);

class SweepProgress {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Mode { kOff, kTerminal, kLines };

  // kTerminal when `out` is a terminal, else kLines; kOff when quiet or writing JSON.
  static Mode mode_for(std::FILE* out, bool quiet);

  SweepProgress(Mode mode, std::FILE* out,
                std::chrono::seconds line_every = std::chrono::seconds(10));
  ~SweepProgress();
  void update(int64_t done, int64_t total, Clock::time_point now = Clock::now());

 private:
  Mode mode_;
  std::FILE* out_;
  std::chrono::seconds line_every_;
  std::optional<Clock::time_point> started_;
  std::optional<Clock::time_point> last_line_;
  bool drawn_ = false;
};

}  // namespace mgdpr::cli
