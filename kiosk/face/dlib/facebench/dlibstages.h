#pragma once
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
typedef struct stages stages;
// stages_load reads the landmark and recognition models; on failure it returns NULL and
// sets *err (free with free()).
stages* stages_load(const char* shape_predictor, const char* recognition, char** err);
// stages_set_image copies a packed RGB image for the following calls.
void stages_set_image(stages* s, const uint8_t* rgb, int w, int h);
// stages_landmarks runs the shape predictor (5 or 68 points) on a box; *n gets the number of
// points and out (room for 68) their 2*n coordinates.
int stages_landmarks(stages* s, long l, long t, long r, long b, long* out, int* n, char** err);
// stages_descriptor cuts the 150 px chip for the n points and runs the network.
int stages_descriptor(stages* s, const long* pts, int n, float* out, char** err);
void stages_free(stages* s);
#ifdef __cplusplus
}
#endif
