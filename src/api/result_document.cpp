// sam3.cpp — the result document (sam3.h: result_to_json): the shared schema of io/result_json.h plus what a front
// end adds (model and image paths, session id, cache flags, its own timings), in one place for the CLI and server.
#include <string>
#include <utility>

#include "core/error.h"
#include "api/internal.h"
#include "io/result_json.h"
#include "sam3/sam3.h"

namespace sam3 {

ResultJsonParams result_json_default_params() { return ResultJsonParams{}; }

std::string result_to_json(const SegmentResult& result, const ResultJsonParams& params) {
  if (!params.cached.empty() && params.cached.size() != result.prompts.size())
    throw Error("result_to_json: " + std::to_string(params.cached.size()) + " 'cached' flags for " +
                std::to_string(result.prompts.size()) + " prompts");
  Json base = segment_result_to_json(result);
  Json doc;
  doc["schema"] = std::move(base["schema"]);
  if (!params.session_id.empty()) doc["session_id"] = params.session_id;
  if (!params.model_path.empty()) doc["model"] = Json{{"path", params.model_path}, {"config", params.model_config}};
  Json image;
  if (!params.image_path.empty()) image["path"] = params.image_path;
  image["width"] = result.image_width;
  image["height"] = result.image_height;
  if (!params.embedding_path.empty()) image["embedding"] = params.embedding_path;
  doc["image"] = std::move(image);
  for (const PromptResult& p : result.prompts) {  // the model's precision, kept with every prompt's raw outputs
    if (p.outputs && !p.outputs->precision.empty()) {
      doc["compute"] = Json{{"precision", p.outputs->precision}, {"isa", p.outputs->isa}};
      break;
    }
  }
  if (params.threshold && !result.prompts.empty()) doc["threshold"] = json_float(result.prompts.front().threshold);
  Json& prompts = doc["prompts"] = std::move(base["prompts"]);
  for (size_t i = 0; i < prompts.size(); ++i) {
    if (!params.semantic) prompts[i].erase("semantic");
    if (!params.cached.empty()) prompts[i]["cached"] = static_cast<bool>(params.cached[i]);
  }
  if (params.timings_ms.empty()) {
    doc["timings_ms"] = std::move(base["timings_ms"]);
  } else {
    Json t = Json::object();
    for (const auto& [key, ms] : params.timings_ms) t[key] = ms;
    doc["timings_ms"] = std::move(t);
  }
  if (params.processing_time) doc["processing_time_ms"] = doc["timings_ms"].value("total", 0.0);
  try {
    return doc.dump(params.indent);
  } catch (const nlohmann::json::exception& e) {  // a text that is not valid UTF-8
    throw Error(std::string("result_to_json: ") + e.what());
  }
}

}  // namespace sam3
