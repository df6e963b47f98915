// SPDX-License-Identifier: GPL-3.0-or-later
// `mautic-gdpr init-config`: the commented example config, or (--from-mautic) one that carries
// Mautic's own database settings from its local.php. The password never goes into the config:
// it is written to a 0600 file that the config names as password_file. What was taken from
// which line is reported (stderr, or "taken" with --json), never the password.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "app/secrets.h"
#include "cli/commands_internal.h"
#include "mautic/local_php.h"

namespace mgdpr::cli {

namespace {

struct LocalPhp {
  std::string path;
  std::string text;
};

Result<LocalPhp> read_local_php(const std::string& mautic_dir) {
  const auto candidates = mautic::local_php_candidates(mautic_dir);
  for (const auto& path : candidates) {
    std::ifstream in(path, std::ios::binary);
    if (!in) continue;
    std::ostringstream text;
    text << in.rdbuf();
    return LocalPhp{path, text.str()};
  }
  std::string tried;
  for (const auto& path : candidates) tried += (tried.empty() ? "" : ", ") + path;
  return make_error(ErrorKind::kUsage,
                    "no Mautic local.php under {} (tried {}); pass Mautic's directory (the one "
                    "with app/ or config/), or the local.php itself",
                    mautic_dir, tried);
}

// The password file: created 0600; one that already holds this password is left as it is.
Status write_password_file(const std::string& path, const std::string& password) {
  std::ifstream existing(path, std::ios::binary);
  if (existing) {
    std::string first_line;
    std::getline(existing, first_line);
    if (first_line == password) return {};
  }
  return app::write_new_file(path, password + "\n", 0600,
                             "it holds another password; remove it, or pass --password-file "
                             "PATH");
}

}  // namespace

void init_config_options(CLI::App& command, CommandArgs& args) {
  command.add_option("--from-mautic", args.from_mautic,
                     "Take the database settings from this Mautic's local.php (the directory\n"
                     "with app/config/local.php on 4.x or config/local.php on 5.x, or the file)");
  command.add_option("--out", args.config_out,
                     "Write the config here (never over an existing file) instead of stdout");
  command.add_option("--password-file", args.password_file,
                     "With --from-mautic: where the database password goes (mode 0600)")
      ->capture_default_str();
  command.footer(
      "Nothing in local.php is executed: its array is read as literal values, and a setting that\n"
      "is PHP code (getenv(...), a constant) is an error naming its line. Example:\n"
      "  mautic-gdpr init-config --from-mautic /var/www/mautic --out /etc/mautic-gdpr/config.toml");
}

int run_init_config(CommandContext& context) {
  const CommandArgs& args = context.args;
  std::string text = example_config();
  nlohmann::json taken = nlohmann::json::array();
  std::vector<std::string> notes;
  std::optional<std::string> password_written;
  if (args.from_mautic) {
    auto local = read_local_php(*args.from_mautic);
    if (!local) return fail(args, local.error());
    auto settings = mautic::read_local_php(local->text, local->path);
    if (!settings) return fail(args, settings.error());
    if (settings->password) {
      if (auto written = write_password_file(args.password_file, *settings->password); !written) {
        return fail(args, written.error());
      }
      settings->database.password_file = args.password_file;
      settings->taken.push_back({"database.password_file",
                                 args.password_file + " (the password, mode 0600)",
                                 settings->password_from});
      password_written = args.password_file;
    }
    text = example_config(database_section_toml(settings->database));
    for (const auto& setting : settings->taken) {
      taken.push_back({{"key", setting.key}, {"value", setting.value}, {"from", setting.from}});
    }
    notes = settings->notes;
    if (!args.json) {
      fmt::print(stderr, "From {}:\n", local->path);
      for (const auto& setting : settings->taken) {
        fmt::print(stderr, "  {:<24} = {:<40} from {}\n", setting.key,
                   setting.value.empty() ? "\"\"" : setting.value, setting.from);
      }
      for (const auto& note : notes) fmt::print(stderr, "note: {}\n", note);
      fmt::print(stderr,
                 "Next: mautic-gdpr keygen --out /etc/mautic-gdpr/hmac.key, edit the policy, then "
                 "mautic-gdpr check{}\n",
                 args.config_out ? " --config " + *args.config_out : "");
    }
  }
  if (args.config_out) {
    if (auto written = app::write_new_file(*args.config_out, text, 0640,
                                           "mautic-gdpr never overwrites a config; choose "
                                           "another --out");
        !written) {
      return fail(args, written.error());
    }
  }
  if (args.json) {
    print_json({{"config", args.config_out ? nlohmann::json(nullptr) : nlohmann::json(text)},
                {"written_to", args.config_out ? nlohmann::json(*args.config_out) : nullptr},
                {"password_file", password_written ? nlohmann::json(*password_written) : nullptr},
                {"taken", taken},
                {"notes", notes}});
  } else if (!args.config_out) {
    fmt::print("{}", text);
  }
  return kExitOk;
}

}  // namespace mgdpr::cli
