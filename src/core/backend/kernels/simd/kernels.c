// Memory-bound kernels that XNNPACK lacks, in WebAssembly SIMD. They run on the wasm backend's
// own memory (imported), on tensors it allocated, and must never touch memory they were not
// given: no static data, no linear-memory stack (scalar and vector locals only), no libc.
// Built by scripts/build-simd-kernels.mjs; the build checks the module for data and a stack.
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name))) name

static int min_int(int a, int b) { return a < b ? a : b; }
static int max_int(int a, int b) { return a > b ? a : b; }

static void zero(float *out, int count) {
  int i = 0;
  for (; i + 4 <= count; i += 4) wasm_v128_store(out + i, wasm_f32x4_splat(0.0f));
  for (; i < count; i++) out[i] = 0.0f;
}

// The first maximum above `floor` of 4 channels (from ch) over a window of an NHWC image: each
// lane's pixel index (row·width + col), or -1 where no value exceeds the floor. Strict comparison:
// ties go to the first in row-major order, NaN never wins.
static v128_t first_max4(const float *image, int width, int channels, int ch, int row_start, int row_end,
                         int col_start, int col_end, float floor) {
  v128_t best = wasm_f32x4_splat(floor);
  v128_t at = wasm_i32x4_splat(-1);
  for (int xr = row_start; xr < row_end; xr++) {
    for (int xc = col_start; xc < col_end; xc++) {
      v128_t v = wasm_v128_load(image + (xr * width + xc) * channels + ch);
      v128_t wins = wasm_f32x4_gt(v, best);
      best = wasm_v128_bitselect(v, best, wins);
      at = wasm_v128_bitselect(wasm_i32x4_splat(xr * width + xc), at, wins);
    }
  }
  return at;
}

// MaxPoolGrad, NHWC, any window, stride and padding. Each output pixel's dy goes to the first
// maximum of its window in row-major order (strict comparison: ties go to the first, NaN and
// padding never win), as TensorFlow and the cpu backend do; overlapping windows accumulate.
// Windows that tile the input (stride = window, the usual 2×2/2) write dx directly instead of
// zeroing it first and adding: it is memory-bound, and that saves two of its four passes.
void EXPORT(max_pool_grad)(const float *x, const float *dy, float *dx, int batch, int height, int width,
                           int channels, int out_height, int out_width, int filter_height, int filter_width,
                           int stride_height, int stride_width, int pad_top, int pad_left) {
  int tiled = stride_height == filter_height && stride_width == filter_width;
  if (!tiled) zero(dx, batch * height * width * channels);
  const float *dy_pixel = dy;
  for (int n = 0; n < batch; n++) {
    const float *image = x + n * height * width * channels;
    float *grad = dx + n * height * width * channels;
    for (int r = 0; r < out_height; r++) {
      int row_start = max_int(0, r * stride_height - pad_top);
      int row_end = min_int(height, r * stride_height - pad_top + filter_height);
      for (int c = 0; c < out_width; c++, dy_pixel += channels) {
        int col_start = max_int(0, c * stride_width - pad_left);
        int col_end = min_int(width, c * stride_width - pad_left + filter_width);
        int ch = 0;
        for (; ch + 4 <= channels; ch += 4) {
          v128_t at = first_max4(image, width, channels, ch, row_start, row_end, col_start, col_end, -__builtin_inff());
          v128_t g = wasm_v128_load(dy_pixel + ch);
          for (int xr = row_start; xr < row_end; xr++) {
            for (int xc = col_start; xc < col_end; xc++) {
              float *target = grad + (xr * width + xc) * channels + ch;
              v128_t share = wasm_v128_and(g, wasm_i32x4_eq(at, wasm_i32x4_splat(xr * width + xc)));
              wasm_v128_store(target, tiled ? share : wasm_f32x4_add(wasm_v128_load(target), share));
            }
          }
        }
        for (; ch < channels; ch++) {
          float best = -__builtin_inff();
          int at = -1;
          for (int xr = row_start; xr < row_end; xr++) {
            for (int xc = col_start; xc < col_end; xc++) {
              int offset = (xr * width + xc) * channels + ch;
              if (tiled) grad[offset] = 0.0f;
              if (image[offset] > best) {
                best = image[offset];
                at = offset;
              }
            }
          }
          if (at >= 0) grad[at] += dy_pixel[ch];
        }
      }
    }
    if (tiled) {
      // Rows and columns past the last window (valid padding with a remainder) get no gradient.
      int covered_rows = min_int(height, out_height * filter_height - pad_top);
      int covered_cols = min_int(width, out_width * filter_width - pad_left);
      for (int row = 0; row < height; row++) {
        int from = row < covered_rows ? covered_cols : 0;
        zero(grad + (row * width + from) * channels, (width - from) * channels);
      }
    }
  }
}

// Column sums of a [rows, cols] matrix (a bias gradient: an activation summed over all but its
// channel axis), accumulated in float64 in `acc` (cols doubles of scratch), written to `out`.
void EXPORT(column_sums)(const float *x, int rows, int cols, double *acc, float *out) {
  for (int j = 0; j < cols; j++) acc[j] = 0.0;
  for (int r = 0; r < rows; r++) {
    const float *row = x + r * cols;
    int j = 0;
    for (; j + 4 <= cols; j += 4) {
      v128_t v = wasm_v128_load(row + j);
      wasm_v128_store(acc + j, wasm_f64x2_add(wasm_v128_load(acc + j), wasm_f64x2_promote_low_f32x4(v)));
      wasm_v128_store(acc + j + 2, wasm_f64x2_add(wasm_v128_load(acc + j + 2),
                                                  wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1))));
    }
    for (; j < cols; j++) acc[j] += row[j];
  }
  for (int j = 0; j < cols; j++) out[j] = (float)acc[j];
}

// col2im, NHWC: scatters the per-pixel tap products P [batch, out_h, out_w, fh, fw, channels] of a
// convolution's input gradient onto dx [batch, height, width, channels]:
//   dx[n, r·sh + i − top, c·sw + j − left, :] += P[n, r, c, i, j, :], taps outside dx dropped.
void EXPORT(col2im)(const float *taps, float *dx, int batch, int height, int width, int channels, int out_height,
                    int out_width, int filter_height, int filter_width, int stride_height, int stride_width,
                    int pad_top, int pad_left) {
  zero(dx, batch * height * width * channels);
  const float *tap = taps;
  for (int n = 0; n < batch; n++) {
    float *image = dx + n * height * width * channels;
    for (int r = 0; r < out_height; r++) {
      for (int c = 0; c < out_width; c++) {
        for (int i = 0; i < filter_height; i++) {
          int xr = r * stride_height - pad_top + i;
          for (int j = 0; j < filter_width; j++, tap += channels) {
            int xc = c * stride_width - pad_left + j;
            if (xr < 0 || xr >= height || xc < 0 || xc >= width) continue;
            float *pixel = image + (xr * width + xc) * channels;
            int ch = 0;
            for (; ch + 4 <= channels; ch += 4) {
              wasm_v128_store(pixel + ch, wasm_f32x4_add(wasm_v128_load(pixel + ch), wasm_v128_load(tap + ch)));
            }
            for (; ch < channels; ch++) pixel[ch] += tap[ch];
          }
        }
      }
    }
  }
}

// im2col, transposed, NHWC: the input values each filter tap sees, as rows
//   out[(i·fw + j)·channels + ci, (n·out_h + r)·out_w + c] = x[n, r·sh + i − top, c·sw + j − left, ci]
// (0 where that falls in the padding), so that dW = out · dy is one matrix product. Only the rows
// of taps tap_begin ≤ i·fw + j < tap_end are written (threads share the taps out).
void EXPORT(im2col_transposed)(const float *x, float *out, int batch, int height, int width, int channels,
                               int out_height, int out_width, int filter_width, int stride_height, int stride_width,
                               int pad_top, int pad_left, int tap_begin, int tap_end) {
  out += tap_begin * channels * batch * out_height * out_width;
  for (int tap = tap_begin; tap < tap_end; tap++) {
    int i = tap / filter_width, j = tap % filter_width;
    for (int ci = 0; ci < channels; ci++) {
      for (int n = 0; n < batch; n++) {
        const float *image = x + n * height * width * channels + ci;
        for (int r = 0; r < out_height; r++) {
          int xr = r * stride_height - pad_top + i;
          if (xr < 0 || xr >= height) {
            for (int c = 0; c < out_width; c++) *out++ = 0.0f;
            continue;
          }
          const float *row = image + xr * width * channels;
          for (int c = 0; c < out_width; c++) {
            int xc = c * stride_width - pad_left + j;
            *out++ = xc >= 0 && xc < width ? row[xc * channels] : 0.0f;
          }
        }
      }
    }
  }
}

// Winograd F(4×4, 3×3) for 3×3 stride-1 convolutions (cross-correlation, as TensorFlow's), NHWC,
// channel counts multiples of 4 (Lavin & Gray 2016): Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A per 4×4 output
// tile from its 6×6 input patch d, with the 36 elementwise products summed over input channels as
// 36 matrix products M_ξ [tiles, K] = V_ξ [tiles, C] · U_ξ [C, K] (XNNPACK). `v`, `u` and `m` are
// tables of the 36 matrices' addresses, ξ = 6·row + column. The 1-D transforms below are applied
// to the columns, then to the rows.
#define ALPHA 6
#define TILE 4

static inline v128_t mul(float c, v128_t x) { return wasm_f32x4_mul(wasm_f32x4_splat(c), x); }
static inline v128_t add(v128_t a, v128_t b) { return wasm_f32x4_add(a, b); }
static inline v128_t sub(v128_t a, v128_t b) { return wasm_f32x4_sub(a, b); }

// t = Bᵀ d, Bᵀ = [[4,0,−5,0,1,0], [0,−4,−4,1,1,0], [0,4,−4,−1,1,0], [0,−2,−1,2,1,0], [0,2,−1,−2,1,0], [0,4,0,−5,0,1]].
#define INPUT_1D(d, t)                                                   \
  t(0) = add(sub(mul(4, d(0)), mul(5, d(2))), d(4));                     \
  t(1) = sub(add(d(3), d(4)), mul(4, add(d(1), d(2))));                  \
  t(2) = add(sub(d(4), d(3)), mul(4, sub(d(1), d(2))));                  \
  t(3) = add(sub(d(4), d(2)), mul(2, sub(d(3), d(1))));                  \
  t(4) = add(sub(d(4), d(2)), mul(2, sub(d(1), d(3))));                  \
  t(5) = add(sub(mul(4, d(1)), mul(5, d(3))), d(5));
// u = G g, G = [[¼,0,0], [−⅙,−⅙,−⅙], [−⅙,⅙,−⅙], [1/24,1/12,⅙], [1/24,−1/12,⅙], [0,0,1]].
#define FILTER_1D(g, u)                                                                   \
  u(0) = mul(1.0f / 4, g(0));                                                             \
  u(1) = mul(-1.0f / 6, add(add(g(0), g(1)), g(2)));                                      \
  u(2) = mul(-1.0f / 6, add(sub(g(0), g(1)), g(2)));                                      \
  u(3) = add(add(mul(1.0f / 24, g(0)), mul(1.0f / 12, g(1))), mul(1.0f / 6, g(2)));       \
  u(4) = add(sub(mul(1.0f / 24, g(0)), mul(1.0f / 12, g(1))), mul(1.0f / 6, g(2)));       \
  u(5) = g(2);
// y = Aᵀ m, Aᵀ = [[1,1,1,1,1,0], [0,1,−1,2,−2,0], [0,1,1,4,4,0], [0,1,−1,8,−8,1]].
#define OUTPUT_1D(m, y)                                                                   \
  y(0) = add(add(add(m(0), m(1)), add(m(2), m(3))), m(4));                                \
  y(1) = add(sub(m(1), m(2)), mul(2, sub(m(3), m(4))));                                   \
  y(2) = add(add(m(1), m(2)), mul(4, add(m(3), m(4))));                                   \
  y(3) = add(add(sub(m(1), m(2)), mul(8, sub(m(3), m(4)))), m(5));

// U_ξ[c, k] = (G g[:, :, c, k] Gᵀ)_ξ.
void EXPORT(winograd_filter_transform)(const float *g, float *const *u, int channels, int filters) {
  for (int c = 0; c < channels; c++) {
    for (int k = 0; k < filters; k += 4) {
      v128_t in[3][3], half[ALPHA][3], out[ALPHA][ALPHA];
      _Pragma("clang loop unroll(full)") for (int i = 0; i < 3; i++)
        _Pragma("clang loop unroll(full)") for (int j = 0; j < 3; j++) in[i][j] = wasm_v128_load(g + ((i * 3 + j) * channels + c) * filters + k);
      _Pragma("clang loop unroll(full)") for (int j = 0; j < 3; j++) {
#define SRC(i) in[i][j]
#define DST(i) half[i][j]
        FILTER_1D(SRC, DST)
#undef SRC
#undef DST
      }
      _Pragma("clang loop unroll(full)") for (int i = 0; i < ALPHA; i++) {
#define SRC(j) half[i][j]
#define DST(j) out[i][j]
        FILTER_1D(SRC, DST)
#undef SRC
#undef DST
      }
      _Pragma("clang loop unroll(full)") for (int i = 0; i < ALPHA; i++)
        _Pragma("clang loop unroll(full)") for (int j = 0; j < ALPHA; j++) wasm_v128_store(u[ALPHA * i + j] + c * filters + k, out[i][j]);
    }
  }
}

// V_ξ[tile, c] = (Bᵀ d B)_ξ, d the tile's 6×6 input patch (zeros outside x).
void EXPORT(winograd_input_transform)(const float *x, float *const *v, int batch, int height, int width, int channels,
                                      int tiles_high, int tiles_wide, int pad_top, int pad_left) {
  int tile = 0;
  for (int n = 0; n < batch; n++) {
    for (int th = 0; th < tiles_high; th++) {
      for (int tw = 0; tw < tiles_wide; tw++, tile++) {
        int row0 = TILE * th - pad_top, col0 = TILE * tw - pad_left;
        for (int c = 0; c < channels; c += 4) {
          v128_t d[ALPHA][ALPHA], half[ALPHA][ALPHA], out[ALPHA][ALPHA];
          _Pragma("clang loop unroll(full)") for (int a = 0; a < ALPHA; a++) {
            int row = row0 + a;
            _Pragma("clang loop unroll(full)") for (int b = 0; b < ALPHA; b++) {
              int col = col0 + b;
              d[a][b] = row >= 0 && row < height && col >= 0 && col < width
                            ? wasm_v128_load(x + ((n * height + row) * width + col) * channels + c)
                            : wasm_f32x4_splat(0.0f);
            }
          }
          _Pragma("clang loop unroll(full)") for (int b = 0; b < ALPHA; b++) {
#define SRC(a) d[a][b]
#define DST(a) half[a][b]
            INPUT_1D(SRC, DST)
#undef SRC
#undef DST
          }
          _Pragma("clang loop unroll(full)") for (int a = 0; a < ALPHA; a++) {
#define SRC(b) half[a][b]
#define DST(b) out[a][b]
            INPUT_1D(SRC, DST)
#undef SRC
#undef DST
          }
          _Pragma("clang loop unroll(full)") for (int a = 0; a < ALPHA; a++)
            _Pragma("clang loop unroll(full)") for (int b = 0; b < ALPHA; b++) wasm_v128_store(v[ALPHA * a + b] + tile * channels + c, out[a][b]);
        }
      }
    }
  }
}

// y = Aᵀ M A per tile, plus bias (if not null) and relu (if asked), cropped to
// [batch, out_height, out_width, filters].
void EXPORT(winograd_output_transform)(float *const *m, const float *bias, int relu, float *y, int batch,
                                       int out_height, int out_width, int filters, int tiles_high, int tiles_wide) {
  int tile = 0;
  for (int n = 0; n < batch; n++) {
    for (int th = 0; th < tiles_high; th++) {
      for (int tw = 0; tw < tiles_wide; tw++, tile++) {
        for (int k = 0; k < filters; k += 4) {
          v128_t in[ALPHA][ALPHA], half[TILE][ALPHA], out[TILE][TILE];
          _Pragma("clang loop unroll(full)") for (int a = 0; a < ALPHA; a++)
            _Pragma("clang loop unroll(full)") for (int b = 0; b < ALPHA; b++) in[a][b] = wasm_v128_load(m[ALPHA * a + b] + tile * filters + k);
          _Pragma("clang loop unroll(full)") for (int b = 0; b < ALPHA; b++) {
#define SRC(a) in[a][b]
#define DST(a) half[a][b]
            OUTPUT_1D(SRC, DST)
#undef SRC
#undef DST
          }
          _Pragma("clang loop unroll(full)") for (int a = 0; a < TILE; a++) {
#define SRC(b) half[a][b]
#define DST(b) out[a][b]
            OUTPUT_1D(SRC, DST)
#undef SRC
#undef DST
          }
          v128_t offset = bias ? wasm_v128_load(bias + k) : wasm_f32x4_splat(0.0f);
          v128_t lowest = wasm_f32x4_splat(relu ? 0.0f : -__builtin_inff());
          _Pragma("clang loop unroll(full)") for (int a = 0; a < TILE; a++) {
            int row = TILE * th + a;
            _Pragma("clang loop unroll(full)") for (int b = 0; b < TILE; b++) {
              int col = TILE * tw + b;
              if (row < out_height && col < out_width)
                wasm_v128_store(y + ((n * out_height + row) * out_width + col) * filters + k,
                                wasm_f32x4_max(add(out[a][b], offset), lowest));
            }
          }
        }
      }
    }
  }
}

// The pooling routes of a convolution's output y [batch, height, width, channels] (after its
// activation) for the fused backward below: for each window of the max pooling that follows and
// each channel, the index (row·width + col) of the window's first maximum, as max_pool_grad
// routes it (NaN never wins); -1 where the gradient stops: a window with no maximum, or under
// relu a maximum ≤ 0 (relu's gradient there, step(y), is 0).
void EXPORT(pool_routes)(const float *y, int *routes, int batch, int height, int width, int channels,
                         int out_height, int out_width, int filter_height, int filter_width, int stride_height,
                         int stride_width, int pad_top, int pad_left, int relu) {
  // Under relu the gradient stops where the maximum is ≤ 0 (relu's gradient there, step(y), is 0).
  float floor = relu ? 0.0f : -__builtin_inff();
  for (int n = 0; n < batch; n++) {
    const float *image = y + n * height * width * channels;
    for (int r = 0; r < out_height; r++) {
      int row_start = max_int(0, r * stride_height - pad_top);
      int row_end = min_int(height, r * stride_height - pad_top + filter_height);
      for (int c = 0; c < out_width; c++, routes += channels) {
        int col_start = max_int(0, c * stride_width - pad_left);
        int col_end = min_int(width, c * stride_width - pad_left + filter_width);
        int ch = 0;
        for (; ch + 4 <= channels; ch += 4) {
          wasm_v128_store(routes + ch, first_max4(image, width, channels, ch, row_start, row_end, col_start, col_end, floor));
        }
        for (; ch < channels; ch++) {
          float best = floor;
          int at = -1;
          for (int xr = row_start; xr < row_end; xr++) {
            for (int xc = col_start; xc < col_end; xc++) {
              float v = image[(xr * width + xc) * channels + ch];
              if (v > best) {
                best = v;
                at = xr * width + xc;
              }
            }
          }
          routes[ch] = at;
        }
      }
    }
  }
}

// The input gradient of convolution → (relu) → max pooling, from the pooled gradient dy
// [rows, out_height, out_width, filters] and the routes of pool_routes: each pooled value goes
// back along its route to one output pixel of the convolution and from there through the filter,
// as a scatter of the filter's taps onto dx [rows, height, width, channels]:
//   dx[n, p·sh + i − top, q·sw + j − left, :] += dy[n, window, f] · w[f, i, j, :]
// with (p, q) the route of (window, f) in sample n mod samples (rows hold several weightings of
// the same samples); w is the filter as [filters, fh, fw, channels]. Only the pooled values that
// reach the input are visited: a quarter of the convolution's outputs or fewer, where the dense
// form (MaxPoolGrad, the relu mask, Conv2DBackpropInput) multiplies the zeros as well.
void EXPORT(conv_pool_backprop)(const float *dy, const int *routes, const float *w, float *dx, int first_row,
                                int rows, int samples, int out_height, int out_width, int filters, int conv_width,
                                int height, int width, int channels, int filter_height, int filter_width,
                                int stride_height, int stride_width, int pad_top, int pad_left) {
  int pooled = out_height * out_width * filters;
  int taps = filter_height * filter_width * channels;
  zero(dx, rows * height * width * channels);
  for (int n = 0; n < rows; n++) {
    const float *g = dy + n * pooled;
    const int *route = routes + ((first_row + n) % samples) * pooled;
    float *image = dx + n * height * width * channels;
    for (int k = 0; k < pooled; k++) {
      float value = g[k];
      int at = route[k];
      if (at < 0 || value == 0.0f) continue;
      int f = k % filters;
      int p = at / conv_width;
      int q = at % conv_width;
      const float *tap = w + f * taps;
      for (int i = 0; i < filter_height; i++) {
        int xr = p * stride_height - pad_top + i;
        for (int j = 0; j < filter_width; j++, tap += channels) {
          int xc = q * stride_width - pad_left + j;
          if (xr < 0 || xr >= height || xc < 0 || xc >= width) continue;
          float *pixel = image + (xr * width + xc) * channels;
          v128_t scale = wasm_f32x4_splat(value);
          int ch = 0;
          for (; ch + 4 <= channels; ch += 4) {
            wasm_v128_store(pixel + ch, wasm_f32x4_add(wasm_v128_load(pixel + ch), wasm_f32x4_mul(scale, wasm_v128_load(tap + ch))));
          }
          for (; ch < channels; ch++) pixel[ch] += value * tap[ch];
        }
      }
    }
  }
}

// SPSA's first layer at x ± δ·v for sign directions v (±1 per input value) when it is a
// convolution of one input channel, stride 1, no padding: conv(x ± δv) = conv(x) ± δ·conv(v), and
// δ·conv(v) at an output pixel depends only on the signs under the filter, one of 2^taps filter
// sums. This tabulates them: table[p·filters + f] = δ·Σ_t ±w[t·filters + f], + where bit t of p
// is set (tap t = row·filter_width + col).
void EXPORT(sign_sum_table)(const float *w, float *table, int taps, int filters, float delta) {
  for (int p = 0; p < (1 << taps); p++, table += filters) {
    for (int f = 0; f < filters; f++) {
      float sum = 0.0f;
      for (int t = 0; t < taps; t++) sum += (p >> t & 1) ? w[t * filters + f] : -w[t * filters + f];
      table[f] = delta * sum;
    }
  }
}

// Then per row r of signs [rows, height, width] (sample r mod samples of centre, the convolution's
// output at x with its bias [samples, conv_height, conv_width, filters]): centre ± the table's sum
// for each pixel's sign pattern, (relu,) max pooling (window pool_height × pool_width, its stride,
// no padding), written to out [2·rows, out_height, out_width, filters]: the + row of pair
// k = r / samples at (2k)·samples + r mod samples, the − row at (2k + 1)·samples + r mod samples.
// relu(max) = max(relu): starting each maximum at 0 applies relu. filters is a multiple of 4.
void EXPORT(sign_pair_conv_pool)(const float *centre, const float *signs, const float *table, float *out,
                                 int first_row, int rows, int samples, int height, int width, int filter_height,
                                 int filter_width, int filters, int conv_width, int out_height, int out_width,
                                 int pool_height, int pool_width, int stride_height, int stride_width, int relu) {
  int pooled = out_height * out_width * filters;
  int conv_image = (height - filter_height + 1) * conv_width * filters;
  v128_t floor = wasm_f32x4_splat(relu ? 0.0f : -__builtin_inff());
  for (int n = first_row; n < first_row + rows; n++) {
    int sample = n % samples;
    int pair = n / samples;
    const float *image = signs + n * height * width;
    const float *base = centre + sample * conv_image;
    float *plus = out + ((2 * pair) * samples + sample) * pooled;
    float *minus = out + ((2 * pair + 1) * samples + sample) * pooled;
    for (int pr = 0; pr < out_height; pr++) {
      for (int pc = 0; pc < out_width; pc++, plus += filters, minus += filters) {
        for (int a = 0; a < pool_height; a++) {
          for (int b = 0; b < pool_width; b++) {
            int row = pr * stride_height + a;
            int col = pc * stride_width + b;
            int pattern = 0;
            for (int i = 0, t = 0; i < filter_height; i++) {
              for (int j = 0; j < filter_width; j++, t++) pattern |= (image[(row + i) * width + col + j] > 0.0f) << t;
            }
            const float *sum = table + pattern * filters;
            const float *c = base + (row * conv_width + col) * filters;
            int first = a == 0 && b == 0;
            for (int f = 0; f < filters; f += 4) {
              v128_t s = wasm_v128_load(sum + f);
              v128_t x = wasm_v128_load(c + f);
              v128_t up = wasm_f32x4_add(x, s);
              v128_t down = wasm_f32x4_sub(x, s);
              v128_t best_up = first ? floor : wasm_v128_load(plus + f);
              v128_t best_down = first ? floor : wasm_v128_load(minus + f);
              wasm_v128_store(plus + f, wasm_f32x4_pmax(best_up, up));
              wasm_v128_store(minus + f, wasm_f32x4_pmax(best_down, down));
            }
          }
        }
      }
    }
  }
}
