// ref: sam3/model/necks.py (Sam3DualViTDetNeck.__init__ / forward)
#include "model/neck.h"

#include "core/error.h"
#include "core/ops.h"

namespace sam3 {

int64_t neck_level_size(double scale, int64_t grid) {
  if (scale == 4.0) return 4 * grid;
  if (scale == 2.0) return 2 * grid;
  if (scale == 1.0) return grid;
  if (scale == 0.5) return grid / 2;  // MaxPool2d(2, 2) floors
  throw Error("neck.scale_factors: " + std::to_string(scale) + " is not supported (4, 2, 1 or 0.5)");
}

Neck::Neck(const Config& cfg, const nn::ParamScope& convs, int64_t in_dim, int64_t grid)
    : in_dim_(in_dim), grid_(grid), d_model_(cfg.d_model) {
  const std::vector<double>& scales = cfg.neck.scale_factors;
  if (cfg.neck.scalp < 0 || cfg.neck.scalp >= static_cast<int>(scales.size()))
    throw Error("neck.scalp must leave at least one of the " + std::to_string(scales.size()) + " levels");
  for (size_t i = 0; i < scales.size(); ++i) {
    const nn::ParamScope p = convs.sub(static_cast<int>(i));
    Level l;
    l.scale = scales[i];
    l.size = neck_level_size(l.scale, grid);
    int64_t ch = in_dim;
    if (l.scale == 4.0) {
      l.up0 = nn::ConvTranspose2dK2S2::load(p.sub("dconv_2x2_0"), in_dim, in_dim / 2);
      l.up1 = nn::ConvTranspose2dK2S2::load(p.sub("dconv_2x2_1"), in_dim / 2, in_dim / 4);
      ch = in_dim / 4;
    } else if (l.scale == 2.0) {
      l.up0 = nn::ConvTranspose2dK2S2::load(p.sub("dconv_2x2"), in_dim, in_dim / 2);
      ch = in_dim / 2;
    } else if (l.scale == 0.5) {
      l.pool = true;
    }
    l.conv_1x1 = nn::Conv2d::load(p.sub("conv_1x1"), ch, d_model_, 1, 1, 0);
    l.conv_3x3 = nn::Conv2d::load(p.sub("conv_3x3"), d_model_, d_model_, 3, 1, 1);
    levels_.push_back(std::move(l));
  }
}

// The intermediate maps of one branch, in allocation order.
std::vector<Shape> Neck::scratch_shapes(const Level& l) const {
  std::vector<Shape> s;
  const int64_t G = grid_, C = in_dim_;
  if (l.scale == 4.0) {
    s.push_back({C / 2, 2 * G, 2 * G});
    s.push_back({C / 4, 4 * G, 4 * G});
  } else if (l.scale == 2.0) {
    s.push_back({C / 2, 2 * G, 2 * G});
  } else if (l.pool) {
    s.push_back({C, G / 2, G / 2});
  }
  s.push_back({d_model_, l.size, l.size});  // conv_1x1 output
  return s;
}

size_t Neck::scratch_bytes(int i) const {
  size_t total = 0;
  for (const Shape& s : scratch_shapes(levels_.at(static_cast<size_t>(i)))) total += Arena::bytes_for(s);
  return total;
}

void Neck::forward_level(int i, const Tensor& z, Tensor& y, const RunContext& ctx) const {
  const Level& l = levels_.at(static_cast<size_t>(i));
  check_tensor(z, {1, in_dim_, grid_, grid_}, DType::F32, "neck input");
  check_tensor(y, {1, d_model_, l.size, l.size}, DType::F32, "neck level " + std::to_string(i) + " output");
  ArenaScope scope(ctx.arena);
  const std::vector<Shape> shapes = scratch_shapes(l);
  Tensor cur = z.reshape({in_dim_, grid_, grid_});
  size_t k = 0;
  if (l.up0) {
    Tensor t = ctx.scratch(shapes[k++]);
    l.up0->forward(cur, t, ctx);
    cur = t;
  }
  if (l.up1) {
    ops::gelu_inplace(cur, ctx);
    Tensor t = ctx.scratch(shapes[k++]);
    l.up1->forward(cur, t, ctx);
    cur = t;
  }
  if (l.pool) {
    Tensor t = ctx.scratch(shapes[k++]);
    ops::max_pool2d_k2s2(cur, t, ctx);
    cur = t;
  }
  Tensor c1 = ctx.scratch(shapes[k++]);
  l.conv_1x1.forward(cur, c1, ctx);
  Tensor out = y.reshape({d_model_, l.size, l.size});
  l.conv_3x3.forward(c1, out, ctx);
}

}  // namespace sam3
