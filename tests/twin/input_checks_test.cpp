// The checks the twin makes on what users give it before anything runs:
// text that must be UTF-8.

#include "cadereau/twin/utf8.h"

#include <catch2/catch.hpp>

using namespace cadereau::twin;

TEST_CASE("UTF-8 is told from Latin-1 and from malformed sequences", "[unit][utf8]") {
  CHECK_FALSE(first_invalid_utf8("plain ASCII"));
  CHECK_FALSE(first_invalid_utf8("N\xC3\xAEmes, cadereau d'Al\xC3\xA8s, \xE2\x82\xAC, \xF0\x9F\x8C\x8A"));
  CHECK(first_invalid_utf8("N\xEEmes") == 1u);            // Latin-1 î
  CHECK(first_invalid_utf8("ok \x92s") == 3u);            // Windows-1252 quote
  CHECK(first_invalid_utf8("\xC0\xAF") == 0u);            // overlong '/'
  CHECK(first_invalid_utf8("x\xE0\x80\xAF") == 1u);       // overlong, three bytes
  CHECK(first_invalid_utf8("\xED\xA0\x80") == 0u);        // UTF-16 surrogate
  CHECK(first_invalid_utf8("\xF4\x90\x80\x80") == 0u);    // past U+10FFFF
  CHECK(first_invalid_utf8("\xF5\x80\x80\x80") == 0u);
  CHECK(first_invalid_utf8("end \xC3") == 4u);            // cut short
  CHECK(first_invalid_utf8("\xE2\x82") == 0u);
  CHECK(first_invalid_utf8("a\xBF") == 1u);               // a lone continuation byte

  CHECK_NOTHROW(require_utf8("name: N\xC3\xAEmes\n", "t.yaml"));
  CHECK_THROWS_WITH(require_utf8("a: 1\nname: N\xEEmes\n", "t.yaml"),
                    Catch::StartsWith("t.yaml:2: byte 0xEE at column 8 is not UTF-8"));
  CHECK_THROWS_WITH(require_utf8("\xE9t\xE9", "t.yaml"), Catch::StartsWith("t.yaml:1: byte 0xE9 at column 1 "));
}
