// SPDX-License-Identifier: GPL-3.0-or-later
// docs/json.md documents the JSON of every command by example; this test runs each command with
// --json and checks that its output has the documented shape (the same keys, the same types),
// that every timestamp is ISO 8601 UTC with a `Z`, and that errors are {"error": {...}}.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "core/normalize.h"
#include "test_database.h"

namespace mgdpr::testing {
namespace {

using nlohmann::json;

// The ```json block after each `<!-- shape: NAME -->` marker.
std::map<std::string, json> documented_shapes() {
  std::ifstream in(std::string(MGDPR_SOURCE_DIR) + "/docs/json.md");
  const std::string text(std::istreambuf_iterator<char>(in), {});
  std::map<std::string, json> shapes;
  const std::regex marker(R"(<!-- shape: ([a-z-]+) -->\s*```json\n([\s\S]*?)```)");
  for (std::sregex_iterator it(text.begin(), text.end(), marker), end; it != end; ++it) {
    shapes[(*it)[1]] = json::parse((*it)[2].str());
  }
  return shapes;
}

// Same keys and types as the documented example. A documented object whose only key is in
// <angle brackets> is a map: any keys, each value shaped like the example's. An actual null
// matches any documented type (the field is optional), a documented null any value, an empty
// documented array any array.
void expect_shape(const json& documented, const json& actual, const std::string& path) {
  if (actual.is_null() || documented.is_null()) return;
  if (documented.is_object()) {
    ASSERT_TRUE(actual.is_object()) << path << ": " << actual.dump();
    if (documented.size() == 1 && documented.begin().key().starts_with("<")) {
      for (const auto& [key, value] : actual.items()) {
        expect_shape(documented.begin().value(), value, path + "." + key);
      }
      return;
    }
    for (const auto& [key, value] : documented.items()) {
      EXPECT_TRUE(actual.contains(key)) << path << ": documented `" << key << "` is missing";
    }
    for (const auto& [key, value] : actual.items()) {
      if (!documented.contains(key)) {
        ADD_FAILURE() << path << ": `" << key << "` is not in docs/json.md";
        continue;
      }
      expect_shape(documented[key], value, path + "." + key);
    }
  } else if (documented.is_array()) {
    ASSERT_TRUE(actual.is_array()) << path << ": " << actual.dump();
    if (documented.empty()) return;
    for (size_t i = 0; i < actual.size(); ++i) {
      expect_shape(documented[0], actual[i], path + "[" + std::to_string(i) + "]");
    }
  } else if (documented.is_number()) {
    EXPECT_TRUE(actual.is_number()) << path << ": a number is documented, got " << actual.dump();
  } else if (documented.is_string()) {
    EXPECT_TRUE(actual.is_string()) << path << ": a string is documented, got " << actual.dump();
  } else if (documented.is_boolean()) {
    EXPECT_TRUE(actual.is_boolean()) << path << ": a boolean is documented, got " << actual.dump();
  }
}

// Every string that looks like a time is ISO 8601 UTC: 2025-03-04T05:06:07Z.
void expect_utc_times(const json& value, const std::string& path) {
  if (value.is_object()) {
    for (const auto& [key, item] : value.items()) {
      // An export's rows are the database's text as stored (docs/json.md, "export").
      if (key == "rows" && path.ends_with(".sections")) continue;
      expect_utc_times(item, path + "." + key);
    }
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) expect_utc_times(value[i], path);
  } else if (value.is_string()) {
    static const std::regex time(R"(^\d{4}-\d\d-\d\d[ T]\d\d:)");
    const std::string text = value.get<std::string>();
    if (std::regex_search(text, time)) {
      EXPECT_TRUE(std::regex_match(text, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
          << path << ": " << text;
    }
  }
}

class Json : public MauticTest {
 protected:
  void SetUp() override {
    contact_set.contacts = 200;
    MauticTest::SetUp();
    if (HasFatalFailure()) return;
    shapes = documented_shapes();
  }

  // Runs the command, expects `exit_code`, and checks its JSON against docs/json.md's `shape`.
  json run_and_check(const std::string& shape, std::vector<std::string> args, int exit_code,
                     bool with_config = true, const std::string& stdin_text = "") {
    args.push_back("--json");
    auto result = with_config ? tool(args, stdin_text) : run_tool(args, stdin_text);
    EXPECT_EQ(result.exit_code, exit_code) << shape << ": " << result.out << result.err;
    EXPECT_EQ(result.err, "") << shape << ": with --json nothing goes to stderr";
    const json actual = json::parse(result.out, nullptr, false);
    EXPECT_FALSE(actual.is_discarded()) << shape << ": not JSON: " << result.out;
    if (!shapes.contains(shape)) {
      ADD_FAILURE() << "docs/json.md has no `<!-- shape: " << shape << " -->`";
      return actual;
    }
    expect_shape(shapes[shape], actual, shape);
    expect_utc_times(actual, shape);
    return actual;
  }

  std::map<std::string, json> shapes;
};

TEST_P(Json, EveryCommandPrintsTheDocumentedShape) {
  run_and_check("keygen", {"keygen", "--out", (dir / "another.key").string()}, 0, false);
  run_and_check("init-config", {"init-config"}, 0, false);
  run_and_check("locations", {"locations"}, 0, false);
  run_and_check("passwd", {"passwd", "--user", "alice"}, 0, false, "a long enough password\n");
  run_and_check("check", {"check"}, 0);
  run_and_check("plan", {"plan"}, 0);
  auto sweep = run_and_check("sweep", {"sweep"}, 0);
  EXPECT_EQ(sweep["processed"], 40);
  EXPECT_EQ(run_and_check("verify", {"verify"}, 0)["clean"], true);
  EXPECT_EQ(run_and_check("queue", {"queue", "install"}, 0)["complete"], true);
  EXPECT_EQ(run_and_check("queue", {"queue", "remove"}, 0)["installed"], false);
  auto lookup = run_and_check(
      "lookup", {"lookup", "--email", synthetic_email(30, contact_set.seed)}, 0);
  ASSERT_EQ(lookup["matches"].size(), 1u);
  EXPECT_TRUE(lookup["matches"][0]["kept"]["points"].is_number()) << lookup.dump();
  const auto csv = dir / "import.csv";
  std::ofstream(csv) << "email\n" << synthetic_email(30, contact_set.seed) << "\n";
  run_and_check("guard", {"guard", "--check-file", csv.string()}, 0);
  auto status = run_and_check("status", {"status"}, 0);
  EXPECT_EQ(status["processed"], 40);
  // Requests that name a person: contact 33 is live, 30 processed.
  const std::string live_email = synthetic_email(33, contact_set.seed);
  auto exported = run_and_check("export", {"export", "--email", live_email}, 0);
  ASSERT_EQ(exported["contacts"].size(), 1u);
  EXPECT_EQ(exported["contacts"][0]["state"], "live");
  EXPECT_EQ(run_and_check("export", {"export", "--contact-id", "30"}, 0)["contacts"][0]["state"],
            "processed");
  EXPECT_TRUE(run_and_check("export", {"export", "--email", "nobody@example.org"}, 1)["contacts"]
                  .empty());
  auto preview = run_and_check("erase", {"erase", "--email", live_email, "--dry-run"}, 0);
  EXPECT_EQ(preview["contacts"][0]["dry_run"], true);
  auto erased = run_and_check("erase", {"erase", "--contact-id", "33", "--yes"}, 0);
  EXPECT_EQ(erased["contacts"][0]["dry_run"], false);
  EXPECT_FALSE(erased["contacts"][0]["rows_changed"].empty());
  EXPECT_EQ(run_and_check("lookup", {"lookup", "--email", live_email}, 0)["matches"][0]["source"],
            "request");
  // Errors are JSON too, with the exit code from the one table.
  auto error = run_and_check("error", {"lookup", "--field", "firstname=Someone"}, 64);
  EXPECT_EQ(error["error"]["kind"], "usage");
  EXPECT_EQ(error["error"]["exit_code"], 64);
  EXPECT_EQ(run_and_check("error", {"sweeep"}, 64, false)["error"]["kind"], "usage");
  std::filesystem::remove(key_path);
  EXPECT_EQ(run_and_check("error", {"sweep"}, 2)["error"]["kind"], "config");
}

INSTANTIATE_TEST_SUITE_P(Prefixes, Json, ::testing::Values("", "mt_"), prefix_name);

}  // namespace
}  // namespace mgdpr::testing
