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

// MaxPoolGrad, NHWC, any window, stride and padding. Each output pixel's dy goes to the first
// maximum of its window in row-major order (strict comparison: ties go to the first, NaN and
// padding never win), as TensorFlow and the cpu backend do; overlapping windows accumulate.
void EXPORT(max_pool_grad)(const float *x, const float *dy, float *dx, int batch, int height, int width,
                           int channels, int out_height, int out_width, int filter_height, int filter_width,
                           int stride_height, int stride_width, int pad_top, int pad_left) {
  zero(dx, batch * height * width * channels);
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
          // Which window position (row-major index) holds each lane's first maximum; -1 if none.
          v128_t best = wasm_f32x4_splat(-__builtin_inff());
          v128_t at = wasm_i32x4_splat(-1);
          int k = 0;
          for (int xr = row_start; xr < row_end; xr++) {
            for (int xc = col_start; xc < col_end; xc++, k++) {
              v128_t v = wasm_v128_load(image + (xr * width + xc) * channels + ch);
              v128_t wins = wasm_f32x4_gt(v, best);
              best = wasm_v128_bitselect(v, best, wins);
              at = wasm_v128_bitselect(wasm_i32x4_splat(k), at, wins);
            }
          }
          v128_t g = wasm_v128_load(dy_pixel + ch);
          k = 0;
          for (int xr = row_start; xr < row_end; xr++) {
            for (int xc = col_start; xc < col_end; xc++, k++) {
              float *target = grad + (xr * width + xc) * channels + ch;
              v128_t share = wasm_v128_and(g, wasm_i32x4_eq(at, wasm_i32x4_splat(k)));
              wasm_v128_store(target, wasm_f32x4_add(wasm_v128_load(target), share));
            }
          }
        }
        for (; ch < channels; ch++) {
          float best = -__builtin_inff();
          int at = -1;
          for (int xr = row_start; xr < row_end; xr++) {
            for (int xc = col_start; xc < col_end; xc++) {
              int offset = (xr * width + xc) * channels + ch;
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
// (0 where that falls in the padding), so that dW = out · dy is one matrix product.
void EXPORT(im2col_transposed)(const float *x, float *out, int batch, int height, int width, int channels,
                               int out_height, int out_width, int filter_height, int filter_width, int stride_height,
                               int stride_width, int pad_top, int pad_left) {
  for (int i = 0; i < filter_height; i++) {
    for (int j = 0; j < filter_width; j++) {
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
}

// Winograd F(2×2, 3×3) for 3×3 stride-1 convolutions (cross-correlation, as TensorFlow's), NHWC,
// channel counts multiples of 4 (Lavin & Gray 2016): Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A per 2×2 output
// tile, with the 16 elementwise products summed over input channels as 16 matrix products
// M_ξ [tiles, K] = V_ξ [tiles, C] · U_ξ [C, K] (XNNPACK). `v`, `u` and `m` are tables of the 16
// matrices' addresses, ξ = 4·row + column.

// U_ξ[c, k] = (G g[:, :, c, k] Gᵀ)_ξ with G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]].
void EXPORT(winograd_filter_transform)(const float *g, float *const *u, int channels, int filters) {
  const v128_t half = wasm_f32x4_splat(0.5f);
  for (int c = 0; c < channels; c++) {
    for (int k = 0; k < filters; k += 4) {
#define G(i, j) wasm_v128_load(g + (((i) * 3 + (j)) * channels + c) * filters + k)
#define ROWS(j)                                                                                   \
  v128_t r0##j = G(0, j), r3##j = G(2, j);                                                        \
  v128_t r1##j = wasm_f32x4_mul(half, wasm_f32x4_add(wasm_f32x4_add(G(0, j), G(1, j)), G(2, j))); \
  v128_t r2##j = wasm_f32x4_mul(half, wasm_f32x4_add(wasm_f32x4_sub(G(0, j), G(1, j)), G(2, j)));
      ROWS(0) ROWS(1) ROWS(2)
#define STORE_ROW(i)                                                                                                     \
  wasm_v128_store(u[4 * (i) + 0] + c * filters + k, r##i##0);                                                            \
  wasm_v128_store(u[4 * (i) + 1] + c * filters + k, wasm_f32x4_mul(half, wasm_f32x4_add(wasm_f32x4_add(r##i##0, r##i##1), r##i##2))); \
  wasm_v128_store(u[4 * (i) + 2] + c * filters + k, wasm_f32x4_mul(half, wasm_f32x4_add(wasm_f32x4_sub(r##i##0, r##i##1), r##i##2))); \
  wasm_v128_store(u[4 * (i) + 3] + c * filters + k, r##i##2);
      STORE_ROW(0) STORE_ROW(1) STORE_ROW(2) STORE_ROW(3)
#undef G
#undef ROWS
#undef STORE_ROW
    }
  }
}

// V_ξ[tile, c] = (Bᵀ d B)_ξ, d the tile's 4×4 input patch (zeros outside x), with
// Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]].
void EXPORT(winograd_input_transform)(const float *x, float *const *v, int batch, int height, int width, int channels,
                                      int tiles_high, int tiles_wide, int pad_top, int pad_left) {
  int tile = 0;
  for (int n = 0; n < batch; n++) {
    for (int th = 0; th < tiles_high; th++) {
      for (int tw = 0; tw < tiles_wide; tw++, tile++) {
        int row0 = 2 * th - pad_top, col0 = 2 * tw - pad_left;
        for (int c = 0; c < channels; c += 4) {
#define D(a, b)                                                                                          \
  ((row0 + (a)) >= 0 && (row0 + (a)) < height && (col0 + (b)) >= 0 && (col0 + (b)) < width               \
       ? wasm_v128_load(x + ((n * height + row0 + (a)) * width + col0 + (b)) * channels + c)             \
       : wasm_f32x4_splat(0.0f))
#define COLUMN(b)                                                            \
  v128_t d0##b = D(0, b), d1##b = D(1, b), d2##b = D(2, b), d3##b = D(3, b); \
  v128_t t0##b = wasm_f32x4_sub(d0##b, d2##b), t1##b = wasm_f32x4_add(d1##b, d2##b); \
  v128_t t2##b = wasm_f32x4_sub(d2##b, d1##b), t3##b = wasm_f32x4_sub(d1##b, d3##b);
          COLUMN(0) COLUMN(1) COLUMN(2) COLUMN(3)
#define STORE_ROW(i)                                                                                  \
  wasm_v128_store(v[4 * (i) + 0] + tile * channels + c, wasm_f32x4_sub(t##i##0, t##i##2));            \
  wasm_v128_store(v[4 * (i) + 1] + tile * channels + c, wasm_f32x4_add(t##i##1, t##i##2));            \
  wasm_v128_store(v[4 * (i) + 2] + tile * channels + c, wasm_f32x4_sub(t##i##2, t##i##1));            \
  wasm_v128_store(v[4 * (i) + 3] + tile * channels + c, wasm_f32x4_sub(t##i##1, t##i##3));
          STORE_ROW(0) STORE_ROW(1) STORE_ROW(2) STORE_ROW(3)
#undef D
#undef COLUMN
#undef STORE_ROW
        }
      }
    }
  }
}

// y = Aᵀ M A per tile with Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]], plus bias (if not null) and relu
// (if asked), cropped to [batch, out_height, out_width, filters].
void EXPORT(winograd_output_transform)(float *const *m, const float *bias, int relu, float *y, int batch,
                                       int out_height, int out_width, int filters, int tiles_high, int tiles_wide) {
  int tile = 0;
  for (int n = 0; n < batch; n++) {
    for (int th = 0; th < tiles_high; th++) {
      for (int tw = 0; tw < tiles_wide; tw++, tile++) {
        for (int k = 0; k < filters; k += 4) {
#define M(i, j) wasm_v128_load(m[4 * (i) + (j)] + tile * filters + k)
#define COLUMN(j)                                                                   \
  v128_t s0##j = wasm_f32x4_add(wasm_f32x4_add(M(0, j), M(1, j)), M(2, j));        \
  v128_t s1##j = wasm_f32x4_sub(wasm_f32x4_sub(M(1, j), M(2, j)), M(3, j));
          COLUMN(0) COLUMN(1) COLUMN(2) COLUMN(3)
          v128_t offset = bias ? wasm_v128_load(bias + k) : wasm_f32x4_splat(0.0f);
          v128_t floor = relu ? wasm_f32x4_splat(0.0f) : wasm_f32x4_splat(-__builtin_inff());
#define OUT(i)                                                                                                      \
  {                                                                                                                 \
    int row = 2 * th + (i);                                                                                         \
    if (row < out_height) {                                                                                         \
      float *dst = y + ((n * out_height + row) * out_width + 2 * tw) * filters + k;                                 \
      v128_t y0 = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(s##i##0, s##i##1), s##i##2), offset);                \
      wasm_v128_store(dst, wasm_f32x4_max(y0, floor));                                                              \
      if (2 * tw + 1 < out_width) {                                                                                 \
        v128_t y1 = wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_sub(s##i##1, s##i##2), s##i##3), offset);              \
        wasm_v128_store(dst + filters, wasm_f32x4_max(y1, floor));                                                  \
      }                                                                                                             \
    }                                                                                                               \
  }
          OUT(0) OUT(1)
#undef M
#undef COLUMN
#undef OUT
        }
      }
    }
  }
}
