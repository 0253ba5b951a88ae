// sam3.cpp — pick request JSON -> PickRequest (see pick_request.h).
#include "pick_request.h"

#include <cmath>

#include "http_error.h"

namespace sam3::server {

namespace {

using Json = nlohmann::ordered_json;

[[noreturn]] void bad(const std::string& msg) { throw HttpError(400, msg); }

float number(const Json& v, const std::string& where) {
  if (!v.is_number()) bad(where + " must be a number");
  const double d = v.get<double>();
  if (!std::isfinite(d) || std::fabs(d) > 1e9) bad(where + " must be a finite number (|v| <= 1e9)");
  return static_cast<float>(d);
}

PickPoint parse_point(const Json& p, const std::string& where) {
  if (!p.is_object()) bad(where + " must be an object {\"x\": .., \"y\": .., \"label\": 1|0}");
  for (const auto& [k, v] : p.items())
    if (k != "x" && k != "y" && k != "label") bad(where + ": unknown field '" + k + "' (expected 'x', 'y', 'label')");
  if (!p.contains("x") || !p.contains("y")) bad(where + ": needs 'x' and 'y' (pixels)");
  PickPoint q;
  q.x = number(p["x"], where + ".x");
  q.y = number(p["y"], where + ".y");
  if (p.contains("label")) {
    const Json& l = p["label"];
    if (l.is_boolean())
      q.positive = l.get<bool>();
    else if (l.is_number_integer() && (l == 0 || l == 1))
      q.positive = l == 1;
    else if (l.is_string() && (l == "positive" || l == "negative"))
      q.positive = l == "positive";
    else
      bad(where + ".label must be 1 / 0, true / false or \"positive\" / \"negative\"");
  }
  return q;
}

}  // namespace

PickRequest parse_pick_request(const std::string& body) {
  Json j;
  try {
    j = Json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    bad(std::string("the request body is not valid JSON: ") + e.what());
  }
  if (!j.is_object()) bad("the request body must be a JSON object {\"points\": [...], \"box\": [...], ...}");
  PickRequest r;
  for (const auto& [k, v] : j.items())
    if (k != "points" && k != "box" && k != "mask_from" && k != "mask_index" && k != "multimask")
      bad("unknown field '" + k + "' (expected 'points', 'box', 'mask_from', 'mask_index', 'multimask')");
  if (j.contains("points")) {
    const Json& ps = j["points"];
    if (!ps.is_array()) bad("points must be an array");
    if (ps.size() > kMaxPickPoints) bad("more than " + std::to_string(kMaxPickPoints) + " points");
    for (size_t i = 0; i < ps.size(); ++i)
      r.prompt.points.push_back(parse_point(ps[i], "points[" + std::to_string(i) + "]"));
  }
  if (j.contains("box") && !j["box"].is_null()) {
    const Json& b = j["box"];
    if (!b.is_array() || b.size() != 4) bad("box must be an array [x0, y0, x1, y1] (pixels)");
    for (size_t i = 0; i < 4; ++i) r.prompt.box[i] = number(b[i], "box[" + std::to_string(i) + "]");
    try {
      PromptBox::check_user_xyxy(r.prompt.box[0], r.prompt.box[1], r.prompt.box[2], r.prompt.box[3]);
    } catch (const std::runtime_error& e) {
      bad(std::string("box: ") + e.what());
    }
    r.prompt.has_box = true;
  }
  if (j.contains("mask_from") && !j["mask_from"].is_null()) {
    if (!j["mask_from"].is_string() || j["mask_from"].get<std::string>().empty())
      bad("mask_from must be the pick_id of an earlier pick on this session");
    r.mask_from = j["mask_from"].get<std::string>();
  }
  if (j.contains("mask_index")) {
    if (!j["mask_index"].is_number_integer() || j["mask_index"].get<int64_t>() < 0 ||
        j["mask_index"].get<int64_t>() > 15)
      bad("mask_index must be a mask's index in that pick (0, 1, 2)");
    if (r.mask_from.empty()) bad("mask_index needs mask_from");
    r.mask_index = static_cast<int>(j["mask_index"].get<int64_t>());
  }
  if (j.contains("multimask") && !j["multimask"].is_null()) {
    if (!j["multimask"].is_boolean()) bad("multimask must be true or false");
    r.prompt.multimask = j["multimask"].get<bool>() ? 1 : 0;
  }
  if (r.prompt.points.empty() && !r.prompt.has_box && r.mask_from.empty())
    bad("the pick is empty: give points, a box and / or mask_from");
  return r;
}

}  // namespace sam3::server
