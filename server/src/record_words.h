#pragma once
// Records as a crisis manager reads them: kinds in words, targets by the
// names people know them by, and chains told from the hazard to the
// consequence in time order.

#include "cadereau/sim/impact/impact_log.h"
#include "cadereau/twin/territory.h"

#include <cstdint>
#include <string>
#include <vector>

namespace cadereau::server {

// "road closed" for road_closed, "out of service" for asset_failed...; the
// kind itself for a kind this version does not know.
std::string kind_in_words(const std::string& kind);

// An asset's or a zone's name, a road edge's street, a traffic light's
// junction; the target id otherwise.
std::string target_name(const twin::Territory& territory, const sim::impact::Impact& record);

// "water at rue Sully (0.50 m of water > 0.30 m)", "road closed: rue Sully
// (impassable)": a record in a sentence, for stories and tooltips.
std::string record_phrase(const twin::Territory& territory, const sim::impact::Impact& record);

// The record's causes back to the hazards, then the record itself, in time
// order (records of the same time in the order they were made).
std::vector<const sim::impact::Impact*> story_of(const sim::impact::ImpactLog& log, std::uint64_t id);

}  // namespace cadereau::server
