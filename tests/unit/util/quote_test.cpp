// SPDX-License-Identifier: Apache-2.0
#include "util/quote.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using xarch::util::quote;

TEST(Quote, WrapsInDoubleQuotes) {
    EXPECT_EQ(quote("abc"), "\"abc\"");
}

TEST(Quote, EscapesQuotesBackslashesAndUnprintableBytes) {
    EXPECT_EQ(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
    EXPECT_EQ(quote(std::string("a\0b", 3)), "\"a\\x00b\"");
    EXPECT_EQ(quote("\xc3\xa9\n"), "\"\\xc3\\xa9\\x0a\"");
}

TEST(Quote, ShortensLongInputAndGivesItsLength) {
    EXPECT_EQ(quote(std::string(80, 'x')), "\"" + std::string(80, 'x') + "\"");
    EXPECT_EQ(quote(std::string(81, 'x')), "\"" + std::string(80, 'x') + "...\" (81 bytes)");
}

}  // namespace
