// The guided-procedure library and its file format.
#include "cadereau/scenarios/msel.h"
#include "cadereau/scenarios/procedures.h"
#include "cadereau/twin/error.h"

#include "test_support.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

using namespace cadereau::scenarios;

TEST_CASE("The procedure library reads, and gives each cell that acts something to follow", "[unit][procedures]") {
  const auto library = builtin_procedures();
  REQUIRE(library.size() >= 5);
  std::set<std::string> ids, cells, trigger_kinds;
  for (const auto& p : library) {
    INFO(p.where);
    CHECK(ids.insert(p.id).second);
    cells.insert(p.cell);
    CHECK(p.steps.size() >= 3);
    CHECK(std::any_of(p.steps.begin(), p.steps.end(), [](const ProcedureStep& s) { return s.kind == "act"; }));
    CHECK(std::any_of(p.steps.begin(), p.steps.end(), [](const ProcedureStep& s) { return s.kind == "inform"; }));
    for (const auto& t : p.triggers) trigger_kinds.insert(std::to_string(static_cast<int>(t.kind)));
  }
  CHECK(cells >= std::set<std::string>{"crisis", "police", "traffic", "reports"});
  CHECK(trigger_kinds.size() == 3);  // a gauge, an alert and an inject each propose one
}

TEST_CASE("Bad procedures are refused with their file and line", "[unit][procedures]") {
  const auto refusal = [](const std::string& yaml) {
    try {
      parse_procedure(yaml, "p.yaml");
    } catch (const cadereau::Error& e) {
      CHECK(e.category() == cadereau::ErrorCategory::bad_input);
      return std::string(e.what());
    }
    FAIL("accepted: " << yaml);
    return std::string();
  };
  const std::string good = "id: x\ntitle: X\ncell: police\ntrigger:\n  - gauge: g\n    above_m: 1\nsteps:\n  - act: Do it.\n";
  CHECK_NOTHROW(parse_procedure(good, "p.yaml"));
  CHECK_THAT(refusal("id: x\ntitle: X\ncell: firemen\ntrigger: {alert: any}\nsteps: [act: a]\n"),
             Catch::Contains("p.yaml:3") && Catch::Contains("firemen"));
  CHECK_THAT(refusal("id: x\ntitle: X\ncell: police\ntrigger: {gauge: g}\nsteps: [act: a]\n"), Catch::Contains("above_m"));
  CHECK_THAT(refusal("id: x\ntitle: X\ncell: police\ntrigger: {gauge: g, above_m: -1}\nsteps: [act: a]\n"),
             Catch::Contains("above 0"));
  CHECK_THAT(refusal("id: x\ntitle: X\ncell: police\ntrigger: {alert: any, inject_type: report}\nsteps: [act: a]\n"),
             Catch::Contains("one of"));
  CHECK_THAT(refusal("id: x\ntitle: X\ncell: police\ntrigger: {weather: storm}\nsteps: [act: a]\n"),
             Catch::Contains("unknown key 'weather'"));
  CHECK_THAT(refusal("id: x\ntitle: X\ncell: police\ntrigger: {alert: any}\nsteps: [pray: a]\n"), Catch::Contains("'pray'"));
  CHECK_THAT(refusal("id: x\ntitle: X\ncell: police\ntrigger: {alert: any}\nsteps: []\n"), Catch::Contains("needs steps"));
  CHECK_THAT(refusal("id: x y\ntitle: X\ncell: police\ntrigger: {alert: any}\nsteps: [act: a]\n"), Catch::Contains("letters"));
  CHECK_THAT(refusal("id: x\ntitle: X\ncell: police\nsteps: [act: a]\n"), Catch::Contains("trigger"));
  CHECK_THAT(refusal("id: [x\n"), Catch::Contains("not valid YAML"));

  // A folder of a site's procedures: two with one id are refused.
  cadereau::testing::TempDir dir;
  cadereau::testing::write_text(dir / "a.yaml", good);
  cadereau::testing::write_text(dir / "b.yaml", good);
  CHECK_THROWS_WITH(read_procedures(dir.path()), Catch::Contains("b.yaml") && Catch::Contains("used twice"));
}
