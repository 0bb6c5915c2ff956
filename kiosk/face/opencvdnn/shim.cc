#include "shim.h"

#include <cstring>
#include <exception>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

struct ikd_net {
  cv::dnn::Net net;
};

static void set_err(char *err, int errlen, const char *msg) {
  if (errlen <= 0) return;
  std::strncpy(err, msg, errlen - 1);
  err[errlen - 1] = 0;
}

extern "C" ikd_net *ikd_net_load(const char *path, char *err, int errlen) {
  try {
    // One thread: the kiosk runs dlib beside it on a small CPU, and the network is small.
    cv::setNumThreads(1);
    ikd_net *n = new ikd_net;
    n->net = cv::dnn::readNetFromONNX(path);
    if (n->net.empty()) {
      delete n;
      set_err(err, errlen, "OpenCV read an empty network");
      return nullptr;
    }
    n->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    n->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    return n;
  } catch (const std::exception &e) {
    set_err(err, errlen, e.what());
  } catch (...) {
    set_err(err, errlen, "unknown C++ exception");
  }
  return nullptr;
}

extern "C" int ikd_net_run(ikd_net *n, const float *in, int b, int c, int h, int w, float *out, int outlen,
                           char *err, int errlen) {
  try {
    int dims[4] = {b, c, h, w};
    cv::Mat blob(4, dims, CV_32F, const_cast<float *>(in));
    n->net.setInput(blob);
    cv::Mat res = n->net.forward();
    if (res.type() != CV_32F || !res.isContinuous()) res = res.clone(), res.convertTo(res, CV_32F);
    int total = static_cast<int>(res.total());
    std::memcpy(out, res.ptr<float>(), sizeof(float) * (total < outlen ? total : outlen));
    return total;
  } catch (const std::exception &e) {
    set_err(err, errlen, e.what());
  } catch (...) {
    set_err(err, errlen, "unknown C++ exception");
  }
  return -1;
}

extern "C" void ikd_net_free(ikd_net *n) { delete n; }
