// SPDX-License-Identifier: GPL-3.0-or-later
// Generalizing actions: keep a coarse, non-personal form of a value instead of deleting it
// ("born 1980" instead of "1980-01-02", "10xx" instead of "1051", "example.org" instead of the
// address). Each one accepts only the Mautic field types it makes sense for, and each is
// idempotent: a generalized value generalizes to itself, so a repeat run (a profile Mautic
// saved again after processing) never turns it into something else. A value that cannot be
// generalized (malformed) becomes NULL: nothing malformed is ever kept whole.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"

namespace mgdpr {

enum class Generalization {
  kYear,    // date, datetime: the first day of the year, in the value's own form
  kMonth,   // date, datetime: the first day of the month
  kPrefix,  // text-like fields: the first N characters
  kBucket,  // numbers: rounded down to a multiple of N
  kDomain,  // email fields: the part after the @, lowercased
};

struct Generalizer {
  Generalization kind = Generalization::kYear;
  int64_t n = 0;  // prefix:N characters or bucket:N width; 0 for the others

  // As written in the config: "year", "prefix:3", "bucket:10".
  std::string name() const;
  bool operator==(const Generalizer&) const = default;
};

// True when the word is meant as a generalizer (year, month, domain, prefix..., bucket...),
// even a wrongly written one, so that the config can say what is wrong with it.
bool names_generalizer(std::string_view word);

// "prefix:3" -> {kPrefix, 3}. The error says what is wrong and what to write instead, using
// `key` in the example ("zipcode = \"prefix:2\"").
Result<Generalizer> parse_generalizer(std::string_view word, std::string_view key);

// Every contact field type Mautic 4.4 and 5.x know (LeadBundle FormFieldHelper::$types).
std::span<const std::string_view> mautic_field_types();

// Whether the generalizer applies to a field of this Mautic type.
bool accepts_field_type(Generalization kind, std::string_view mautic_type);

// "date and datetime fields": the types a generalizer accepts, for messages.
std::string accepted_field_types(Generalization kind);

// The generalizers that fit a field type, as a config value suggestion ("\"year\" or
// \"month\""); empty when none does (then keep or delete it).
std::string generalizers_for_field_type(std::string_view mautic_type);

// The generalized value; nullopt means NULL: the value is empty or blank, or malformed for
// this generalizer (a date that is no calendar date, a number that does not parse, an
// address without a domain, text that is not UTF-8). NULL itself is never passed here.
std::optional<std::string> generalize(const Generalizer& generalizer, std::string_view value);

}  // namespace mgdpr
