// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/connections.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace mgdpr::server {
namespace {

TEST(ClientSlots, CapsEachClientAlone) {
  ClientSlots slots(2);
  EXPECT_TRUE(slots.acquire("192.0.2.1"));
  EXPECT_TRUE(slots.acquire("192.0.2.1"));
  EXPECT_FALSE(slots.acquire("192.0.2.1"));
  EXPECT_TRUE(slots.acquire("192.0.2.2"));  // another client is not affected
  EXPECT_EQ(slots.held("192.0.2.1"), 2);
  slots.release("192.0.2.1");
  EXPECT_TRUE(slots.acquire("192.0.2.1"));
  slots.release("192.0.2.9");  // never held: nothing happens
  EXPECT_EQ(slots.held("192.0.2.9"), 0);
}

TEST(ClientSlots, AWaitingConnectionGetsTheSlotItsClientFrees) {
  ClientSlots slots(1);
  ASSERT_TRUE(slots.acquire("192.0.2.1"));
  EXPECT_FALSE(slots.acquire("192.0.2.1", std::chrono::milliseconds(20)));  // nobody frees it
  std::thread waiter(
      [&slots] { EXPECT_TRUE(slots.acquire("192.0.2.1", std::chrono::seconds(30))); });
  while (!slots.has_waiter("192.0.2.1")) std::this_thread::yield();
  // While one connection waits, another of the same client is refused at once.
  const auto refused_at = std::chrono::steady_clock::now();
  EXPECT_FALSE(slots.acquire("192.0.2.1", std::chrono::seconds(30)));
  EXPECT_LT(std::chrono::steady_clock::now() - refused_at, std::chrono::seconds(10));
  slots.release("192.0.2.1");
  waiter.join();
  EXPECT_EQ(slots.held("192.0.2.1"), 1);
  EXPECT_FALSE(slots.has_waiter("192.0.2.1"));
}

TEST(ClientSlots, CountsStayExactUnderConcurrency) {
  ClientSlots slots(1000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&slots] {
      for (int i = 0; i < 10'000; ++i) {
        if (slots.acquire("client")) slots.release("client");
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(slots.held("client"), 0);
}

TEST(Tls, UnreadableFilesAreAnError) {
  auto context = load_tls_context("/nonexistent/cert.pem", "/nonexistent/key.pem");
  ASSERT_FALSE(context.ok());
  EXPECT_NE(context.error().message.find("cannot be loaded"), std::string::npos);
}

}  // namespace
}  // namespace mgdpr::server
