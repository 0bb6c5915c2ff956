#pragma once
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
typedef struct hog_detector hog_detector;
// hog_new builds dlib's frontal face detector (its weights are compiled into dlib).
hog_detector* hog_new(void);
// ycbcr is a w×h YCbCr image as Go's image.YCbCr holds it, its planes from its first pixel
// on. Luma pixel (x, y) lies at (x + ox, y + oy) in the source image, and its chroma sample is
// ((x + ox) >> cshift_x) - (ox >> cshift_x) (and likewise for y) from the plane's start.
typedef struct {
	const uint8_t *y, *cb, *cr;
	int w, h, y_stride, c_stride, ox, oy, cshift_x, cshift_y;
} ycbcr;
// ycbcr_to_rgb writes img as packed RGB (3·w·h bytes), converting as Go's color.YCbCrToRGB.
void ycbcr_to_rgb(const ycbcr* img, uint8_t* rgb);
// hog_detect runs the detector on img converted to RGB; up to max boxes go to out as left,
// top, right, bottom quadruples and *n gets how many faces were found (which may exceed max).
// It returns 0, or -1 with *err set (free with free()). Safe for concurrent use.
int hog_detect(hog_detector* d, const ycbcr* img, long* out, int max, int* n, char** err);
void hog_free(hog_detector* d);
#ifdef __cplusplus
}
#endif
