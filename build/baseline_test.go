// Tests for the release tooling: the compiler wrappers and the instruction-set check.
package build_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
}

func TestWrapperRewritesNativeTargets(t *testing.T) {
	needTools(t, "sh")
	for _, tc := range []struct {
		name, script, realVar, baseline string
		args                            []string
		want                            string
	}{
		{"CXXNative", "cxx-baseline.sh", "IKD_REAL_CXX", "", []string{"-O3", "-march=native", "-c", "x.cc"}, "-O3 -march=x86-64-v2 -c x.cc"},
		{"CXXTuneAndCPU", "cxx-baseline.sh", "IKD_REAL_CXX", "", []string{"-mtune=native", "-mcpu=native"}, "-mtune=generic -march=x86-64-v2"},
		{"CNative", "cc-baseline.sh", "IKD_REAL_CC", "", []string{"-march=native", "a.c"}, "-march=x86-64-v2 a.c"},
		{"OtherBaseline", "cxx-baseline.sh", "IKD_REAL_CXX", "x86-64-v3", []string{"-march=native"}, "-march=x86-64-v3"},
		{"ExplicitTargetKept", "cxx-baseline.sh", "IKD_REAL_CXX", "", []string{"-march=haswell", "-O2"}, "-march=haswell -O2"},
		{"ArgumentWithSpaces", "cxx-baseline.sh", "IKD_REAL_CXX", "", []string{"-DNAME=a b"}, "-DNAME=a b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command("./"+tc.script, tc.args...)
			// An empty IKD_BASELINE selects the default.
			cmd.Env = append(os.Environ(), tc.realVar+"=echo", "IKD_BASELINE="+tc.baseline)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if got := strings.TrimSpace(string(out)); got != tc.want {
				t.Fatalf("real compiler got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCheckBaseline compiles one program with AVX2 and one for the baseline: the check must
// fail the first and pass the second.
func TestCheckBaseline(t *testing.T) {
	needTools(t, "gcc", "objdump", "awk")
	dir := t.TempDir()
	src := filepath.Join(dir, "sum.c")
	code := `
float sum(const float* a, int n) { float s = 0; for (int i = 0; i < n; i++) s += a[i] * a[i]; return s; }
int main(int argc, char** argv) { float a[64]; for (int i = 0; i < 64; i++) a[i] = argc + i; return (int)sum(a, 64) + __builtin_popcount(argc); }
`
	if err := os.WriteFile(src, []byte(code), 0o600); err != nil {
		t.Fatal(err)
	}
	build := func(name string, flags ...string) string {
		bin := filepath.Join(dir, name)
		args := append(append([]string{"-O3"}, flags...), "-o", bin, src)
		if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
			t.Fatalf("gcc %v: %v\n%s", args, err, out)
		}
		return bin
	}
	for _, tc := range []struct {
		name  string
		flags []string
		pass  bool
	}{
		{"AVX2FMA", []string{"-mavx2", "-mfma"}, false},
		{"AVX512", []string{"-mavx512f"}, false},
		{"Baseline", []string{"-march=x86-64-v2"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := exec.Command("./check-baseline.sh", build(tc.name, tc.flags...)).CombinedOutput()
			if (err == nil) != tc.pass {
				t.Fatalf("check passed=%v, want %v\n%s", err == nil, tc.pass, out)
			}
			if !tc.pass && !strings.Contains(string(out), "sum") {
				t.Fatalf("report does not name the function:\n%s", out)
			}
		})
	}
	if out, err := exec.Command("./check-baseline.sh").CombinedOutput(); err == nil || !strings.Contains(string(out), "usage") {
		t.Fatalf("no arguments: %v %s", err, out)
	}
}
