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
// stages_landmarks runs the 5-point shape predictor on a box; out gets 10 coordinates.
int stages_landmarks(stages* s, long l, long t, long r, long b, long* out, char** err);
// stages_descriptor cuts the 150 px chip for the 5 points and runs the network.
int stages_descriptor(stages* s, const long* pts, float* out, char** err);
void stages_free(stages* s);
#ifdef __cplusplus
}
#endif
