// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli/progress.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace mgdpr::cli {
namespace {

using namespace std::chrono_literals;

TEST(Progress, TextHasPercentRateAndTimeLeft) {
  EXPECT_EQ(progress_text(0, 66667, 0), "0 of 66667 contacts (0.0%)");
  EXPECT_EQ(progress_text(13000, 66667, 40),
            "13000 of 66667 contacts (19.5%), 325/s, about 2 min left");
  EXPECT_EQ(progress_text(500, 500, 2), "500 of 500 contacts (100.0%), 250/s");
}

std::string written(std::FILE* file) {
  std::fflush(file);
  std::rewind(file);
  std::string text;
  for (int c; (c = std::fgetc(file)) != EOF;) text += char(c);
  return text;
}

TEST(Progress, WithoutATerminalALineEveryTenSeconds) {
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  const auto start = SweepProgress::Clock::now();
  {
    SweepProgress progress(SweepProgress::Mode::kLines, file);
    progress.update(0, 1000, start);
    progress.update(100, 1000, start + 5s);  // too soon
    progress.update(400, 1000, start + 10s);
    progress.update(500, 1000, start + 12s);  // too soon again
    progress.update(900, 1000, start + 21s);
  }
  EXPECT_EQ(written(file),
            "sweep: 400 of 1000 contacts (40.0%), 40/s, about 15 s left\n"
            "sweep: 900 of 1000 contacts (90.0%), 43/s, about 3 s left\n");
  std::fclose(file);
}

TEST(Progress, QuietPrintsNothing) {
  EXPECT_EQ(SweepProgress::mode_for(stderr, true), SweepProgress::Mode::kOff);
  std::FILE* file = std::tmpfile();
  {
    SweepProgress progress(SweepProgress::Mode::kOff, file);
    progress.update(1, 2, SweepProgress::Clock::now() + 1h);
  }
  EXPECT_EQ(written(file), "");
  std::fclose(file);
}

}  // namespace
}  // namespace mgdpr::cli
