// A session's guided procedures: proposed once when a trigger fires, to the
// right cell; steps ticked by that cell with a comment; kept across a restart.

#include "service/procedure_book.h"

#include "test_support.h"

#include "cadereau/twin/error.h"

#include <catch2/catch.hpp>

using namespace cadereau::server::service;
using cadereau::Error;
using cadereau::ErrorCategory;
using cadereau::testing::TempDir;

namespace {

std::vector<cadereau::scenarios::Procedure> library() {
  using cadereau::scenarios::parse_procedure;
  return {parse_procedure("id: close\ntitle: Close\ncell: police\ntrigger:\n  - gauge: lg-town\n    above_m: 1.0\n"
                          "steps:\n  - check: Look.\n  - act: Close.\n",
                          "close.yaml"),
          parse_procedure("id: follow\ntitle: Follow\ncell: crisis\ntrigger: [{alert: Flash flood}, {inject_type: hazard}]\n"
                          "steps: [act: Open shelters., inform: Tell the mayor.]\n",
                          "follow.yaml"),
          parse_procedure("id: elsewhere\ntitle: Elsewhere\ncell: flood\ntrigger: {gauge: lg-other, above_m: 1}\n"
                          "steps: [inform: Nothing.]\n",
                          "elsewhere.yaml")};
}

int ErrorCategoryOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return static_cast<int>(e.category());
  }
  return -1;
}

}  // namespace

TEST_CASE("A procedure is proposed once, when its trigger fires, to its cell", "[unit][procedures]") {
  TempDir dir;
  ProcedureBook book(dir.path(), library(), {"lg-town"});
  CHECK(book.view(book.find("elsewhere"))["state"] == "unavailable");
  CHECK(book.view(book.find("elsewhere"))["unavailable"].get<std::string>().find("lg-other") != std::string::npos);
  CHECK(book.on_gauges({{"lg-town", 0.8}}, 100.0).empty());
  CHECK(book.on_gauges({{"lg-town", 1.2}}, 110.0) == std::vector<std::size_t>{0});
  CHECK(book.on_gauges({{"lg-town", 1.5}}, 120.0).empty());  // once
  CHECK(book.view(0)["proposed_s"] == 110.0);
  CHECK(book.view(0)["reason"].get<std::string>().find("lg-town") != std::string::npos);
  CHECK(book.on_alert("Storm", 130.0).empty());
  CHECK(book.on_inject("hazard", "12", 140.0) == std::vector<std::size_t>{1});
  CHECK(book.view(1)["reason"] == "inject 12 (hazard) delivered");

  const Principal bob{"bob", Role::player, Cell::police};
  const Principal cora{"cora", Role::player, Cell::crisis};
  const Principal anne{"anne", Role::director, std::nullopt};
  CHECK(book.visible_to(0, bob));
  CHECK_FALSE(book.visible_to(1, bob));
  CHECK(book.visible_to(1, anne));
  auto view = book.tick(0, 2, true, "Closed both ways", bob, 150.0);
  CHECK(view["steps"][1]["done"] == true);
  CHECK(view["steps"][1]["by"] == "player:bob");
  CHECK(view["state"] == "proposed");
  CHECK(ErrorCategoryOf([&] { book.tick(0, 2, true, "again", bob, 160.0); }) == static_cast<int>(ErrorCategory::conflict));
  CHECK(ErrorCategoryOf([&] { book.tick(0, 3, true, "", bob, 160.0); }) == static_cast<int>(ErrorCategory::not_found));
  CHECK(ErrorCategoryOf([&] { book.tick(0, 1, true, "", cora, 160.0); }) == static_cast<int>(ErrorCategory::forbidden));
  CHECK(ErrorCategoryOf([&] { book.tick(0, 1, true, "", anne, 160.0); }) == static_cast<int>(ErrorCategory::forbidden));
  CHECK(ErrorCategoryOf([&] { book.tick(2, 1, true, "", Principal{"fay", Role::player, Cell::flood}, 160.0); }) ==
        static_cast<int>(ErrorCategory::conflict));  // never proposed
  book.tick(0, 1, true, "Patrol 12 there", bob, 170.0);
  CHECK(book.view(0)["state"] == "done");

  // A server started again finds them as they were.
  ProcedureBook again(dir.path(), library(), {"lg-town"});
  CHECK(again.view(0)["state"] == "done");
  CHECK(again.view(0)["steps"][0]["comment"] == "Patrol 12 there");
  CHECK(again.on_gauges({{"lg-town", 2.0}}, 200.0).empty());
}
