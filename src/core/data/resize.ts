/**
 * Bilinear image resizing with half-pixel centres (as tf.image.resizeBilinear with
 * halfPixelCenters): an image resized to its own size is copied exactly, and no source pixel is
 * favoured. It does not low-pass filter, so large reductions alias; fine for the small images
 * classifiers here are trained on.
 */
export function resizeBilinear(
  src: Uint8Array,
  [inHeight, inWidth, inChannels]: [number, number, number],
  dst: Uint8Array,
  dstStart: number,
  [outHeight, outWidth, outChannels]: [number, number, number],
): void {
  const scaleY = inHeight / outHeight;
  const scaleX = inWidth / outWidth;
  let out = dstStart;
  for (let y = 0; y < outHeight; y++) {
    const sy = Math.min(Math.max((y + 0.5) * scaleY - 0.5, 0), inHeight - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, inHeight - 1);
    const fy = sy - y0;
    for (let x = 0; x < outWidth; x++) {
      const sx = Math.min(Math.max((x + 0.5) * scaleX - 0.5, 0), inWidth - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, inWidth - 1);
      const fx = sx - x0;
      const i00 = (y0 * inWidth + x0) * inChannels;
      const i01 = (y0 * inWidth + x1) * inChannels;
      const i10 = (y1 * inWidth + x0) * inChannels;
      const i11 = (y1 * inWidth + x1) * inChannels;
      for (let c = 0; c < outChannels; c++) {
        const top = src[i00 + c] + (src[i01 + c] - src[i00 + c]) * fx;
        const bottom = src[i10 + c] + (src[i11 + c] - src[i10 + c]) * fx;
        dst[out++] = Math.round(top + (bottom - top) * fy);
      }
    }
  }
}
