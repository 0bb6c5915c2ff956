package registry_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	gosync "sync"
	"testing"
	"time"

	"github.com/ikd-field/ikd/internal/pgtest"
	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/sqlstore"
)

const (
	nikSiti = "3201014101900001"
	nikBudi = "3201010101900002"
)

func TestActivationAcceptedOnceAndMailedOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(*testing.T) registry.Store) {
		e := newEnv(t, open(t))
		k := e.enroll("Cibinong")
		reg := e.register(nikSiti, "siti@example.id")
		_, env := k.activation(reg, nikSiti, t0.Add(time.Minute))
		wantAnswer(t, "first push", k.push(env)[0], ikdsync.StatusAccepted, "")
		wantAnswer(t, "resend", k.push(env)[0], ikdsync.StatusDuplicate, "")
		if s := e.stats(); s.ActivationsAccepted != 1 || s.MailsQueued != 1 || s.Registrations != 1 || s.Devices != 1 {
			t.Fatalf("stats %+v", s)
		}
		if len(e.mails()) != 1 {
			t.Fatal("want one mail")
		}
	})
}

// TestSameRegistrationOnTwoKiosks: the earliest approval wins whichever arrives first, and
// the final state is the same for both orders.
func TestSameRegistrationOnTwoKiosks(t *testing.T) {
	for _, earlyFirst := range []bool{true, false} {
		name := map[bool]string{true: "EarlyFirst", false: "LateFirst"}[earlyFirst]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, openSQLite(t))
			a, b := e.enroll("Cibinong"), e.enroll("Cibinong")
			reg := e.register(nikSiti, "siti@example.id")
			earlyID, early := a.activation(reg, nikSiti, t0.Add(1*time.Minute))
			_, late := b.activation(reg, nikSiti, t0.Add(2*time.Minute))
			if earlyFirst {
				wantAnswer(t, "early", a.push(early)[0], ikdsync.StatusAccepted, "")
				got := b.push(late)[0]
				wantAnswer(t, "late", got, ikdsync.StatusRejected, ikdsync.ErrDuplicateActivation.Code)
				if got.Winner != earlyID {
					t.Fatalf("winner %q, want %q", got.Winner, earlyID)
				}
			} else {
				wantAnswer(t, "late", b.push(late)[0], ikdsync.StatusAccepted, "")
				wantAnswer(t, "early", a.push(early)[0], ikdsync.StatusAccepted, "")
				// The displaced record, sent again (its answer lost on the way), learns the winner.
				got := b.push(late)[0]
				wantAnswer(t, "late resent", got, ikdsync.StatusRejected, ikdsync.ErrDuplicateActivation.Code)
				if got.Winner != earlyID {
					t.Fatalf("winner %q, want %q", got.Winner, earlyID)
				}
			}
			if s := e.stats(); s.ActivationsAccepted != 1 || s.MailsQueued != 1 {
				t.Fatalf("stats %+v: want one accepted activation and one mail", s)
			}
		})
	}
}

func TestDeactivationWinsOverCrossingActivation(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(*testing.T) registry.Store) {
		e := newEnv(t, open(t))
		k := e.enroll("Cibinong")
		old := e.register(nikSiti, "siti@example.id")
		e.advance(time.Hour)
		// Approved offline before the phone was reported lost, arriving after.
		_, stale := k.activation(old, nikSiti, e.now().Add(-time.Minute))
		_, deact := k.deactivation(nikSiti, e.now())
		wantAnswer(t, "deactivation", k.push(deact)[0], ikdsync.StatusAccepted, "")
		wantAnswer(t, "stale activation", k.push(stale)[0], ikdsync.StatusRejected, ikdsync.ErrAccountDeactivated.Code)
		// The citizen registers the new phone after the deactivation: that one activates.
		e.advance(time.Hour)
		fresh := e.register(nikSiti, "siti@example.id")
		_, act := k.activation(fresh, nikSiti, e.now())
		wantAnswer(t, "new phone", k.push(act)[0], ikdsync.StatusAccepted, "")
		if s := e.stats(); s.Deactivations != 1 || s.ActivationsAccepted != 1 || s.MailsQueued != 1 {
			t.Fatalf("stats %+v", s)
		}
	})
}

func TestDeactivationEndsAnApprovedRegistration(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	k := e.enroll("Cibinong")
	reg := e.register(nikSiti, "siti@example.id")
	_, act := k.activation(reg, nikSiti, e.now())
	// Both in one batch, listed activation first: deactivations are applied first anyway.
	e.advance(time.Minute)
	_, deact := k.deactivation(nikSiti, e.now())
	answers := k.push(act, deact)
	wantAnswer(t, "activation", answers[0], ikdsync.StatusRejected, ikdsync.ErrAccountDeactivated.Code)
	wantAnswer(t, "deactivation", answers[1], ikdsync.StatusAccepted, "")
	err := e.srv.Confirm(context.Background(), reg, "000000")
	if !errors.Is(err, registry.ErrRegDeactivated) {
		t.Fatalf("confirm: %v, want %v", err, registry.ErrRegDeactivated)
	}
}

func TestRevokedRegistrationAndUnknownRegistration(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	k := e.enroll("Cibinong")
	reg := e.register(nikSiti, "siti@example.id")
	if err := registry.RevokeRegistration(context.Background(), e.st, reg, e.now()); err != nil {
		t.Fatal(err)
	}
	_, act := k.activation(reg, nikSiti, e.now().Add(time.Minute))
	_, unknown := k.activation("0192f3a4-0000-7000-8000-000000000000", nikSiti, e.now())
	other := e.register(nikBudi, "budi@example.id")
	_, mismatch := k.activation(other, nikSiti, e.now())
	answers := k.push(act, unknown, mismatch, []byte("not an envelope"))
	wantAnswer(t, "revoked", answers[0], ikdsync.StatusRejected, ikdsync.ErrRegistrationRevoked.Code)
	wantAnswer(t, "unknown", answers[1], ikdsync.StatusRejected, ikdsync.ErrUnknownRegistration.Code)
	wantAnswer(t, "nik mismatch", answers[2], ikdsync.StatusRejected, ikdsync.ErrRegistrationMismatch.Code)
	wantAnswer(t, "garbage", answers[3], ikdsync.StatusRejected, ikdsync.ErrRecordMalformed.Code)
	if s := e.stats(); s.ActivationsAccepted != 0 || s.MailsQueued != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestRecordSignedByAnotherKiosk(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	a, b := e.enroll("Cibinong"), e.enroll("Cibinong")
	reg := e.register(nikSiti, "siti@example.id")
	_, env := a.activation(reg, nikSiti, e.now())
	wantAnswer(t, "relayed", b.push(env)[0], ikdsync.StatusRejected, ikdsync.ErrRecordKioskMismatch.Code)
}

func TestRevokedDevice(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	k := e.enroll("Cibinong")
	reg := e.register(nikSiti, "siti@example.id")
	if err := registry.RevokeDevice(context.Background(), e.st, k.id, e.now()); err != nil {
		t.Fatal(err)
	}
	_, act := k.activation(reg, nikSiti, e.now())
	wantAnswer(t, "push", k.push(act)[0], ikdsync.StatusRejected, ikdsync.ErrDeviceRevokedRecord.Code)
	status, body := k.do(http.MethodGet, "/v1/changes", nil)
	wantError(t, "pull", status, body, http.StatusForbidden, ikdsync.ErrDeviceRevoked.Code)
}

func TestAuditCheckpointRollback(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(*testing.T) registry.Store) {
		e := newEnv(t, open(t))
		k := e.enroll("Cibinong")
		wantAnswer(t, "first", k.push(k.checkpoint(100, 7, 1))[0], ikdsync.StatusAccepted, "")
		wantAnswer(t, "newer", k.push(k.checkpoint(200, 9, 2))[0], ikdsync.StatusAccepted, "")
		wantAnswer(t, "same point", k.push(k.checkpoint(200, 9, 2))[0], ikdsync.StatusAccepted, "")
		wantAnswer(t, "older", k.push(k.checkpoint(150, 9, 3))[0], ikdsync.StatusRejected, ikdsync.ErrAuditRollback.Code)
		wantAnswer(t, "fork", k.push(k.checkpoint(200, 9, 4))[0], ikdsync.StatusRejected, ikdsync.ErrAuditRollback.Code)
		wantAnswer(t, "outbox behind", k.push(k.checkpoint(300, 8, 5))[0], ikdsync.StatusRejected, ikdsync.ErrAuditRollback.Code)
	})
}

func TestConfirmCode(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	k := e.enroll("Cibinong")
	ctx := context.Background()
	activate := func(nik, email string) (string, string) {
		reg := e.register(nik, email)
		_, act := k.activation(reg, nik, e.now())
		wantAnswer(t, "activation", k.push(act)[0], ikdsync.StatusAccepted, "")
		return reg, e.mails()[reg]
	}

	reg, code := activate(nikSiti, "siti@example.id")
	if len(code) != 6 {
		t.Fatalf("code %q is not 6 digits", code)
	}
	if err := e.srv.Confirm(ctx, "no-such-registration", code); !errors.Is(err, registry.ErrRegistrationAbsent) {
		t.Fatalf("unknown: %v", err)
	}
	wrong := "000000"
	if wrong == code {
		wrong = "000001"
	}
	err := e.srv.Confirm(ctx, reg, wrong)
	ce, ok := errors.AsType[*registry.ConfirmError](err)
	if !ok || ce.Code != registry.ErrCodeWrong.Code || ce.TriesLeft != registry.DefaultCodeMaxTries-1 {
		t.Fatalf("wrong code: %v", err)
	}
	if err := e.srv.Confirm(ctx, reg, code); err != nil {
		t.Fatalf("right code: %v", err)
	}
	if err := e.srv.Confirm(ctx, reg, code); !errors.Is(err, registry.ErrAlreadyActivated) {
		t.Fatalf("again: %v", err)
	}

	reg, code = activate(nikBudi, "budi@example.id")
	wrong = "000000"
	if wrong == code {
		wrong = "000001"
	}
	for i := range registry.DefaultCodeMaxTries {
		err := e.srv.Confirm(ctx, reg, wrong)
		want := registry.ErrCodeWrong
		if i == registry.DefaultCodeMaxTries-1 {
			want = registry.ErrCodeTooManyTries
		}
		if !errors.Is(err, want) {
			t.Fatalf("try %d: %v, want %v", i+1, err, want)
		}
	}
	if err := e.srv.Confirm(ctx, reg, code); !errors.Is(err, registry.ErrCodeTooManyTries) {
		t.Fatalf("right code after too many tries: %v", err)
	}

	reg, code = activate("3201014501900003", "ani@example.id")
	e.advance(registry.DefaultCodeTTL)
	if err := e.srv.Confirm(ctx, reg, code); !errors.Is(err, registry.ErrCodeExpired) {
		t.Fatalf("expired: %v", err)
	}
	pending := e.register("3201010201900004", "dodi@example.id")
	if err := e.srv.Confirm(ctx, pending, "123456"); !errors.Is(err, registry.ErrNotApproved) {
		t.Fatalf("not approved: %v", err)
	}
}

// TestTwoRegistryProcessesIngestConcurrently: two servers, each with its own connection pool
// (as two processes would have), on one PostgreSQL database. Two kiosks approved the same
// registrations offline and push them at once, each to another server: every registration
// is activated once and mailed once.
func TestTwoRegistryProcessesIngestConcurrently(t *testing.T) {
	url := pgtest.FreshDatabase(t)
	keys := testKeys(t) // one data key file, shared by both processes
	open := func() registry.Store {
		st, err := sqlstore.OpenPostgres(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return registry.Seal(st, keys)
	}
	e1, e2 := newEnv(t, open()), newEnv(t, open())
	a, b := e1.enroll("Cibinong"), e1.enroll("Cibinong")
	b.e = e2 // kiosk b talks to the second process
	const n = 60
	var envA, envB [][]byte
	for i := range n {
		nik := fmt.Sprintf("320101010190%04d", i+1)
		reg := e1.register(nik, fmt.Sprintf("warga%d@example.id", i))
		_, ea := a.activation(reg, nik, t0.Add(time.Duration(i)*time.Second))
		_, eb := b.activation(reg, nik, t0.Add(time.Duration(n-i)*time.Second))
		envA, envB = append(envA, ea), append(envB, eb)
	}
	var wg gosync.WaitGroup
	errs := make(chan error, 2)
	for _, side := range []struct {
		k    *kioskSim
		envs [][]byte
	}{{a, envA}, {b, envB}} {
		wg.Go(func() {
			for i := 0; i < n; i += 10 {
				answers, err := side.k.tryPush(side.envs[i : i+10]...)
				if err != nil {
					errs <- err
					return
				}
				for _, ans := range answers {
					if ans.Status != ikdsync.StatusAccepted && ans.Code != ikdsync.ErrDuplicateActivation.Code {
						errs <- fmt.Errorf("answer %+v", ans)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if s := e1.stats(); s.ActivationsAccepted != n || s.MailsQueued != n {
		t.Fatalf("stats %+v: want %d accepted activations and %d mails", s, n, n)
	}
}
