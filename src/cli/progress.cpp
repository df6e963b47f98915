// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>

#include "core/timestamps.h"

namespace mgdpr::cli {

std::string progress_text(int64_t done, int64_t total, double elapsed_seconds) {
  const double percent = total > 0 ? 100.0 * double(done) / double(total) : 100.0;
  std::string text = fmt::format("{} of {} contacts ({:.1f}%)", done, total, percent);
  if (done > 0 && elapsed_seconds >= 1.0) {
    const double rate = double(done) / elapsed_seconds;
    text += fmt::format(", {:.0f}/s", rate);
    if (done < total) {
      const auto left = static_cast<int64_t>(std::ceil(double(total - done) / rate));
      text += ", about " + duration_text(left) + " left";
    }
  }
  return text;
}

SweepProgress::Mode SweepProgress::mode_for(std::FILE* out, bool quiet) {
  if (quiet) return Mode::kOff;
  return ::isatty(::fileno(out)) != 0 ? Mode::kTerminal : Mode::kLines;
}

SweepProgress::SweepProgress(Mode mode, std::FILE* out, std::chrono::seconds line_every)
    : mode_(mode), out_(out), line_every_(line_every) {}

SweepProgress::~SweepProgress() {
  if (drawn_) fmt::print(out_, "\n");
}

void SweepProgress::update(int64_t done, int64_t total, Clock::time_point now) {
  if (mode_ == Mode::kOff || total == 0) return;
  if (!started_) started_ = now;
  const double elapsed = std::chrono::duration<double>(now - *started_).count();
  if (mode_ == Mode::kTerminal) {
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(kWidth * done / total);
    // \x1b[K clears what a longer earlier line left behind.
    fmt::print(out_, "\r[{:#<{}}{:.<{}}] {}\x1b[K", "", filled, "", kWidth - filled,
               progress_text(done, total, elapsed));
    drawn_ = true;
  } else if (!last_line_) {
    last_line_ = now;  // a sweep shorter than line_every prints no progress at all
  } else if (now - *last_line_ >= line_every_) {
    fmt::print(out_, "sweep: {}\n", progress_text(done, total, elapsed));
    last_line_ = now;
  }
  std::fflush(out_);
}

}  // namespace mgdpr::cli
