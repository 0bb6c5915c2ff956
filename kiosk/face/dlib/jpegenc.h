#pragma once
#include <stddef.h>
#include <stdint.h>
// ikd_encode_ycbcr encodes a planar YCbCr image (chroma subsampled by 1<<sx horizontally
// and 1<<sy vertically, planes addressed like Go's image.YCbCr with its Rect.Min at
// (minx, miny)) as a baseline JPEG with libjpeg. On success it returns 0 and a malloc'd
// buffer in *out (free with free()); on failure it returns -1 and writes a message to err.
int ikd_encode_ycbcr(const uint8_t* y, int ystride, const uint8_t* cb, const uint8_t* cr, int cstride,
                     int minx, int miny, int w, int h, int sx, int sy, int quality,
                     unsigned char** out, unsigned long* outlen, char* err, size_t errlen);
