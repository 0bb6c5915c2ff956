package sync

import (
	"bytes"
	"encoding/hex"
	"os"
	"testing"
)

// The golden answers bundle: the registry's answers to three records of kioskID, signed with
// deviceKey("registry reg-2026-11") under key id reg-2026-11, as hex. Signatures and the
// codec are deterministic, so the bytes are frozen: a change is a new BundleVersion.
// Regenerate with: go test ./sync -run Golden -update
const goldenAnswers = "bundle-answers.hex"

func typicalAnswers() BundleAnswers {
	return BundleAnswers{KioskID: kioskID, BundleID: "0190f3b2-7c1e-7a4b-9c3d-5e6f708192a4", Time: 1795413600000,
		IDs: []string{"0190f3b2-7c1e-7a4b-9c3d-5e6f70819201", "0190f3b2-7c1e-7a4b-9c3d-5e6f70819202", "0190f3b2-7c1e-7a4b-9c3d-5e6f70819203"},
		Answers: []Answer{{Status: StatusAccepted}, {Status: StatusDuplicate},
			{Status: StatusRejected, Code: ErrDuplicateActivation.Code, Winner: "0190f3b2-7c1e-7a4b-9c3d-5e6f70819299"}}}
}

func TestGoldenAnswersBundle(t *testing.T) {
	key := deviceKey("registry reg-2026-11")
	b, err := SealAnswers("reg-2026-11", key, typicalAnswers())
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(goldenPath(t, goldenAnswers), []byte(hex.EncodeToString(b)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := readGoldenHex(t, goldenAnswers)
	if !bytes.Equal(b, want) {
		t.Fatalf("answers bundle bytes changed; the bundle format is versioned.\ngot  %x\nwant %x", b, want)
	}
}
