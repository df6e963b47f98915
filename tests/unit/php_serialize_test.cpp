// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/php_serialize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace mgdpr::php {

// GoogleTest prints values in failure messages as their serialized form.
static void PrintTo(const Value& value, std::ostream* out) { *out << serialize(value); }

namespace {

using namespace std::string_literals;

// s:<bytes>:"<bytes>"; spelled out independently of the code under test.
std::string php_string(std::string_view bytes) {
  return "s:" + std::to_string(bytes.size()) + ":\"" + std::string(bytes) + "\";";
}

Value parse_ok(std::string_view input) {
  auto value = parse(input);
  EXPECT_TRUE(value.ok()) << (value.ok() ? "" : value.error().message);
  return value.ok() ? std::move(*value) : Value();
}

// Parses a value of the given type. On a failure it reports and returns an empty value of that
// type, so the accessors called next fail the test instead of tripping their asserts.
Value parse_as(std::string_view input, Type type) {
  Value value = parse_ok(input);
  EXPECT_EQ(value.type(), type) << "for " << input;
  if (value.type() == type) return value;
  switch (type) {
    case Type::kBool:
      return Value::boolean(false);
    case Type::kInt:
      return Value::integer(0);
    case Type::kFloat:
      return Value::floating(0);
    case Type::kString:
      return Value::string("");
    case Type::kArray:
      return Value::array();
    case Type::kObject:
      return Value::object("");
    case Type::kCustomObject:
      return Value::custom_object("", "");
    case Type::kEnum:
      return Value::enum_case("");
    case Type::kObjectReference:
      return Value::object_reference(0);
    case Type::kReference:
      return Value::reference(0);
    case Type::kNull:
      break;
  }
  return Value();
}

// The entry under `key`, or (reported) null when absent: tests never dereference nullptr.
template <typename KeyType>
const Value& get(const Value& container, KeyType key) {
  static const Value kMissing;
  const Value* found = container.find(key);
  if (found == nullptr) {
    ADD_FAILURE() << "no entry under " << key;
    return kMissing;
  }
  return *found;
}

const std::string kDateTime = R"(O:8:"DateTime":3:{s:4:"date";s:26:"2024-05-01 10:00:00.000000";)"
                              R"(s:13:"timezone_type";i:3;s:8:"timezone";s:3:"UTC";})";

// A Mautic audit_log.details row for a lead update: [old, new] pairs per field.
const std::string kAuditLogDetails =
    R"(a:2:{s:6:"fields";a:2:{s:5:"email";a:2:{i:0;N;i:1;s:16:"jane@example.org";})"
    R"(s:9:"firstname";a:2:{i:0;s:4:"Jane";i:1;s:5:"Janet";}})"
    R"(s:9:"dateAdded";a:2:{i:0;N;i:1;)" +
    kDateTime + "}}";

// --- round trips -----------------------------------------------------------------------------

TEST(PhpSerialize, EveryTypeRoundTripsByteForByte) {
  struct Case {
    std::string input;
    Type type;
  };
  const std::vector<Case> cases = {
      {"N;", Type::kNull},
      {"b:0;", Type::kBool},
      {"b:1;", Type::kBool},
      {"i:0;", Type::kInt},
      {"i:-42;", Type::kInt},
      {"i:9223372036854775807;", Type::kInt},
      {"i:-9223372036854775808;", Type::kInt},
      {"d:0.1;", Type::kFloat},
      {"d:1.0E+25;", Type::kFloat},
      {"d:1.0E-5;", Type::kFloat},
      {"d:INF;", Type::kFloat},
      {"d:-INF;", Type::kFloat},
      {"d:NAN;", Type::kFloat},
      {"d:-0;", Type::kFloat},
      {"d:1;", Type::kFloat},
      {"d:0.30000000000000004;", Type::kFloat},
      {R"(s:0:"";)", Type::kString},
      {R"(s:5:"hello";)", Type::kString},
      {php_string("quote\" semicolon; brace} colon: \"; done"), Type::kString},
      {php_string("nul\0byte"s), Type::kString},
      {php_string("\xff\xfe not UTF-8 at all"), Type::kString},
      {"a:0:{}", Type::kArray},
      {R"(a:3:{i:0;s:1:"a";s:1:"k";b:1;i:-7;a:0:{}})", Type::kArray},
      {R"(a:1:{s:0:"";N;})", Type::kArray},
      {R"(O:8:"stdClass":0:{})", Type::kObject},
      {R"(O:8:"stdClass":1:{s:5:"email";s:1:"x";})", Type::kObject},
      {R"(O:3:"Foo":2:{i:0;s:1:"x";i:1;d:2.5;})", Type::kObject},  // __serialize() lists
      {R"(O:22:"Mautic\Entity\LeadList":0:{})", Type::kObject},
      {kDateTime, Type::kObject},
      {R"(C:11:"ArrayObject":21:{x:i:0;a:0:{};m:a:0:{}})", Type::kCustomObject},
      {R"(C:3:"Foo":3:{}}}})", Type::kCustomObject},  // braces inside the payload
      {R"(C:3:"Foo":0:{})", Type::kCustomObject},
      {R"(E:11:"Suit:Hearts";)", Type::kEnum},
      {"r:1;", Type::kObjectReference},
      {"R:2;", Type::kReference},
      {R"(a:2:{i:0;O:8:"stdClass":0:{}i:1;r:2;})", Type::kArray},
      {kAuditLogDetails, Type::kArray},
  };
  for (const Case& test_case : cases) {
    SCOPED_TRACE(test_case.input);
    auto value = parse(test_case.input);
    ASSERT_TRUE(value.ok()) << value.error().message;
    EXPECT_EQ(value->type(), test_case.type);
    EXPECT_EQ(serialize(*value), test_case.input);
  }
}

TEST(PhpSerialize, ScalarAccessors) {
  EXPECT_TRUE(parse_ok("N;").is_null());
  EXPECT_TRUE(parse_as("b:1;", Type::kBool).as_bool());
  EXPECT_FALSE(parse_as("b:0;", Type::kBool).as_bool());
  EXPECT_EQ(parse_as("i:-9223372036854775808;", Type::kInt).as_int(), INT64_MIN);
  EXPECT_EQ(parse_as("i:9223372036854775807;", Type::kInt).as_int(), INT64_MAX);
  EXPECT_DOUBLE_EQ(parse_as("d:0.1;", Type::kFloat).as_float(), 0.1);
  EXPECT_DOUBLE_EQ(parse_as("d:1.0E+25;", Type::kFloat).as_float(), 1e25);
  EXPECT_EQ(parse_as("d:1.0E+25;", Type::kFloat).float_lexeme(), "1.0E+25");
  EXPECT_TRUE(std::isinf(parse_as("d:INF;", Type::kFloat).as_float()));
  EXPECT_LT(parse_as("d:-INF;", Type::kFloat).as_float(), 0);
  EXPECT_TRUE(std::isnan(parse_as("d:NAN;", Type::kFloat).as_float()));
  EXPECT_TRUE(std::signbit(parse_as("d:-0;", Type::kFloat).as_float()));
  EXPECT_TRUE(std::isinf(parse_as("d:1e999;", Type::kFloat).as_float()));
  EXPECT_EQ(parse_as("d:1e-999;", Type::kFloat).as_float(), 0.0);
  EXPECT_EQ(parse_as(php_string("nul\0byte"s), Type::kString).as_string(), "nul\0byte"s);
  EXPECT_EQ(parse_as(R"(E:11:"Suit:Hearts";)", Type::kEnum).enum_name(), "Suit:Hearts");
  EXPECT_EQ(parse_as("R:2;", Type::kReference).reference_slot(), 2);
  EXPECT_EQ(parse_as("r:3;", Type::kObjectReference).reference_slot(), 3);
  Value custom = parse_as(R"(C:11:"ArrayObject":21:{x:i:0;a:0:{};m:a:0:{}})", Type::kCustomObject);
  EXPECT_EQ(custom.class_name(), "ArrayObject");
  EXPECT_EQ(custom.payload(), "x:i:0;a:0:{};m:a:0:{}");
}

TEST(PhpSerialize, FloatsAreWrittenLikePhp) {
  const std::vector<std::pair<double, std::string>> cases = {
      {0.0, "0"},
      {-0.0, "-0"},
      {0.1, "0.1"},
      {1.0, "1"},
      {1.5, "1.5"},
      {-2.5, "-2.5"},
      {100.0, "100"},
      {123456789.0, "123456789"},
      {0.1 + 0.2, "0.30000000000000004"},
      {1.0 / 3.0, "0.3333333333333333"},
      {0.0001, "0.0001"},
      {9.99e-5, "9.99E-5"},
      {1e-5, "1.0E-5"},
      {1.5e-7, "1.5E-7"},
      {1e16, "10000000000000000"},
      {1e17, "1.0E+17"},
      {1.23e20, "1.23E+20"},
      {1e25, "1.0E+25"},
      {1e100, "1.0E+100"},
      {-1.5e300, "-1.5E+300"},
      {INFINITY, "INF"},
      {-INFINITY, "-INF"},
      {NAN, "NAN"},
  };
  for (const auto& [number, lexeme] : cases) {
    SCOPED_TRACE(lexeme);
    Value value = Value::floating(number);
    EXPECT_EQ(serialize(value), "d:" + lexeme + ";");
    auto reparsed = parse(serialize(value));
    ASSERT_TRUE(reparsed.ok());
    ASSERT_TRUE(reparsed->is_float());
    if (!std::isnan(number)) {
      EXPECT_EQ(reparsed->as_float(), number);
    }
  }
}

TEST(PhpSerialize, FloatLexemesFollowUnserializeGrammar) {
  for (std::string_view good :
       {"1", "1.5", "1.", ".5", "+1", "-1", "1e5", "1.5E-3", "NAN", "INF", "-INF", "007"}) {
    EXPECT_TRUE(Value::float_from_lexeme(good).ok()) << good;
  }
  for (std::string_view bad :
       {"", ".", "e5", "1e", "1e+", "inf", "nan", "+INF", "0x10", "1,5", "1.5.", " 1"}) {
    EXPECT_FALSE(Value::float_from_lexeme(bad).ok()) << bad;
  }
}

TEST(PhpSerialize, NonCanonicalSpellingsAreAcceptedAndWrittenCanonically) {
  EXPECT_EQ(serialize(parse_ok("i:+5;")), "i:5;");
  EXPECT_EQ(serialize(parse_ok("i:-007;")), "i:-7;");
  EXPECT_EQ(serialize(parse_ok(R"(s:05:"hello";)")), R"(s:5:"hello";)");
  EXPECT_EQ(serialize(parse_ok("a:01:{i:+0;N;}")), "a:1:{i:0;N;}");
}

// --- strings are counted in bytes ------------------------------------------------------------

TEST(PhpSerialize, Utf8LengthsAreBytes) {
  const std::string mueller = "M\xc3\xbcller";  // "Müller": 6 characters, 7 bytes
  Value value = parse_as("s:7:\"" + mueller + "\";", Type::kString);
  EXPECT_EQ(value.as_string(), mueller);
  EXPECT_FALSE(parse("s:6:\"" + mueller + "\";").ok());  // character count is not the length
  EXPECT_EQ(serialize(Value::string(mueller)), "s:7:\"M\xc3\xbcller\";");

  value.as_string() = "J\xc3\xbcrgen Gro\xc3\x9f";  // "Jürgen Groß": 11 characters, 13 bytes
  EXPECT_EQ(serialize(value), "s:13:\"J\xc3\xbcrgen Gro\xc3\x9f\";");
  EXPECT_TRUE(parse(serialize(value)).ok());
}

TEST(PhpSerialize, ReplacedStringsGetTheirNewByteLength) {
  Value document = parse_ok(R"(a:2:{s:4:"name";s:4:"Jane";s:4:"city";s:4:"Graz";})");
  for_each_string(document, [](std::string& bytes, const Path& path) {
    if (path.contains_name("name")) bytes = "\xe5\xb1\xb1\xe7\x94\xb0";  // "山田": 6 bytes
  });
  EXPECT_EQ(serialize(document),
            "a:2:{s:4:\"name\";s:6:\"\xe5\xb1\xb1\xe7\x94\xb0\";s:4:\"city\";s:4:\"Graz\";}");
}

// --- structure -------------------------------------------------------------------------------

TEST(PhpSerialize, NestedArraysFourLevelsDeep) {
  const std::string input =
      R"(a:2:{s:1:"a";a:1:{s:1:"b";a:1:{s:1:"c";a:2:{i:0;s:5:"deep!";i:7;i:1;}}}s:1:"z";b:0;})";
  Value root = parse_ok(input);
  ASSERT_TRUE(root.is_array());
  EXPECT_EQ(root.size(), 2u);
  const Value& innermost = get(get(get(root, "a"), "b"), "c");
  EXPECT_EQ(get(innermost, 0), Value::string("deep!"));
  EXPECT_EQ(get(innermost, 7), Value::integer(1));
  EXPECT_EQ(innermost.find(1), nullptr);
  EXPECT_EQ(root.find("missing"), nullptr);
  EXPECT_EQ(get(root, "z").find("anything"), nullptr);  // not a container
  EXPECT_EQ(serialize(root), input);

  std::vector<std::string> paths;
  for_each_string(root, [&](std::string&, const Path& path) { paths.push_back(path.to_string()); });
  EXPECT_EQ(paths, std::vector<std::string>{"a.b.c.0"});
}

TEST(PhpSerialize, DateTimeObjectIsReadAndLeftIntact) {
  Value date = parse_as(kDateTime, Type::kObject);
  EXPECT_EQ(date.class_name(), "DateTime");
  EXPECT_EQ(date.size(), 3u);
  EXPECT_EQ(get(date, "date"), Value::string("2024-05-01 10:00:00.000000"));
  EXPECT_EQ(get(date, "timezone_type"), Value::integer(3));
  EXPECT_EQ(get(date, "timezone"), Value::string("UTC"));
  EXPECT_EQ(serialize(date), kDateTime);
}

TEST(PhpSerialize, PrivateAndProtectedPropertyNamesKeepTheirNulBytes) {
  const std::string input =
      "O:4:\"User\":3:{s:11:\"\0User\0email\";s:16:\"jane@example.org\";"
      "s:7:\"\0*\0name\";s:4:\"Jane\";s:2:\"id\";i:7;}"s;
  Value user = parse_ok(input);
  ASSERT_EQ(user.size(), 3u);
  EXPECT_EQ(user.entries()[0].key.as_string(), "\0User\0email"s);
  EXPECT_EQ(user.entries()[0].key.name(), "email");
  EXPECT_EQ(user.entries()[1].key.as_string(), "\0*\0name"s);
  EXPECT_EQ(user.entries()[1].key.name(), "name");
  EXPECT_EQ(user.entries()[2].key.name(), "id");
  EXPECT_EQ(get(user, "email"), Value::string("jane@example.org"));
  EXPECT_EQ(get(user, "name"), Value::string("Jane"));
  EXPECT_EQ(serialize(user), input);

  for_each_string(user, [](std::string& bytes, const Path& path) {
    EXPECT_EQ(path.enclosing_class(), "User");
    if (path.contains_name("email")) bytes.clear();
  });
  EXPECT_EQ(serialize(user),
            "O:4:\"User\":3:{s:11:\"\0User\0email\";s:0:\"\";"
            "s:7:\"\0*\0name\";s:4:\"Jane\";s:2:\"id\";i:7;}"s);
}

TEST(PhpSerialize, PropertyNameStripsOnlyVisibilityPrefixes) {
  EXPECT_EQ(property_name("email"), "email");
  EXPECT_EQ(property_name("\0*\0email"s), "email");
  EXPECT_EQ(property_name("\0Mautic\\Lead\0email"s), "email");
  EXPECT_EQ(property_name("\0broken"s), "\0broken"s);
  EXPECT_EQ(property_name(""), "");
}

// --- scrubbing -------------------------------------------------------------------------------

TEST(PhpSerialize, AuditLogDetailsScrubbedByTheVisitorStayParseable) {
  Value details = parse_ok(kAuditLogDetails);

  std::vector<std::string> visited;
  for_each_string(details, [&](std::string& bytes, const Path& path) {
    visited.push_back(path.to_string());
    if (path.enclosing_class()) return;  // a blank DateTime would break unserialize()
    bytes = path.nearest_name() == "email" ? "" : "anon";
  });
  EXPECT_EQ(visited,
            (std::vector<std::string>{"fields.email.1", "fields.firstname.0", "fields.firstname.1",
                                      "dateAdded.1.date", "dateAdded.1.timezone"}));

  const std::string scrubbed = serialize(details);
  EXPECT_EQ(scrubbed, R"(a:2:{s:6:"fields";a:2:{s:5:"email";a:2:{i:0;N;i:1;s:0:"";})"
                      R"(s:9:"firstname";a:2:{i:0;s:4:"anon";i:1;s:4:"anon";}})"
                      R"(s:9:"dateAdded";a:2:{i:0;N;i:1;)" +
                          kDateTime + "}}");
  EXPECT_EQ(scrubbed.find("jane"), std::string::npos);
  EXPECT_EQ(scrubbed.find("Jane"), std::string::npos);

  Value reparsed = parse_ok(scrubbed);
  EXPECT_EQ(reparsed, details);
  EXPECT_EQ(serialize(get(get(reparsed, "dateAdded"), 1)), kDateTime);
}

TEST(PhpSerialize, RewriteStringsIsTheWholeScrub) {
  auto scrubbed = rewrite_strings(kAuditLogDetails, [](std::string& bytes, const Path& path) {
    if (path.contains_name("email")) bytes = "x";
  });
  ASSERT_TRUE(scrubbed.ok()) << scrubbed.error().message;
  EXPECT_NE(scrubbed->find(R"(a:2:{i:0;N;i:1;s:1:"x";})"), std::string::npos);
  EXPECT_EQ(scrubbed->find("jane@example.org"), std::string::npos);

  auto broken = rewrite_strings("s:99:\"jane@example.org\";", [](std::string&, const Path&) {});
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().message.find("jane"), std::string::npos);
}

TEST(PhpSerialize, VisitorCanReplaceWholeSubtrees) {
  Value details = parse_ok(kAuditLogDetails);
  int strings_seen = 0;
  for_each_value(details, [&](Value& value, const Path& path) {
    if (value.is_string()) ++strings_seen;
    const Key* key = path.last_key();
    if (key != nullptr && key->is_string() && key->name() == "firstname") value = Value::null();
    if (value.is_object()) value = Value::string("");
  });
  // Only the address: the firstname pair and the DateTime were replaced before the walk
  // reached their strings.
  EXPECT_EQ(strings_seen, 1);
  EXPECT_EQ(serialize(details),
            R"(a:2:{s:6:"fields";a:2:{s:5:"email";a:2:{i:0;N;i:1;s:16:"jane@example.org";})"
            R"(s:9:"firstname";N;}s:9:"dateAdded";a:2:{i:0;N;i:1;s:0:"";}})");
  EXPECT_TRUE(parse(serialize(details)).ok());
}

TEST(PhpSerialize, VisitorSeesKeysButNeverVisitsThemOrClassNames) {
  Value value = parse_ok(
      R"(a:2:{s:5:"email";O:5:"Email":1:{s:7:"address";s:1:"a";}i:3;C:3:"Foo":6:{secret}})");
  std::vector<std::string> seen;
  for_each_string(value, [&](std::string& bytes, const Path&) { seen.push_back(bytes); });
  EXPECT_EQ(seen, std::vector<std::string>{"a"});
}

TEST(PhpSerialize, PathHelpers) {
  Value value =
      parse_ok("a:1:{s:5:\"query\";a:1:{i:0;O:3:\"Foo\":1:{s:7:\"\0*\0mail\";s:1:\"m\";}}}"s);
  int visits = 0;
  for_each_string(value, [&](std::string&, const Path& path) {
    ++visits;
    EXPECT_EQ(path.depth(), 3u);
    EXPECT_TRUE(path.contains_name("query"));
    EXPECT_TRUE(path.contains_name("mail"));
    EXPECT_FALSE(path.contains_name("Mail"));
    EXPECT_EQ(path.nearest_name(), "mail");
    EXPECT_EQ(path.enclosing_class(), "Foo");
    EXPECT_EQ(path.to_string(), "query.0.mail");
    ASSERT_EQ(path.steps().size(), 3u);
    EXPECT_EQ(*path.steps()[1].key, Key(0));
  });
  EXPECT_EQ(visits, 1);

  Value root_string = Value::string("x");
  for_each_string(root_string, [](std::string&, const Path& path) {
    EXPECT_TRUE(path.empty());
    EXPECT_FALSE(path.nearest_name().has_value());
    EXPECT_FALSE(path.enclosing_class().has_value());
    EXPECT_EQ(path.last_key(), nullptr);
  });
}

TEST(PhpSerialize, BuildingValuesByHand) {
  Value lead = Value::array({{"email", Value::string("a@b.c")}, {0, Value::integer(5)}});
  lead.append("tags", Value::array()).append(0, Value::boolean(true));
  lead.append("score", Value::floating(2.5));
  lead.append("when", Value::object("DateTime", {{"date", Value::string("2024")}}));
  lead.append("suit", Value::enum_case("Suit:Hearts"));
  lead.append("blob", Value::custom_object("Foo", "abc"));
  lead.append("self", Value::object_reference(7));
  EXPECT_EQ(serialize(lead),
            R"(a:8:{s:5:"email";s:5:"a@b.c";i:0;i:5;s:4:"tags";a:1:{i:0;b:1;})"
            R"(s:5:"score";d:2.5;s:4:"when";O:8:"DateTime":1:{s:4:"date";s:4:"2024";})"
            R"(s:4:"suit";E:11:"Suit:Hearts";s:4:"blob";C:3:"Foo":3:{abc}s:4:"self";r:7;})");
  EXPECT_EQ(parse_ok(serialize(lead)), lead);
}

TEST(PhpSerialize, ContainsReferences) {
  EXPECT_FALSE(contains_references(parse_ok(kAuditLogDetails)));
  EXPECT_TRUE(contains_references(parse_ok(R"(a:2:{i:0;O:8:"stdClass":0:{}i:1;r:2;})")));
  EXPECT_TRUE(contains_references(parse_ok("a:1:{i:0;a:1:{i:0;R:1;}}")));
  EXPECT_TRUE(contains_references(parse_ok("R:1;")));
}

TEST(PhpSerialize, CustomPayloadCanBeParsedAndScrubbed) {
  Value outer = parse_as(R"(C:3:"Foo":28:{a:1:{i:0;s:10:"jane@x.org";}})", Type::kCustomObject);
  auto inner =
      rewrite_strings(outer.payload(), [](std::string& bytes, const Path&) { bytes = "-"; });
  ASSERT_TRUE(inner.ok());
  outer.payload() = *inner;
  EXPECT_EQ(serialize(outer), R"(C:3:"Foo":18:{a:1:{i:0;s:1:"-";}})");
}

// --- malformed input -------------------------------------------------------------------------

// No word of four or more bytes from the input (names, addresses, keys) may reach the message.
// Words cut off by the end of the input are skipped: "emai" is also part of "remaining".
void expect_no_input_text(std::string_view input, const std::string& message) {
  auto is_word_byte = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '@' || c == '.' || c == '_' ||
           static_cast<unsigned char>(c) >= 0x80;
  };
  std::size_t start = 0;
  while (start < input.size()) {
    std::size_t end = start;
    while (end < input.size() && is_word_byte(input[end])) ++end;
    std::string_view word = input.substr(start, end - start);
    if (word.size() >= 4 && end < input.size()) {
      EXPECT_EQ(message.find(word), std::string::npos) << "leaked: " << word;
    }
    start = end + 1;
  }
}

TEST(PhpSerialize, MalformedInputIsRejectedWithOffsetAndExpectation) {
  struct Case {
    std::string input;
    std::size_t offset;
    std::string expectation;
  };
  const std::string email = R"(s:16:"jane@example.org";)";
  const std::vector<Case> cases = {
      {"", 0, "expected a value, found the end of the input"},
      {"N", 1, "expected ';' after N"},
      {"x:1;", 0, "expected a type letter"},
      {R"(S:5:"hello";)", 0, "expected a type letter"},
      // truncated
      {R"(s:16:"jane@example.org")", 23, "expected ';' after string"},
      {R"(s:16:"jane@exa)", 6, "string length 16 exceeds the remaining 8 bytes"},
      {"a:2:{i:0;" + email, 33, "expected an array key (i: or s:)"},
      {"a:1:{s:5:\"email\";" + email, 41, "expected '}' to close the array (declared 1 elements)"},
      {"a:1:{i:0;" + email.substr(0, 10), 15, "string length 16 exceeds the remaining 4 bytes"},
      // wrong length
      {R"(s:15:"jane@example.org";)", 21, "expected '\"' after 15 string bytes"},
      {R"(s:17:"jane@example.org";)", 23, "expected '\"' after 17 string bytes"},
      {R"(s:99:"jane@example.org";)", 6, "string length 99 exceeds the remaining 18 bytes"},
      {"s:6:\"M\xc3\xbcller\";", 11, "expected '\"' after 6 string bytes"},
      {R"(s:x:"jane";)", 2, "expected digits for string length"},
      {R"(s:4"jane";)", 3, "expected ':' after string length"},
      // element counts
      {"a:1:{i:0;N;i:1;N;}", 11, "expected '}' to close the array"},
      {R"(a:2:{i:0;s:5:"hello";})", 21, "fewer elements than the declared count"},
      {"a:999999999:{}", 2, "array element count exceeds what the input holds"},
      {"a:99999999999999999999:{}", 2, "array element count out of range"},
      {R"(a:1:{N;s:5:"hello";})", 5, "expected an array key (i: or s:)"},
      {"a:1:{a:0:{}N;}", 5, "expected an array key (i: or s:)"},
      {"a:1:{i:0;N;", 11, "expected '}' to close the array"},
      // missing ';'
      {R"(s:5:"hello")", 11, "expected ';' after string"},
      {"i:5}", 3, "expected ';' after integer"},
      {"b:1", 3, "expected ';' after boolean"},
      {"d:1.5", 5, "expected ';' after float"},
      {"a:1:{s:5:\"email\"N;}", 16, "expected ';' after string key"},
      // bad scalars
      {"i:;", 2, "expected digits for an integer"},
      {"i:12a;", 4, "expected ';' after integer"},
      {"i:1.5;", 3, "expected ';' after integer"},
      {"i:9223372036854775808;", 2, "integer out of the 64-bit range"},
      {"i:-9223372036854775809;", 2, "integer out of the 64-bit range"},
      {"i:99999999999999999999999;", 2, "integer out of the 64-bit range"},
      {"b:2;", 2, "expected 0 or 1 for a boolean"},
      {"d:abc;", 2, "expected a float"},
      {"d:inf;", 2, "expected a float"},
      // objects, enums, references
      {R"(O:3:"a-b":0:{})", 2, "invalid class name"},
      {R"(O:0:"":0:{})", 2, "invalid class name"},
      {R"(O:5:"\Lead":0:{})", 2, "invalid class name"},
      {R"(O:8:"stdClass":1:{s:4:"name";s:4:"Jane";)", 40, "expected '}' to close the object"},
      {R"(O:8:"stdClass"0:{})", 14, "expected ':' after class name"},
      {R"(C:3:"Foo":2:{abc})", 15, "expected '}' after the custom object payload"},
      {R"(C:3:"Foo":9:{abc})", 13, "payload length 9 exceeds the remaining 4 bytes"},
      {R"(E:4:"Suit";)", 2, "expected an enum name of the form Class:Case"},
      {"r:0;", 2, "object reference 0 does not exist"},
      {"R:x;", 2, "expected digits for reference"},
      // trailing bytes
      {"N;N;", 2, "unexpected bytes after the end of the value"},
      {email + "jane", 24, "unexpected bytes after the end of the value"},
      {"a:1:{s:5:\"email\";" + email + "}}", 42, "unexpected bytes after the end of the value"},
  };
  for (const Case& test_case : cases) {
    SCOPED_TRACE(test_case.input);
    auto value = parse(test_case.input);
    ASSERT_FALSE(value.ok()) << serialize(*value);
    const std::string& message = value.error().message;
    EXPECT_EQ(
        message.rfind(
            "serialized value is malformed at byte " + std::to_string(test_case.offset) + ": ", 0),
        0u)
        << message;
    EXPECT_NE(message.find(test_case.expectation), std::string::npos) << message;
    expect_no_input_text(test_case.input, message);
    EXPECT_EQ(message.find("jane"), std::string::npos);
  }
}

std::string nested_arrays(int depth) {
  std::string out;
  for (int i = 1; i < depth; ++i) out += "a:1:{i:0;";
  out += "a:0:{}";
  out.append(static_cast<std::size_t>(depth - 1), '}');
  return out;
}

TEST(PhpSerialize, DepthIsLimited) {
  const std::string deepest_allowed = nested_arrays(kMaxDepth);
  auto accepted = parse(deepest_allowed);
  ASSERT_TRUE(accepted.ok()) << accepted.error().message;
  EXPECT_EQ(serialize(*accepted), deepest_allowed);

  auto rejected = parse(nested_arrays(kMaxDepth + 1));
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().message, "serialized value is malformed at byte " +
                                          std::to_string(kMaxDepth * 9 + 2) +
                                          ": nesting deeper than 512 levels");

  // A depth bomb: 100000 unclosed levels of arrays and objects must fail fast, not overflow.
  std::string bomb;
  for (int i = 0; i < 100'000; ++i) bomb += i % 2 ? "a:1:{i:0;" : "O:1:\"X\":1:{s:1:\"p\";";
  auto exploded = parse(bomb);
  ASSERT_FALSE(exploded.ok());
  EXPECT_NE(exploded.error().message.find("nesting deeper than 512 levels"), std::string::npos);
}

TEST(PhpSerialize, EveryProperPrefixIsRejected) {
  for (std::size_t length = 0; length < kAuditLogDetails.size(); ++length) {
    auto prefix = std::string_view(kAuditLogDetails).substr(0, length);
    auto value = parse(prefix);
    EXPECT_FALSE(value.ok()) << "prefix of " << length << " bytes parsed";
    if (!value.ok()) expect_no_input_text(prefix, value.error().message);
  }
}

// Random byte edits of valid values: never a crash (run under ASan/UBSan), never a leak of input
// text, and whatever still parses must round-trip stably.
TEST(PhpSerialize, RandomCorruptionIsHandled) {
  const std::vector<std::string> seeds = {kAuditLogDetails,
                                          "O:4:\"User\":2:{s:11:\"\0User\0email\";s:1:\"a\";"
                                          "s:1:\"n\";C:3:\"Foo\":3:{}}}}"s,
                                          R"(a:3:{i:0;d:1.0E+25;i:1;E:6:"S:Case";i:2;R:2;})"};
  const std::string alphabet = "aisdNbOCErR:;{}\"0123456789-+.E\0"s;
  std::mt19937 rng(20240501);
  int parsed = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string input = seeds[rng() % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int edit = 0; edit < edits && !input.empty(); ++edit) {
      std::size_t at = rng() % input.size();
      switch (rng() % 3) {
        case 0:
          input[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          input.erase(at, 1 + rng() % 4);
          break;
        default:
          input.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
      }
    }
    auto value = parse(input);
    if (!value.ok()) {
      EXPECT_EQ(value.error().message.find("jane"), std::string::npos);
      continue;
    }
    ++parsed;
    const std::string written = serialize(*value);
    auto again = parse(written);
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(serialize(*again), written);
  }
  EXPECT_GT(parsed, 0);  // the corpus exercises both outcomes
}

}  // namespace
}  // namespace mgdpr::php
