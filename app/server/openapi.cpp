// sam3.cpp — OpenAPI 3.0 document of `sam3 serve` (kept next to the handlers in routes.cpp; the shared result
// schema is written by the library's sam3::result_to_json, src/io/result_json.h).
#include "openapi.h"

#include <nlohmann/json.hpp>

namespace sam3::server {

namespace {

constexpr const char* kDocument = R"json({
  "openapi": "3.0.3",
  "info": {
    "title": "sam3.cpp server",
    "version": "1",
    "description": "Promptable concept segmentation (SAM 3) over HTTP. Upload an image once (a session), then run any number of text / box prompts on it. One inference worker runs the model; requests beyond its bounded queue get 503. Errors are JSON {\"error\": message}. With --api-key, /health and /v1/* need 'Authorization: Bearer KEY' or 'X-API-Key: KEY'. See docs/server.md."
  },
  "components": {
    "securitySchemes": {
      "bearer": {"type": "http", "scheme": "bearer"},
      "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    },
    "parameters": {
      "SessionId": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}
    },
    "responses": {
      "BadRequest": {"description": "malformed JSON, fields, boxes or image", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Unauthorized": {"description": "missing or wrong API key", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "NotFound": {"description": "unknown, deleted or evicted session", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "TooLarge": {"description": "upload larger than --max-upload-mb or image larger than --max-pixels", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Busy": {"description": "the worker queue is full, or every session slot is taken by images still encoding (Retry-After: 1)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    },
    "schemas": {
      "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
      "Box": {
        "type": "object", "required": ["box"],
        "properties": {
          "box": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4, "description": "x0, y0, x1, y1 in pixels of the original image; x0 < x1, y0 < y1 (a box with no area is a 400); a box partly outside the image is clipped to it, one wholly outside is a 400"},
          "label": {"description": "true: positive exemplar (default); false: negative", "oneOf": [{"type": "boolean"}, {"type": "string", "enum": ["positive", "negative"]}]}
        }
      },
      "Prompt": {
        "type": "object", "description": "a text, exemplar boxes, or both (an empty prompt is a 400)",
        "properties": {
          "text": {"type": "string", "maxLength": 1024},
          "boxes": {"type": "array", "items": {"$ref": "#/components/schemas/Box"}, "maxItems": 64}
        }
      },
      "SegmentRequest": {
        "type": "object", "required": ["prompts"],
        "properties": {
          "prompts": {"type": "array", "items": {"$ref": "#/components/schemas/Prompt"}, "minItems": 1, "maxItems": 32},
          "threshold": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5, "description": "instances are the queries with score > threshold"},
          "semantic": {"type": "boolean", "default": false, "description": "add each prompt's semantic mask"}
        }
      },
      "Rle": {
        "type": "object", "description": "COCO run-length encoding (pycocotools' compressed string; column-major)",
        "properties": {"size": {"type": "array", "items": {"type": "integer"}, "description": "[height, width]"}, "counts": {"type": "string"}, "area": {"type": "integer"}}
      },
      "Instance": {
        "type": "object",
        "properties": {
          "query": {"type": "integer"}, "score": {"type": "number"},
          "box": {"type": "array", "items": {"type": "number"}, "description": "x0, y0, x1, y1 in pixels, not clipped"},
          "area": {"type": "integer"}, "mask": {"$ref": "#/components/schemas/Rle"}
        }
      },
      "PromptResult": {
        "type": "object",
        "properties": {
          "text": {"type": "string"}, "text_encoded": {"type": "string"},
          "boxes": {"type": "array", "items": {"type": "object"}},
          "threshold": {"type": "number"},
          "instances": {"type": "array", "items": {"$ref": "#/components/schemas/Instance"}},
          "semantic": {"$ref": "#/components/schemas/Rle"},
          "timings_ms": {"type": "object", "additionalProperties": {"type": "number"}, "description": "text, geometry, fusion_encoder, decoder, scoring, mask_head, postprocess, total"},
          "cached": {"type": "boolean", "description": "answered from the raw outputs kept for this prompt (model not run)"}
        }
      },
      "SegmentResult": {
        "type": "object", "description": "the result schema shared with `sam3 segment -o` (sam3::result_to_json, src/io/result_json.h)",
        "properties": {
          "schema": {"type": "string", "enum": ["sam3.segment/1"]},
          "session_id": {"type": "string"},
          "image": {"type": "object", "properties": {"width": {"type": "integer"}, "height": {"type": "integer"}}},
          "prompts": {"type": "array", "items": {"$ref": "#/components/schemas/PromptResult"}},
          "timings_ms": {"type": "object", "additionalProperties": {"type": "number"}, "description": "sessions: segment, queue_wait, rethreshold, total; one-shot: decode, queue_wait, encode, segment, total"},
          "processing_time_ms": {"type": "number"}
        }
      },
      "PickRequest": {
        "type": "object", "description": "one object from clicks, a box and / or an earlier pick's mask (docs/pick.md); at least one of them",
        "properties": {
          "points": {"type": "array", "maxItems": 64, "items": {"type": "object", "required": ["x", "y"], "properties": {
            "x": {"type": "number"}, "y": {"type": "number"},
            "label": {"description": "1 / true / \"positive\" (default) or 0 / false / \"negative\""}}}},
          "box": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4, "description": "x0, y0, x1, y1 pixels; partly outside the image is accepted"},
          "mask_from": {"type": "string", "description": "the pick_id of an earlier pick on this session (it keeps its last 16): refine from its best mask's low-res logits"},
          "mask_index": {"type": "integer", "minimum": 0, "description": "with mask_from: that pick's mask k instead of its best"},
          "multimask": {"type": "boolean", "description": "3 candidate masks; default: true for a single click, else false"}
        }
      },
      "PickResult": {
        "type": "object", "description": "the result schema (sam3::pick_result_to_json): one prompt whose instances are the masks in the model's order, score = predicted IoU",
        "properties": {
          "schema": {"type": "string", "enum": ["sam3.segment/1"]},
          "session_id": {"type": "string"},
          "pick_id": {"type": "string", "description": "send as mask_from to refine"},
          "image": {"type": "object", "properties": {"width": {"type": "integer"}, "height": {"type": "integer"}}},
          "prompts": {"type": "array", "items": {"type": "object", "properties": {
            "task": {"type": "string", "enum": ["pick"]}, "multimask": {"type": "boolean"},
            "object_score": {"type": "number"}, "object_score_logit": {"type": "number"}, "best": {"type": "integer"},
            "instances": {"type": "array", "items": {"type": "object", "properties": {
              "score": {"type": "number"}, "box": {"type": "array", "items": {"type": "number"}, "description": "tight box of the mask's pixels (x1, y1 exclusive)"},
              "area": {"type": "integer"}, "mask": {"$ref": "#/components/schemas/Rle"}}}},
            "timings_ms": {"type": "object", "additionalProperties": {"type": "number"}, "description": "neck (first pick on the image only), decoder, postprocess, total"}}}},
          "timings_ms": {"type": "object", "additionalProperties": {"type": "number"}, "description": "pick, queue_wait, total"},
          "processing_time_ms": {"type": "number"}
        }
      },
      "Session": {
        "type": "object",
        "properties": {
          "session_id": {"type": "string"}, "width": {"type": "integer"}, "height": {"type": "integer"},
          "status": {"type": "string", "enum": ["encoding", "ready", "failed"]},
          "queued": {"type": "boolean", "description": "the encode still waits for the worker"},
          "progress": {"type": "number", "minimum": 0, "maximum": 1},
          "error": {"type": "string"},
          "memory_bytes": {"type": "integer"}, "cached_prompts": {"type": "integer"},
          "timings_ms": {"type": "object", "additionalProperties": {"type": "number"}, "description": "when ready: queue_wait, encode, preprocess, patch_embed, window_blocks, global_blocks, neck"}
        }
      }
    }
  },
  "security": [{"bearer": []}, {"apiKeyHeader": []}],
  "paths": {
    "/health": {
      "get": {
        "summary": "model, config, weight dtypes, compute precision and ISA, threads, queue length, sessions and memory",
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}, "401": {"$ref": "#/components/responses/Unauthorized"}}
      }
    },
    "/v1/sessions": {
      "post": {
        "summary": "upload an image; it is encoded in the background",
        "requestBody": {"required": true, "content": {
          "multipart/form-data": {"schema": {"type": "object", "required": ["image"], "properties": {"image": {"type": "string", "format": "binary"}}}},
          "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
          "image/png": {"schema": {"type": "string", "format": "binary"}}}},
        "responses": {
          "201": {"description": "created; poll GET /v1/sessions/{id}", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Session"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
          "413": {"$ref": "#/components/responses/TooLarge"}, "503": {"$ref": "#/components/responses/Busy"}
        }
      }
    },
    "/v1/sessions/{id}": {
      "parameters": [{"$ref": "#/components/parameters/SessionId"}],
      "get": {
        "summary": "status: encoding (with progress), ready or failed",
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Session"}}}}, "401": {"$ref": "#/components/responses/Unauthorized"}, "404": {"$ref": "#/components/responses/NotFound"}}
      },
      "delete": {
        "summary": "forget the session",
        "responses": {"200": {"description": "deleted", "content": {"application/json": {"schema": {"type": "object"}}}}, "401": {"$ref": "#/components/responses/Unauthorized"}, "404": {"$ref": "#/components/responses/NotFound"}}
      }
    },
    "/v1/sessions/{id}/segment": {
      "parameters": [{"$ref": "#/components/parameters/SessionId"}],
      "post": {
        "summary": "run prompts on a ready session; a prompt seen before on it is re-thresholded from its kept raw outputs without running the model",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SegmentRequest"}}}},
        "responses": {
          "200": {"description": "results", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SegmentResult"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
          "404": {"$ref": "#/components/responses/NotFound"},
          "409": {"description": "the session is still encoding (status, progress) or its encoding failed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "503": {"$ref": "#/components/responses/Busy"}
        }
      }
    },
    "/v1/sessions/{id}/pick": {
      "parameters": [{"$ref": "#/components/parameters/SessionId"}],
      "post": {
        "summary": "interactive: one object's masks from clicks / a box / an earlier pick (needs a checkpoint with the interactive weights; /health says \"pick\")",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PickRequest"}}}},
        "responses": {
          "200": {"description": "masks and a pick_id", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PickResult"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
          "404": {"$ref": "#/components/responses/NotFound"},
          "409": {"description": "the session is still encoding (status, progress) or its encoding failed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "503": {"$ref": "#/components/responses/Busy"}
        }
      }
    },
    "/v1/segment": {
      "post": {
        "summary": "one shot: encode an image and run prompts on it (nothing kept)",
        "requestBody": {"required": true, "content": {"multipart/form-data": {"schema": {"type": "object", "required": ["image", "request"], "properties": {
          "image": {"type": "string", "format": "binary"},
          "request": {"type": "string", "description": "a SegmentRequest as JSON text"}}}}}},
        "responses": {
          "200": {"description": "results", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SegmentResult"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
          "413": {"$ref": "#/components/responses/TooLarge"}, "503": {"$ref": "#/components/responses/Busy"}
        }
      }
    },
    "/openapi.json": {"get": {"summary": "this document", "security": [], "responses": {"200": {"description": "ok"}}}},
    "/": {"get": {"summary": "the web UI (its other files are served at their paths)", "security": [], "responses": {"200": {"description": "index.html"}}}}
  }
})json";

}  // namespace

std::string openapi_json() {
  return nlohmann::ordered_json::parse(kDocument).dump();  // parsed: a typo in the document fails at start
}

}  // namespace sam3::server
