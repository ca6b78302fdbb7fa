// 2-D convolution on oneDNN: forward, gradient w.r.t. the input, gradient w.r.t. the filter.
// Activations stay NHWC (tfjs' layout, and oneDNN's fastest plain layout on AVX-512); the filter is tfjs' HWIO and
// is reordered to the layout oneDNN picks (format `any`), which is cheap next to the convolution itself. Primitives
// are built once per shape (dfer::cached).
#include <optional>
#include "common.h"

namespace {

using dnnl::memory;
using tag = memory::format_tag;
constexpr auto f32t = memory::data_type::f32;

// Geometry shared by the three kernels, in the argument order of every conv function after the buffers:
// n, h, w, c, oh, ow, oc, kh, kw, strideH, strideW, dilationH, dilationW, padTop, padLeft, padBottom, padRight
struct Geometry {
  int64_t n, h, w, c, oh, ow, oc, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  static Geometry from(const Napi::CallbackInfo& info, size_t first) {
    int64_t v[17];
    for (int k = 0; k < 17; k++) v[k] = dfer::i64(info, first + k);
    return {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15], v[16]};
  }
  memory::desc src() const { return memory::desc({n, c, h, w}, f32t, tag::nhwc); }
  memory::desc dst() const { return memory::desc({n, oc, oh, ow}, f32t, tag::nhwc); }
  memory::desc weightsHwio() const { return memory::desc({oc, c, kh, kw}, f32t, tag::hwio); }
  memory::desc weightsAny() const { return memory::desc({oc, c, kh, kw}, f32t, tag::any); }
  memory::dims strides() const { return {sh, sw}; }
  memory::dims dilation() const { return {dh - 1, dw - 1}; }  // oneDNN counts the gaps, tfjs the step
  memory::dims padL() const { return {pt, pl}; }
  memory::dims padR() const { return {pb, pr}; }
  dnnl::convolution_forward::primitive_desc forwardPd() const {
    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src(),
                                      weightsAny(), dst(), strides(), dilation(), padL(), padR());
    return {d, dfer::engine()};
  }
};

// A convolution primitive and the filter layout it computes in. Filters arrive (and filter gradients leave) as tfjs'
// HWIO; when oneDNN prefers another layout the plan holds the reorder and a buffer in that layout.
struct ConvPlan {
  dnnl::primitive conv;
  std::optional<dnnl::reorder> weightsReorder;  // HWIO -> preferred (forward, backward-data), or back (weights)
  std::optional<memory> weights;                // the filter (or its gradient) in the preferred layout
};

ConvPlan plan(dnnl::primitive conv, const memory::desc& hwio, const memory::desc& preferred, bool toHwio) {
  ConvPlan p{std::move(conv), std::nullopt, std::nullopt};
  if (preferred == hwio) return p;
  auto& eng = dfer::engine();
  p.weights.emplace(preferred, eng);
  p.weightsReorder.emplace(toHwio ? dnnl::reorder::primitive_desc(eng, preferred, eng, hwio)
                                  : dnnl::reorder::primitive_desc(eng, hwio, eng, preferred));
  return p;
}

// The cache key of one convolution: which kernel, then the geometry.
std::vector<int64_t> key(int64_t kind, const Geometry& g) {
  return {kind, g.n, g.h, g.w, g.c, g.oh, g.ow, g.oc, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.pb, g.pr};
}

// The filter as the plan's convolution reads it: tfjs' buffer itself, or reordered into the plan's buffer.
memory filterFor(ConvPlan& p, const Geometry& g, float* hwio) {
  memory user(g.weightsHwio(), dfer::engine(), hwio);
  if (!p.weights) return user;
  p.weightsReorder->execute(dfer::stream(), {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, *p.weights}});
  return *p.weights;
}

// conv2d(y, x, filter, ...geometry): y (N, OH, OW, OC) = x (N, H, W, C) * filter (KH, KW, C, OC)
Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  return dfer::guarded(info, "conv2d", [&] {
    Geometry g = Geometry::from(info, 3);
    auto& eng = dfer::engine();
    ConvPlan& p = dfer::cached<ConvPlan>(key(0, g), [&] {
      auto pd = g.forwardPd();
      return plan(dnnl::convolution_forward(pd), g.weightsHwio(), pd.weights_desc(), false);
    });
    memory y(g.dst(), eng, dfer::f32(info, 0));
    memory x(g.src(), eng, dfer::f32(info, 1));
    memory w = filterFor(p, g, dfer::f32(info, 2));
    p.conv.execute(dfer::stream(), {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, y}});
    dfer::stream().wait();
  });
}

// conv2dBackpropInput(dx, dy, filter, ...geometry)
Napi::Value Conv2dBackpropInput(const Napi::CallbackInfo& info) {
  return dfer::guarded(info, "conv2dBackpropInput", [&] {
    Geometry g = Geometry::from(info, 3);
    auto& eng = dfer::engine();
    ConvPlan& p = dfer::cached<ConvPlan>(key(1, g), [&] {
      dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, g.src(), g.weightsAny(), g.dst(),
                                              g.strides(), g.dilation(), g.padL(), g.padR());
      dnnl::convolution_backward_data::primitive_desc pd(d, eng, g.forwardPd());
      return plan(dnnl::convolution_backward_data(pd), g.weightsHwio(), pd.weights_desc(), false);
    });
    memory dx(g.src(), eng, dfer::f32(info, 0));
    memory dy(g.dst(), eng, dfer::f32(info, 1));
    memory w = filterFor(p, g, dfer::f32(info, 2));
    p.conv.execute(dfer::stream(), {{DNNL_ARG_DIFF_SRC, dx}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_DST, dy}});
    dfer::stream().wait();
  });
}

// conv2dBackpropFilter(dw, x, dy, ...geometry): dw is HWIO
Napi::Value Conv2dBackpropFilter(const Napi::CallbackInfo& info) {
  return dfer::guarded(info, "conv2dBackpropFilter", [&] {
    Geometry g = Geometry::from(info, 3);
    auto& eng = dfer::engine();
    ConvPlan& p = dfer::cached<ConvPlan>(key(2, g), [&] {
      dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, g.src(), g.weightsAny(), g.dst(),
                                                 g.strides(), g.dilation(), g.padL(), g.padR());
      dnnl::convolution_backward_weights::primitive_desc pd(d, eng, g.forwardPd());
      return plan(dnnl::convolution_backward_weights(pd), g.weightsHwio(), pd.diff_weights_desc(), true);
    });
    memory x(g.src(), eng, dfer::f32(info, 1));
    memory dy(g.dst(), eng, dfer::f32(info, 2));
    memory dwHwio(g.weightsHwio(), eng, dfer::f32(info, 0));
    memory dw = p.weights ? *p.weights : dwHwio;
    p.conv.execute(dfer::stream(), {{DNNL_ARG_SRC, x}, {DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_DIFF_WEIGHTS, dw}});
    if (p.weights) p.weightsReorder->execute(dfer::stream(), {{DNNL_ARG_FROM, dw}, {DNNL_ARG_TO, dwHwio}});
    dfer::stream().wait();
  });
}

DFER_EXPORT("conv2d", Conv2d);
DFER_EXPORT("conv2dBackpropInput", Conv2dBackpropInput);
DFER_EXPORT("conv2dBackpropFilter", Conv2dBackpropFilter);

}  // namespace
