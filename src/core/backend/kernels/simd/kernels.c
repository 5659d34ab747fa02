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
