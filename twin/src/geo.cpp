#include "cadereau/twin/geo.h"

#include "cadereau/twin/error.h"

#include <proj.h>

#include <cmath>
#include <cstring>

namespace cadereau::twin {

namespace {

// PROJ objects are not thread-safe with a shared context; each owner gets its own.
struct ContextDeleter {
  void operator()(PJ_CONTEXT* c) const { proj_context_destroy(c); }
};
struct PjDeleter {
  void operator()(PJ* p) const { proj_destroy(p); }
};
using ContextPtr = std::unique_ptr<PJ_CONTEXT, ContextDeleter>;
using PjPtr = std::unique_ptr<PJ, PjDeleter>;

ContextPtr make_context() {
  ContextPtr ctx(proj_context_create());
  // Never reach for a network grid: control-room machines are air-gapped.
  proj_context_set_enable_network(ctx.get(), 0);
  proj_log_level(ctx.get(), PJ_LOG_NONE);  // errors surface as exceptions instead
  return ctx;
}

std::string last_error(PJ_CONTEXT* ctx) {
  const int code = proj_context_errno(ctx);
  const char* text = proj_context_errno_string(ctx, code);
  return text ? text : "unknown PROJ error";
}

PjPtr create_crs(PJ_CONTEXT* ctx, const std::string& text) {
  PjPtr pj(proj_create(ctx, text.c_str()));
  if (!pj) fail("CRS '" + text.substr(0, 80) + "'", "PROJ does not recognise it ({})", last_error(ctx));
  const bool is_crs = proj_is_crs(pj.get()) != 0;
  if (!is_crs) fail("CRS '" + text.substr(0, 80) + "'", "not a coordinate reference system");
  return pj;
}

}  // namespace

Crs Crs::from_user_input(const std::string& text) {
  if (text.empty()) fail("CRS", "empty definition");
  ContextPtr ctx = make_context();
  PjPtr pj = create_crs(ctx.get(), text);
  Crs crs;
  const char* wkt = proj_as_wkt(ctx.get(), pj.get(), PJ_WKT2_2019, nullptr);
  if (!wkt) fail("CRS '" + text.substr(0, 80) + "'", "cannot be written as WKT");
  crs.wkt_ = wkt;
  const char* name = proj_get_name(pj.get());
  crs.name_ = name ? name : "";
  const PJ_TYPE type = proj_get_type(pj.get());
  crs.geographic_ = type == PJ_TYPE_GEOGRAPHIC_2D_CRS || type == PJ_TYPE_GEOGRAPHIC_3D_CRS;
  const char* auth = proj_get_id_auth_name(pj.get(), 0);
  const char* code = proj_get_id_code(pj.get(), 0);
  if (auth && code && std::strcmp(auth, "EPSG") == 0) {
    crs.epsg_ = std::atoi(code);
  } else if (!auth) {
    // A WKT without an ID (GDAL often writes Lambert-93 so): ask PROJ to identify it.
    int* confidence = nullptr;
    PJ_OBJ_LIST* matches = proj_identify(ctx.get(), pj.get(), "EPSG", nullptr, &confidence);
    if (matches) {
      if (proj_list_get_count(matches) > 0 && confidence && confidence[0] >= 90) {
        PjPtr best(proj_list_get(ctx.get(), matches, 0));
        const char* best_code = proj_get_id_code(best.get(), 0);
        if (best_code) crs.epsg_ = std::atoi(best_code);
      }
      proj_int_list_destroy(confidence);
      proj_list_destroy(matches);
    }
  }
  return crs;
}

Crs Crs::from_epsg(int code) { return from_user_input("EPSG:" + std::to_string(code)); }

bool Crs::equivalent_to(const Crs& other) const {
  if (empty() || other.empty()) return empty() == other.empty();
  if (epsg_ && other.epsg_) return *epsg_ == *other.epsg_;
  ContextPtr ctx = make_context();
  PjPtr a(proj_create(ctx.get(), wkt_.c_str()));
  PjPtr b(proj_create(ctx.get(), other.wkt_.c_str()));
  if (!a || !b) return false;
  return proj_is_equivalent_to(a.get(), b.get(), PJ_COMP_EQUIVALENT_EXCEPT_AXIS_ORDER_GEOGCRS) != 0;
}

std::string Crs::label() const {
  if (epsg_) return "EPSG:" + std::to_string(*epsg_);
  if (!name_.empty()) return name_;
  return empty() ? "(no CRS)" : "(unnamed CRS)";
}

struct CrsTransform::Impl {
  ContextPtr ctx;
  PjPtr op;
};

CrsTransform::CrsTransform(const Crs& source, const Crs& target)
    : impl_(std::make_unique<Impl>()), source_(source), target_(target) {
  if (source.empty() || target.empty()) fail("CRS transform", "source or target CRS is missing");
  impl_->ctx = make_context();
  PJ* raw = proj_create_crs_to_crs(impl_->ctx.get(), source.wkt().c_str(), target.wkt().c_str(), nullptr);
  if (!raw)
    fail("CRS transform " + source.label() + " -> " + target.label(), "no operation found ({})",
         last_error(impl_->ctx.get()));
  PjPtr op(raw);
  PJ* normalised = proj_normalize_for_visualization(impl_->ctx.get(), op.get());
  if (!normalised)
    fail("CRS transform " + source.label() + " -> " + target.label(), "cannot normalise axis order ({})",
         last_error(impl_->ctx.get()));
  impl_->op.reset(normalised);
}

CrsTransform::~CrsTransform() = default;
CrsTransform::CrsTransform(CrsTransform&&) noexcept = default;
CrsTransform& CrsTransform::operator=(CrsTransform&&) noexcept = default;

namespace {
CrsTransform::XY run(PJ* op, PJ_DIRECTION direction, CrsTransform::XY p, const CrsTransform& t) {
  PJ_COORD c = proj_coord(p.x, p.y, 0.0, HUGE_VAL);
  PJ_COORD r = proj_trans(op, direction, c);
  if (!std::isfinite(r.xy.x) || !std::isfinite(r.xy.y) || r.xy.x == HUGE_VAL)
    fail("CRS transform " + t.source().label() + " -> " + t.target().label(),
         "point ({:.3f}, {:.3f}) cannot be transformed", p.x, p.y);
  return {r.xy.x, r.xy.y};
}
}  // namespace

CrsTransform::XY CrsTransform::forward(XY p) const { return run(impl_->op.get(), PJ_FWD, p, *this); }
CrsTransform::XY CrsTransform::inverse(XY p) const { return run(impl_->op.get(), PJ_INV, p, *this); }

void CrsTransform::forward_in_place(std::vector<XY>& points) const {
  for (auto& p : points) p = forward(p);
}

MapFrame::MapFrame(Crs working) : working_(working), to_geo_(working, Crs::wgs84()) {}

MapPoint MapFrame::to_map(GeoPoint p) const {
  const auto r = to_geo_.inverse({p.lon_deg, p.lat_deg});
  return {r.x, r.y};
}

GeoPoint MapFrame::to_geo(MapPoint p) const {
  const auto r = to_geo_.forward({p.x_m, p.y_m});
  return {r.x, r.y};
}

}  // namespace cadereau::twin
