package ui

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/assets"
	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/store"
	kioskToken "github.com/ikd-field/ikd/kiosk/token"
	ikdsync "github.com/ikd-field/ikd/sync"
)

// Every message key the UI uses (every "ui." literal in its sources) exists in both languages.
func TestUIKeysInBothLanguages(t *testing.T) {
	keys := uiKeys(t)
	if len(keys) < 50 {
		t.Fatalf("found only %d keys; is the scan broken?", len(keys))
	}
	for _, lang := range []string{"id", "en"} {
		c, err := assets.LoadCatalog(lang)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if c[k] == "" {
				t.Errorf("%s: key %q is missing", lang, k)
			}
		}
	}
}

func uiKeys(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err == nil && strings.HasPrefix(s, "ui.") {
				seen[s] = true
			}
			return true
		})
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// shownErrors are the exported *kiosk.Error values the UI can show, by package and name.
// TestErrorsHaveMessages checks the list against the sources, so a new error is not missed.
var shownErrors = map[string]map[string]*kiosk.Error{
	"kiosk": {
		"ErrNotFound": kiosk.ErrNotFound, "ErrResidentNotFound": kiosk.ErrResidentNotFound,
		"ErrResidentInactive": kiosk.ErrResidentInactive, "ErrNoReference": kiosk.ErrNoReference,
		"ErrAlreadyActivated": kiosk.ErrAlreadyActivated, "ErrAlreadyDeactivated": kiosk.ErrAlreadyDeactivated,
		"ErrReasonRequired": kiosk.ErrReasonRequired, "ErrEyeCheckRequired": kiosk.ErrEyeCheckRequired,
		"ErrFaceNotMatched": kiosk.ErrFaceNotMatched, "ErrPermission": kiosk.ErrPermission,
		"ErrNIKLength": kiosk.ErrNIKLength, "ErrNIKProvince": kiosk.ErrNIKProvince, "ErrNIKRegion": kiosk.ErrNIKRegion,
		"ErrNIKBirthDate": kiosk.ErrNIKBirthDate, "ErrNIKSerial": kiosk.ErrNIKSerial,
		"ErrReissuePending": kiosk.ErrReissuePending, "ErrReissueNoRegistration": kiosk.ErrReissueNoRegistration,
	},
	"kiosk/token": {
		"ErrNotIKD": kioskToken.ErrNotIKD, "ErrUnsupportedVersion": kioskToken.ErrUnsupportedVersion,
		"ErrDamaged": kioskToken.ErrDamaged, "ErrCriticalHeader": kioskToken.ErrCriticalHeader,
		"ErrUnknownKey": kioskToken.ErrUnknownKey, "ErrKeyNotValid": kioskToken.ErrKeyNotValid,
		"ErrBadSignature": kioskToken.ErrBadSignature, "ErrExpired": kioskToken.ErrExpired,
		"ErrNotYetValid": kioskToken.ErrNotYetValid, "ErrLifetimeTooLong": kioskToken.ErrLifetimeTooLong,
		"ErrNIKInvalid":   kioskToken.ErrNIKInvalid,
		"ErrInvalidEmail": kioskToken.ErrInvalidEmail, "ErrInvalidPhone": kioskToken.ErrInvalidPhone,
	},
	"kiosk/store": {
		"ErrRolledBack": store.ErrRolledBack, "ErrNoSealer": store.ErrNoSealer, "ErrAuditBroken": store.ErrAuditBroken,
		"ErrPlainNIK": store.ErrPlainNIK, "ErrWeakKDF": store.ErrWeakKDF, "ErrWrongSecret": store.ErrWrongSecret,
		"ErrNotKioskStore": store.ErrNotKioskStore, "ErrNewerSchema": store.ErrNewerSchema,
		"ErrStoreExists": store.ErrStoreExists, "ErrStoreMissing": store.ErrStoreMissing, "ErrCorrupt": store.ErrCorrupt,
		"ErrDiskFull": store.ErrDiskFull, "ErrReadOnly": store.ErrReadOnly, "ErrBusy": store.ErrBusy,
		"ErrNeedsMigration": store.ErrNeedsMigration,
		"ErrImportRejected": store.ErrImportRejected, "ErrTampered": store.ErrTampered,
		"ErrBadCredentials": store.ErrBadCredentials, "ErrLockedOut": store.ErrLockedOut,
		"ErrNeedsUnlock": store.ErrNeedsUnlock, "ErrOfficerDisabled": store.ErrOfficerDisabled,
		"ErrOfficerExists": store.ErrOfficerExists, "ErrWeakPIN": store.ErrWeakPIN,
		"ErrGuessablePIN": store.ErrGuessablePIN, "ErrInvalidOfficer": store.ErrInvalidOfficer,
		"ErrDuplicateRecord": store.ErrDuplicateRecord, "ErrInvalidRecord": store.ErrInvalidRecord,
		"ErrUnknownRecord": store.ErrUnknownRecord, "ErrWrongKiosk": store.ErrWrongKiosk,
		"ErrWeakSecret": store.ErrWeakSecret, "ErrInvalidRegistryKey": store.ErrInvalidRegistryKey,
		"ErrKeyConflict":        store.ErrKeyConflict,
		"ErrUnsafeResidentText": store.ErrUnsafeResidentText,
	},
	"camera": {
		"ErrNoCamera": asErr(camera.ErrNoCamera), "ErrDeviceGone": asErr(camera.ErrDeviceGone),
		"ErrCameraBusy": asErr(camera.ErrCameraBusy), "ErrCameraPermission": asErr(camera.ErrCameraPermission),
		"ErrUnsupportedCamera": asErr(camera.ErrUnsupportedCamera), "ErrBadFrames": asErr(camera.ErrBadFrames),
	},
	"kiosk/face": {
		"ErrLivenessFrozen": face.ErrLivenessFrozen, "ErrLivenessTimeout": face.ErrLivenessTimeout,
		"ErrLivenessWrongTurn": face.ErrLivenessWrongTurn, "ErrLivenessInconsistent": face.ErrLivenessInconsistent,
	},
	"kiosk/app": {
		"ErrLocked": app.ErrLocked, "ErrSessionLocked": app.ErrSessionLocked, "ErrNoCamera": app.ErrNoCamera,
		"ErrFaceUnavailable": app.ErrFaceUnavailable, "ErrNoModels": app.ErrNoModels, "ErrNotEnrolled": app.ErrNotEnrolled, "ErrSettings": app.ErrSettings,
		"ErrThresholdsLooser": app.ErrThresholdsLooser, "ErrRejectNote": app.ErrRejectNote, "ErrRejectReason": app.ErrRejectReason,
	},
	"sync": {
		"ErrSyncFailed": ikdsync.ErrSyncFailed, "ErrUnknownCode": ikdsync.ErrUnknownCode,
		// The USB stick's refusals (ikdctl bundle ...).
		"ErrBundleMalformed": ikdsync.ErrBundleMalformed, "ErrBundleTruncated": ikdsync.ErrBundleTruncated,
		"ErrBundleTampered": ikdsync.ErrBundleTampered, "ErrBundleForeignKey": ikdsync.ErrBundleForeignKey,
		"ErrBundleOtherKiosk": ikdsync.ErrBundleOtherKiosk, "ErrBundleWrongRegistry": ikdsync.ErrBundleWrongRegistry,
		"ErrBundleWrongArea": ikdsync.ErrBundleWrongArea, "ErrBundleOld": ikdsync.ErrBundleOld,
		"ErrBundleReplayed": ikdsync.ErrBundleReplayed, "ErrBundleGap": ikdsync.ErrBundleGap,
	},
}

// asErr unwraps the camera's sentinels, which are declared as error.
func asErr(err error) *kiosk.Error {
	e, _ := err.(*kiosk.Error)
	return e
}

// Every *kiosk.Error the UI can show has an officer-facing message in both languages: the
// exported ones of kiosk, kiosk/token, kiosk/store, camera, kiosk/face, kiosk/app and sync (whose registry codes are all in
// sync.Codes), found in the sources so that one added later is covered or the test says so.
func TestErrorsHaveMessages(t *testing.T) {
	root := filepath.Join("..", "..")
	for pkg, known := range shownErrors {
		for _, name := range exportedErrorVars(t, filepath.Join(root, pkg)) {
			if _, ok := known[name]; ok {
				continue
			}
			if pkg == "sync" && inCodes(t, filepath.Join(root, pkg), name) {
				continue
			}
			t.Errorf("%s.%s is not in shownErrors; add it so its message is checked", pkg, name)
		}
	}
	all := append([]*kiosk.Error{}, ikdsync.Codes...)
	for _, known := range shownErrors {
		for _, e := range known {
			all = append(all, e)
		}
	}
	for _, e := range all {
		if e == nil || e.Code == "" {
			t.Errorf("an error without a code: %#v", e)
			continue
		}
		if strings.TrimSpace(e.Msg.ID) == "" || strings.TrimSpace(e.Msg.EN) == "" {
			t.Errorf("%s: message missing (id %q, en %q)", e.Code, e.Msg.ID, e.Msg.EN)
		}
		if kiosk.OfficerMessage(e, kiosk.LangID) != e.Msg.ID || kiosk.OfficerMessage(e, kiosk.LangEN) != e.Msg.EN {
			t.Errorf("%s: the officer message does not come from the error", e.Code)
		}
	}
}

// exportedErrorVars lists the exported package-level variables of dir initialised with
// &Error{...} or &kiosk.Error{...}.
func exportedErrorVars(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	forEachVar(t, dir, func(name string, value ast.Expr) {
		u, ok := value.(*ast.UnaryExpr)
		if !ok || u.Op != token.AND {
			return
		}
		cl, ok := u.X.(*ast.CompositeLit)
		if !ok {
			return
		}
		switch typ := cl.Type.(type) {
		case *ast.Ident:
			if typ.Name != "Error" {
				return
			}
		case *ast.SelectorExpr:
			if typ.Sel.Name != "Error" {
				return
			}
		default:
			return
		}
		if ast.IsExported(name) {
			names = append(names, name)
		}
	})
	if len(names) == 0 {
		t.Fatalf("%s: no exported *kiosk.Error found; is the scan broken?", dir)
	}
	return names
}

// inCodes reports whether sync's Codes list names the variable.
func inCodes(t *testing.T, dir, name string) bool {
	found := false
	forEachVar(t, dir, func(v string, value ast.Expr) {
		if v != "Codes" {
			return
		}
		ast.Inspect(value, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && id.Name == name {
				found = true
			}
			return true
		})
	})
	return found
}

func forEachVar(t *testing.T, dir string, fn func(name string, value ast.Expr)) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						fn(n.Name, vs.Values[i])
					}
				}
			}
		}
	}
}
