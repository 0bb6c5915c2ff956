package face

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ikd-field/ikd/kiosk"
)

// ModernFile is the modern engine's model file in the model directory (build/models.sh puts
// fr_feature.onnx from npm's faceplugin-face-recognition-js there).
const ModernFile = "fr_feature.onnx"

// ModelsListFile is the operator's models file in the model directory: the ArcFace-style
// 112×112 ONNX models they admit, by SHA-256 and licence (see ReadModelsList).
const ModelsListFile = "models.list"

// EngineDlib names dlib's engine in template identities.
const EngineDlib = "dlib-resnet-v1"

// EnginePrefix starts a modern template's identity: the network's input (112×112 ArcFace) and
// the version of the crop AlignArcFace cuts for it (2: area-reduced before the warp). A change
// to the crop changes every template, so it takes a new version: a kiosk never compares a
// template with one cut another way.
const EnginePrefix = "arcface112-crop2:"

// ModernModel is what is known of the modern engine's model file.
type ModernModel struct {
	// Engine is the template identity: EnginePrefix and the first 16 hex digits of the
	// file's SHA-256. Templates of different identities are never compared.
	Engine  string
	File    string
	Path    string
	SHA256  string
	Class   kiosk.ModelClass // published (known to the project), operator (listed) or unknown
	Licence kiosk.Licence
	Source  string
	// Thresholds are the model's own (cosine similarity); unset, it does not decide.
	Thresholds kiosk.ModernThresholds
}

// FRFeatureThresholds are fr_feature.onnx's thresholds, fitted on the shared East Asian
// photos (the harder of the populations served) by kiosk/face/match/cmd/calibfused: Match
// where a normal fitted to the impostor similarities puts the false-match rate at 1e-3,
// NoMatch where one fitted to the genuine similarities puts the false-non-match rate at 1%.
// BENCHMARKS.md ("Two face engines") has the people-disjoint error rates.
var FRFeatureThresholds = kiosk.ModernThresholds{Match: 0.56, NoMatch: 0.24}

// knownModern is the project's own table of modern models, by SHA-256.
var knownModern = map[string]ModernModel{
	// npm faceplugin-face-recognition-js@0.0.1, package/model/fr_feature.onnx
	// (MobileFaceNet-like, 512-d). The vendor's repository says MIT; the training data of
	// the weights is not stated, so the licence is unverified until an operator clears it.
	"87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581": {File: ModernFile,
		Class: kiosk.ModelPublished, Licence: kiosk.LicenceUnverified,
		Source:     "npm faceplugin-face-recognition-js@0.0.1 fr_feature.onnx (licence of weights unverified)",
		Thresholds: FRFeatureThresholds},
}

// ModelsListEntry is one line of the operator's models file.
type ModelsListEntry struct {
	SHA256     string
	Licence    string // an SPDX id (the operator cleared it) or "unverified"
	File       string
	Thresholds kiosk.ModernThresholds
	Source     string // free text
}

// ErrModelsList: a line of the operator's models file cannot be read.
var ErrModelsList = errors.New("models file")

// ReadModelsList parses the operator's models file: one model a line,
//
//	<sha256 hex> <licence> <file name> [match=<cos> no_match=<cos>] [source text...]
//
// blank lines and lines starting with # are ignored. licence is an SPDX identifier (for
// example Apache-2.0: the operator has cleared it) or "unverified". match and no_match are
// the model's cosine-similarity thresholds, which the operator fitted (calibfused prints
// them); a model listed without them is measured and shown but does not decide.
func ReadModelsList(r io.Reader) ([]ModelsListEntry, error) {
	var out []ModelsListEntry
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			return nil, fmt.Errorf("%w: line %d: want <sha256> <licence> <file> [source]", ErrModelsList, n)
		}
		sum := strings.ToLower(f[0])
		if b, err := hex.DecodeString(sum); err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("%w: line %d: %q is not a SHA-256 in hex", ErrModelsList, n, f[0])
		}
		if f[2] != filepath.Base(f[2]) || !strings.HasSuffix(f[2], ".onnx") {
			return nil, fmt.Errorf("%w: line %d: %q is not an .onnx file name in the model directory", ErrModelsList, n, f[2])
		}
		e := ModelsListEntry{SHA256: sum, Licence: f[1], File: f[2]}
		rest := f[3:]
		for len(rest) > 0 {
			k, v, ok := strings.Cut(rest[0], "=")
			if !ok || (k != "match" && k != "no_match") {
				break
			}
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(x) {
				return nil, fmt.Errorf("%w: line %d: %s is not a number", ErrModelsList, n, rest[0])
			}
			if k == "match" {
				e.Thresholds.Match = x
			} else {
				e.Thresholds.NoMatch = x
			}
			rest = rest[1:]
		}
		if (kiosk.FaceThresholds{Modern: e.Thresholds}).Validate() != nil || (e.Thresholds.Match > 0) != (e.Thresholds.NoMatch != 0) {
			return nil, fmt.Errorf("%w: line %d: need both match and no_match, -1 ≤ no_match ≤ match ≤ 1", ErrModelsList, n)
		}
		e.Source = strings.Join(rest, " ")
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrModelsList, err)
	}
	return out, nil
}

// CheckModernModel finds the modern model in dir: the first file of the operator's models
// file that is present, else ModernFile. Its class and licence come from the project's table,
// else from the operator's entry, else it is unknown (and may never decide a match). A
// missing file is a *ModelError wrapping ErrModelMissing.
func CheckModernModel(dir string) (ModernModel, error) {
	var list []ModelsListEntry
	if f, err := os.Open(filepath.Join(dir, ModelsListFile)); err == nil {
		list, err = ReadModelsList(f)
		f.Close()
		if err != nil {
			return ModernModel{}, fmt.Errorf("%s: %w", filepath.Join(dir, ModelsListFile), err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return ModernModel{}, fmt.Errorf("%s: %w", ModelsListFile, err)
	}
	file := ModernFile
	for _, e := range list {
		if _, err := os.Stat(filepath.Join(dir, e.File)); err == nil {
			file = e.File
			break
		}
	}
	path := filepath.Join(dir, file)
	info, err := checkModelFile(path)
	if err != nil {
		return ModernModel{}, &ModelError{File: file, Path: path, Err: err}
	}
	m := ModernModel{File: file, Path: path, SHA256: info.SHA256, Class: kiosk.ModelUnknown, Licence: kiosk.LicenceUnverified}
	if k, ok := knownModern[info.SHA256]; ok {
		m.Class, m.Licence, m.Source, m.Thresholds = k.Class, k.Licence, k.Source, k.Thresholds
	}
	for _, e := range list {
		if e.SHA256 == info.SHA256 {
			m.Class, m.Source = kiosk.ModelOperator, e.Source
			if e.Thresholds.Match > 0 || m.Thresholds.Match == 0 {
				m.Thresholds = e.Thresholds
			}
			if e.Licence != string(kiosk.LicenceUnverified) {
				m.Licence = kiosk.LicenceCleared
			}
			if m.Source == "" {
				m.Source = "operator's " + ModelsListFile
			}
			break
		}
	}
	m.Engine = EnginePrefix + info.SHA256[:16]
	return m, nil
}
