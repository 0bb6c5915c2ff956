// face_api_to_dlib: converts the TensorFlow.js port of dlib's face recognition ResNet shipped in
// @vladmandic/face-api (model/face_recognition_model.bin + -weights_manifest.json) back into
// dlib's serialized form of go-face's network type (dlib_face_recognition_resnet_model_v1.dat).
//
//   face_api_to_dlib [--net tiny] MANIFEST BIN OUT   convert
//   face_api_to_dlib [--net tiny] --dump MODEL       print every parameter layer, input to output
//
// "--net tiny" selects a small network of the same layer kinds; the tests round-trip it.
// The converter refuses (exit 1, one specific message) any manifest whose tensor names, shapes
// or byte count do not match the network exactly. Its output depends only on its input.
#include <dlib/dnn.h>

#include <cctype>
#include <cstdint>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace dlib;

// The network go-face deserializes (facerec.cc, from dlib's dnn_face_recognition_ex.cpp).
template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual = add_prev1<block<N, BN, 1, tag1<SUBNET>>>;
template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual_down = add_prev2<avg_pool<2, 2, 2, 2, skip1<tag2<block<N, BN, 2, tag1<SUBNET>>>>>>;
template <int N, template <typename> class BN, int stride, typename SUBNET>
using block = BN<con<N, 3, 3, 1, 1, relu<BN<con<N, 3, 3, stride, stride, SUBNET>>>>>;
template <int N, typename SUBNET> using ares = relu<residual<block, N, affine, SUBNET>>;
template <int N, typename SUBNET> using ares_down = relu<residual_down<block, N, affine, SUBNET>>;
template <typename SUBNET> using alevel0 = ares_down<256, SUBNET>;
template <typename SUBNET> using alevel1 = ares<256, ares<256, ares_down<256, SUBNET>>>;
template <typename SUBNET> using alevel2 = ares<128, ares<128, ares_down<128, SUBNET>>>;
template <typename SUBNET> using alevel3 = ares<64, ares<64, ares<64, ares_down<64, SUBNET>>>>;
template <typename SUBNET> using alevel4 = ares<32, ares<32, ares<32, SUBNET>>>;
using anet_type = loss_metric<fc_no_bias<128, avg_pool_everything<alevel0<alevel1<alevel2<alevel3<
    alevel4<max_pool<3, 3, 2, 2, relu<affine<con<32, 7, 7, 2, 2, input_rgb_image_sized<150>>>>>>>>>>>>>;

// Test network: every layer kind of anet_type (strided con, affine, max_pool, residual and
// residual_down with a channel change, avg_pool_everything, fc_no_bias), small enough to check
// value by value.
using tiny_type = loss_metric<fc_no_bias<4, avg_pool_everything<ares_down<8, ares<4,
    max_pool<3, 3, 2, 2, relu<affine<con<4, 5, 5, 2, 2, input_rgb_image_sized<24>>>>>>>>>>;

// face-api's names of the conv+scale units, in the order dlib's layers run from input to output.
static std::vector<std::string> anet_units() {
    std::vector<std::string> u{"conv32_down"};
    auto res = [&u](const std::string& b) { u.push_back(b + "/conv1"); u.push_back(b + "/conv2"); };
    for (auto b : {"conv32_1", "conv32_2", "conv32_3", "conv64_down", "conv64_1", "conv64_2",
                   "conv64_3", "conv128_down", "conv128_1", "conv128_2", "conv256_down",
                   "conv256_1", "conv256_2", "conv256_down_out"})
        res(b);
    return u;
}
static std::vector<std::string> tiny_units() {
    return {"stem", "res4/conv1", "res4/conv2", "down8/conv1", "down8/conv2"};
}

struct fail : std::runtime_error { using std::runtime_error::runtime_error; };

// ---- The subset of JSON a TF.js weights manifest uses. ----
struct json {
    enum kind_t { null, boolean, number, string, array, object } kind = null;
    double num = 0;
    std::string str;
    std::vector<json> arr;
    std::map<std::string, json> obj;
    const json* get(const std::string& k) const {
        auto it = obj.find(k);
        return it == obj.end() ? nullptr : &it->second;
    }
};

class json_parser {
public:
    explicit json_parser(const std::string& s) : s_(s) {}
    json parse() {
        json v = value();
        ws();
        if (i_ != s_.size()) error("trailing characters");
        return v;
    }

private:
    const std::string& s_;
    size_t i_ = 0;
    [[noreturn]] void error(const std::string& what) {
        throw fail("manifest: invalid JSON at byte " + std::to_string(i_) + ": " + what);
    }
    void ws() { while (i_ < s_.size() && std::isspace((unsigned char)s_[i_])) i_++; }
    bool eat(char c) { ws(); if (i_ < s_.size() && s_[i_] == c) { i_++; return true; } return false; }
    void expect(char c) { if (!eat(c)) error(std::string("expected '") + c + "'"); }
    json value() {
        ws();
        if (i_ >= s_.size()) error("unexpected end");
        json v;
        char c = s_[i_];
        if (c == '{') {
            i_++;
            v.kind = json::object;
            if (eat('}')) return v;
            do {
                ws();
                std::string k = str();
                expect(':');
                v.obj[k] = value();
            } while (eat(','));
            expect('}');
        } else if (c == '[') {
            i_++;
            v.kind = json::array;
            if (eat(']')) return v;
            do v.arr.push_back(value()); while (eat(','));
            expect(']');
        } else if (c == '"') {
            v.kind = json::string;
            v.str = str();
        } else if (s_.compare(i_, 4, "true") == 0 || s_.compare(i_, 5, "false") == 0) {
            v.kind = json::boolean;
            v.num = s_[i_] == 't';
            i_ += s_[i_] == 't' ? 4 : 5;
        } else if (s_.compare(i_, 4, "null") == 0) {
            i_ += 4;
        } else {
            const char* start = s_.c_str() + i_;
            char* end = nullptr;
            v.kind = json::number;
            v.num = std::strtod(start, &end);
            if (end == start) error("unexpected character");
            i_ += end - start;
        }
        return v;
    }
    std::string str() {
        if (i_ >= s_.size() || s_[i_] != '"') error("expected string");
        i_++;
        std::string out;
        while (i_ < s_.size() && s_[i_] != '"') {
            if (s_[i_] == '\\') error("escapes are not used in weights manifests");
            out += s_[i_++];
        }
        if (i_ >= s_.size()) error("unterminated string");
        i_++;
        return out;
    }
};

static std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw fail("cannot read " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// ---- Weights: every tensor of the manifest, dequantised, by name. ----
struct weight {
    std::vector<long> shape;
    std::vector<float> values;
    bool used = false;
};

static std::string shape_str(const std::vector<long>& s) {
    std::string out = "[";
    for (size_t i = 0; i < s.size(); i++) out += (i ? "," : "") + std::to_string(s[i]);
    return out + "]";
}

static std::map<std::string, weight> load_weights(const std::string& manifest_path,
                                                  const std::string& bin_path) {
    const json m = json_parser(read_file(manifest_path)).parse();
    const std::string bin = read_file(bin_path);
    if (m.kind != json::array || m.arr.size() != 1)
        throw fail("manifest: expected one weights group, found " +
                   std::to_string(m.kind == json::array ? m.arr.size() : 0));
    const json* ws = m.arr[0].get("weights");
    if (!ws || ws->kind != json::array) throw fail("manifest: no \"weights\" list");

    std::map<std::string, weight> out;
    size_t off = 0;
    for (const json& w : ws->arr) {
        const json* name = w.get("name");
        const json* shape = w.get("shape");
        const json* dtype = w.get("dtype");
        if (!name || name->kind != json::string || !shape || shape->kind != json::array || !dtype)
            throw fail("manifest: a tensor lacks name, shape or dtype");
        const std::string& n = name->str;
        if (dtype->str != "float32")
            throw fail("manifest: tensor " + n + " has dtype " + dtype->str + ", expected float32");
        weight t;
        size_t count = 1;
        for (const json& d : shape->arr) {
            if (d.kind != json::number || d.num < 1 || d.num != (long)d.num)
                throw fail("manifest: tensor " + n + " has an invalid dimension");
            t.shape.push_back((long)d.num);
            count *= (size_t)d.num;
        }
        const json* q = w.get("quantization");
        size_t bytes_per = 4;
        double scale = 0, min = 0;
        if (q) {
            const json* qd = q->get("dtype");
            const json* qs = q->get("scale");
            const json* qm = q->get("min");
            if (!qd || qd->str != "uint8" || !qs || qs->kind != json::number || !qm ||
                qm->kind != json::number)
                throw fail("manifest: tensor " + n + " has a quantization other than uint8 scale/min");
            bytes_per = 1;
            scale = qs->num;
            min = qm->num;
        }
        if (off + count * bytes_per > bin.size())
            throw fail("bin: " + bin_path + " has " + std::to_string(bin.size()) +
                       " bytes; tensor " + n + " needs bytes " + std::to_string(off) + ".." +
                       std::to_string(off + count * bytes_per) + " (truncated?)");
        t.values.resize(count);
        const auto* p = reinterpret_cast<const unsigned char*>(bin.data() + off);
        for (size_t i = 0; i < count; i++) {
            if (bytes_per == 1) {
                // TF.js dequantises in double (JS numbers) and stores float32: do the same.
                t.values[i] = (float)(min + scale * p[i]);
            } else {
                uint32_t u = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
                             (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
                std::memcpy(&t.values[i], &u, 4);
            }
        }
        off += count * bytes_per;
        if (!out.emplace(n, std::move(t)).second) throw fail("manifest: tensor " + n + " appears twice");
    }
    if (off != bin.size())
        throw fail("bin: " + bin_path + " has " + std::to_string(bin.size()) +
                   " bytes, the manifest describes " + std::to_string(off));
    return out;
}

// ---- Loading weights into a network, visiting its layers from input to output. ----
class weight_loader {
public:
    weight_loader(std::map<std::string, weight>& w, std::vector<std::string> units)
        : w_(w), units_(std::move(units)) {}

    template <typename T, typename U, typename E>
    void operator()(size_t, add_layer<T, U, E>& l) { load(l.layer_details()); }
    template <typename T>
    void operator()(size_t, T&) {}  // input, tag, skip and loss layers: no parameters

    // Every unit and every manifest tensor must have been used exactly once.
    void finish() {
        if (next_ != units_.size() || pending_affine_)
            throw fail("network: only " + std::to_string(next_) + " of " +
                       std::to_string(units_.size()) + " conv units were loaded");
        if (!fc_done_) throw fail("network: no fc layer was loaded");
        for (auto& kv : w_)
            if (!kv.second.used) throw fail("manifest: tensor " + kv.first + " is not part of the network");
    }

    size_t param_layers() const { return layers_; }

private:
    std::map<std::string, weight>& w_;
    std::vector<std::string> units_;
    size_t next_ = 0, layers_ = 0;
    bool pending_affine_ = false, fc_done_ = false;

    const weight& take(const std::string& name, const std::vector<long>& want) {
        auto it = w_.find(name);
        if (it == w_.end()) throw fail("manifest: missing tensor " + name);
        if (it->second.shape != want)
            throw fail("manifest: tensor " + name + " has shape " + shape_str(it->second.shape) +
                       ", the network needs " + shape_str(want));
        it->second.used = true;
        return it->second;
    }

    template <long nf, long nr, long nc, int sy, int sx, int py, int px>
    void load(con_<nf, nr, nc, sy, sx, py, px>& l) {
        if (pending_affine_ || next_ >= units_.size())
            throw fail("network: unexpected con layer (unit " + std::to_string(next_) + ")");
        const std::string& u = units_[next_];
        tensor& p = l.get_layer_params();
        const long k = ((long)p.size() - nf) / (nf * nr * nc);  // input channels
        if (l.bias_is_disabled() || k * nf * nr * nc + nf != (long)p.size())
            throw fail("network: " + u + " has an unexpected parameter layout");
        const weight& f = take(u + "/conv/filters", {nr, nc, k, nf});
        const weight& b = take(u + "/conv/bias", {nf});
        float* d = p.host();
        // TF [h,w,in,out] -> dlib [out,in,h,w], then the bias.
        for (long o = 0; o < nf; o++)
            for (long i = 0; i < k; i++)
                for (long y = 0; y < nr; y++)
                    for (long x = 0; x < nc; x++)
                        *d++ = f.values[((y * nc + x) * k + i) * nf + o];
        for (long o = 0; o < nf; o++) *d++ = b.values[o];
        pending_affine_ = true;
        layers_++;
    }

    void load(affine_& l) {
        if (!pending_affine_) throw fail("network: affine layer without a con before it");
        if (l.get_mode() != CONV_MODE) throw fail("network: affine layer not in CONV_MODE");
        const std::string& u = units_[next_];
        auto g = l.get_gamma();
        auto b = l.get_beta();
        const weight& gw = take(u + "/scale/weights", {(long)g.size()});
        const weight& bw = take(u + "/scale/biases", {(long)b.size()});
        std::memcpy(g.host(), gw.values.data(), g.size() * sizeof(float));
        std::memcpy(b.host(), bw.values.data(), b.size() * sizeof(float));
        pending_affine_ = false;
        next_++;
        layers_++;
    }

    template <unsigned long no, fc_bias_mode bm>
    void load(fc_<no, bm>& l) {
        if (bm != FC_NO_BIAS) throw fail("network: fc layer with a bias");
        if (fc_done_ || pending_affine_) throw fail("network: unexpected fc layer");
        tensor& p = l.get_layer_params();
        // dlib's fc params are inputs x outputs and the output is x·W, as in TF: copy as is.
        const weight& w = take("fc", {(long)(p.size() / no), (long)no});
        std::memcpy(p.host(), w.values.data(), p.size() * sizeof(float));
        fc_done_ = true;
        layers_++;
    }

    template <typename L>
    void load(L& l) {
        if (l.get_layer_params().size() != 0)
            throw fail("network: a parameter layer of a kind the converter does not know");
    }
};

// Allocates every layer's parameters the way dlib does (one forward pass) with affine layers in
// CONV_MODE, as in dlib's published model.
template <typename net_type>
static void prepare(net_type& net, long size) {
    visit_computational_layers(net, [](affine_& l) { l = affine_(CONV_MODE); });
    matrix<rgb_pixel> img(size, size);
    assign_all_pixels(img, rgb_pixel(0, 0, 0));
    net(img);
}

template <typename net_type>
static int convert(const std::vector<std::string>& units, long size, const std::string& manifest,
                   const std::string& bin, const std::string& out) {
    auto w = load_weights(manifest, bin);
    net_type net;
    prepare(net, size);
    weight_loader loader(w, units);
    visit_layers_backwards(net, std::ref(loader));
    loader.finish();
    net.clean();  // drop the activations of the set-up pass: only parameters go to disk
    const std::string tmp = out + ".part";
    serialize(tmp) << net;
    if (std::rename(tmp.c_str(), out.c_str()) != 0) throw fail("cannot rename " + tmp + " to " + out);
    std::cerr << "face_api_to_dlib: " << loader.param_layers() << " parameter layers, " << w.size()
              << " tensors -> " << out << "\n";
    return 0;
}

// Prints one line per parameter layer, input to output: kind, dlib's shape, then every value
// (%.9g: exact for float32) in dlib's memory order.
struct dumper {
    template <typename T, typename U, typename E>
    void operator()(size_t, add_layer<T, U, E>& l) { dump(l.layer_details()); }
    template <typename T>
    void operator()(size_t, T&) {}

    static void values(const float* p, size_t n) {
        for (size_t i = 0; i < n; i++) std::printf(" %.9g", p[i]);
        std::printf("\n");
    }
    template <long nf, long nr, long nc, int sy, int sx, int py, int px>
    void dump(con_<nf, nr, nc, sy, sx, py, px>& l) {
        const tensor& p = l.get_layer_params();
        std::printf("con %ld %ld %ld %ld", nf, (long)(p.size() - nf) / nf / (nr * nc), nr, nc);
        values(p.host(), p.size());
    }
    void dump(affine_& l) {
        auto g = l.get_gamma();
        auto b = l.get_beta();
        std::printf("affine %ld", (long)g.size());
        values(g.host(), g.size());
        std::printf("affine_beta %ld", (long)b.size());
        values(b.host(), b.size());
    }
    template <unsigned long no, fc_bias_mode bm>
    void dump(fc_<no, bm>& l) {
        const tensor& p = l.get_layer_params();
        std::printf("fc %ld %lu", (long)(p.size() / no), no);
        values(p.host(), p.size());
    }
    template <typename L>
    void dump(L&) {}
};

template <typename net_type>
static int dump(const std::string& model) {
    net_type net;
    deserialize(model) >> net;
    visit_layers_backwards(net, dumper());
    return 0;
}

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    bool tiny = false;
    if (args.size() >= 2 && args[0] == "--net") {
        if (args[1] != "tiny") {
            std::cerr << "face_api_to_dlib: unknown --net " << args[1] << "\n";
            return 2;
        }
        tiny = true;
        args.erase(args.begin(), args.begin() + 2);
    }
    try {
        if (args.size() == 2 && args[0] == "--dump")
            return tiny ? dump<tiny_type>(args[1]) : dump<anet_type>(args[1]);
        if (args.size() == 3)
            return tiny ? convert<tiny_type>(tiny_units(), 24, args[0], args[1], args[2])
                        : convert<anet_type>(anet_units(), 150, args[0], args[1], args[2]);
    } catch (const std::exception& e) {
        std::cerr << "face_api_to_dlib: " << e.what() << "\n";
        return 1;
    }
    std::cerr << "usage: face_api_to_dlib [--net tiny] MANIFEST BIN OUT\n"
                 "       face_api_to_dlib [--net tiny] --dump MODEL\n";
    return 2;
}
