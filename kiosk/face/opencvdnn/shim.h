// A minimal C face of OpenCV's DNN module: load one ONNX network, run it on one float32
// NCHW tensor. Errors come back as text in err (a NUL-terminated buffer of errlen bytes).
#ifndef IKD_OPENCVDNN_SHIM_H
#define IKD_OPENCVDNN_SHIM_H
#ifdef __cplusplus
extern "C" {
#endif

typedef struct ikd_net ikd_net;

ikd_net *ikd_net_load(const char *path, char *err, int errlen);
// ikd_net_run feeds in (n*c*h*w floats, NCHW) and copies at most outlen outputs into out. It
// returns the number of outputs the network produced, or -1 with err set.
int ikd_net_run(ikd_net *net, const float *in, int n, int c, int h, int w, float *out, int outlen, char *err, int errlen);
void ikd_net_free(ikd_net *net);

#ifdef __cplusplus
}
#endif
#endif
