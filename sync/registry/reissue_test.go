package registry_test

import (
	"context"
	"errors"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/mail"
)

// approved registers nikSiti, approves the registration at k and returns it with the mail of
// its first code.
func approved(t *testing.T, e *env, k *kioskSim) (string, mail.Mail) {
	t.Helper()
	reg := e.register(nikSiti, "siti@example.id")
	_, env := k.activation(reg, nikSiti, e.now().Add(-time.Minute))
	wantAnswer(t, "activation", k.push(env)[0], ikdsync.StatusAccepted, "")
	ms := e.sentMails()
	if len(ms) != 1 || ms[0].RegistrationID != reg || ms[0].Replaces {
		t.Fatalf("after the approval: mails %+v, want one first code for %s", ms, reg)
	}
	return reg, ms[0]
}

// burn spends every try of reg's code with wrong guesses.
func burn(t *testing.T, e *env, reg, code string) {
	t.Helper()
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for range registry.DefaultCodeMaxTries {
		if err := e.srv.Confirm(context.Background(), reg, wrong); err == nil {
			t.Fatal("a wrong code was accepted")
		}
	}
	if err := e.srv.Confirm(context.Background(), reg, code); !errors.Is(err, registry.ErrCodeTooManyTries) {
		t.Fatalf("the right code after %d wrong tries: %v, want %s", registry.DefaultCodeMaxTries, err, registry.ErrCodeTooManyTries.Code)
	}
}

// reissued expects one mail, a replacement code for reg, different from old, and returns it.
func reissued(t *testing.T, e *env, reg string, old mail.Mail) mail.Mail {
	t.Helper()
	ms := e.sentMails()
	if len(ms) != 1 || ms[0].RegistrationID != reg || !ms[0].Replaces || ms[0].ID == old.ID {
		t.Fatalf("mails %+v, want one replacement code for %s with a new mail id", ms, reg)
	}
	return ms[0]
}

// TestReissueAfterBurnedCode is the defect: five wrong guesses burn the code, and the counter
// can now give the citizen a new one without a new registration.
func TestReissueAfterBurnedCode(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(*testing.T) registry.Store) {
		e := newEnv(t, open(t))
		var woken atomic.Int32
		e.srv.MailQueued = func() { woken.Add(1) }
		k := e.enroll(testArea)
		reg, first := approved(t, e, k)
		burn(t, e, reg, first.Code)
		woken.Store(0)

		_, env := k.reissue(reg, nikSiti, e.now())
		wantAnswer(t, "re-issue of a burned code", k.push(env)[0], ikdsync.StatusAccepted, "")
		if woken.Load() != 1 {
			t.Errorf("MailQueued called %d times, want 1", woken.Load())
		}
		second := reissued(t, e, reg, first)
		if !second.ExpiresAt.Equal(e.now().Add(registry.DefaultCodeTTL)) {
			t.Errorf("new code expires %v, want %v", second.ExpiresAt, e.now().Add(registry.DefaultCodeTTL))
		}

		wantAnswer(t, "resent re-issue", k.push(env)[0], ikdsync.StatusDuplicate, "")
		if ms := e.sentMails(); len(ms) != 0 {
			t.Fatalf("a resent re-issue mailed %+v", ms)
		}
		ctx := context.Background()
		if second.Code != first.Code {
			if err := e.srv.Confirm(ctx, reg, first.Code); !errors.Is(err, registry.ErrCodeWrong) {
				t.Fatalf("the old code after the re-issue: %v, want %s", err, registry.ErrCodeWrong.Code)
			}
		}
		if err := e.srv.Confirm(ctx, reg, second.Code); err != nil {
			t.Fatalf("the new code: %v", err)
		}
	})
}

// TestReissueRules: each case brings a registration to a state, then asks for a new code.
func TestReissueRules(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, e *env, k *kioskSim) (reg string)
		code  string // "" = accepted
	}{
		{"code still valid", func(t *testing.T, e *env, k *kioskSim) string {
			reg, _ := approved(t, e, k)
			e.advance(registry.DefaultCodeTTL - time.Minute)
			return reg
		}, ikdsync.ErrReissueCodeValid.Code},
		{"code still valid after wrong tries", func(t *testing.T, e *env, k *kioskSim) string {
			reg, m := approved(t, e, k)
			for range registry.DefaultCodeMaxTries - 1 {
				wrongTry(t, e, reg, m.Code)
			}
			return reg
		}, ikdsync.ErrReissueCodeValid.Code},
		{"code expired", func(t *testing.T, e *env, k *kioskSim) string {
			reg, _ := approved(t, e, k)
			e.advance(registry.DefaultCodeTTL)
			return reg
		}, ""},
		{"already confirmed", func(t *testing.T, e *env, k *kioskSim) string {
			reg, m := approved(t, e, k)
			if err := e.srv.Confirm(context.Background(), reg, m.Code); err != nil {
				t.Fatal(err)
			}
			e.advance(registry.DefaultCodeTTL)
			return reg
		}, ikdsync.ErrReissueConfirmed.Code},
		{"not approved yet", func(t *testing.T, e *env, k *kioskSim) string {
			return e.register(nikSiti, "siti@example.id")
		}, ikdsync.ErrReissueNotApproved.Code},
		{"unknown registration", func(t *testing.T, e *env, k *kioskSim) string {
			return "0190f3b2-7c1e-7a4b-9c3d-000000000000"
		}, ikdsync.ErrUnknownRegistration.Code},
		{"deactivated (lost phone)", func(t *testing.T, e *env, k *kioskSim) string {
			reg, _ := approved(t, e, k)
			_, env := k.deactivation(nikSiti, e.now())
			wantAnswer(t, "deactivation", k.push(env)[0], ikdsync.StatusAccepted, "")
			e.advance(registry.DefaultCodeTTL)
			return reg
		}, ikdsync.ErrAccountDeactivated.Code},
	}
	eachStore(t, func(t *testing.T, open func(*testing.T) registry.Store) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				e := newEnv(t, open(t))
				k := e.enroll(testArea)
				reg := c.setup(t, e, k)
				_, env := k.reissue(reg, nikSiti, e.now())
				status := ikdsync.StatusAccepted
				if c.code != "" {
					status = ikdsync.StatusRejected
				}
				wantAnswer(t, "re-issue", k.push(env)[0], status, c.code)
				if ms := e.sentMails(); (len(ms) == 1) != (c.code == "") || len(ms) > 1 {
					t.Fatalf("mails %+v after answer %q", ms, c.code)
				}
			})
		}
	})
}

func wrongTry(t *testing.T, e *env, reg, code string) {
	t.Helper()
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if err := e.srv.Confirm(context.Background(), reg, wrong); !errors.Is(err, registry.ErrCodeWrong) {
		t.Fatalf("wrong try: %v", err)
	}
}

// TestReissueNIKMismatch: a re-issue names the registration and its NIK; another NIK is refused.
func TestReissueNIKMismatch(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	k := e.enroll(testArea)
	reg, _ := approved(t, e, k)
	e.advance(registry.DefaultCodeTTL)
	_, env := k.reissue(reg, nikBudi, e.now())
	wantAnswer(t, "re-issue with another NIK", k.push(env)[0], ikdsync.StatusRejected, ikdsync.ErrRegistrationMismatch.Code)
}

// TestReissueRateLimited: three re-issues in 24 hours are accepted, the fourth is refused, and
// one more is accepted once the first has left the window.
func TestReissueRateLimited(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(*testing.T) registry.Store) {
		e := newEnv(t, open(t))
		k := e.enroll(testArea)
		reg, last := approved(t, e, k)
		start := e.now()
		for i := range 3 {
			burn(t, e, reg, last.Code)
			_, env := k.reissue(reg, nikSiti, e.now())
			wantAnswer(t, "re-issue", k.push(env)[0], ikdsync.StatusAccepted, "")
			last = reissued(t, e, reg, last)
			e.advance(time.Duration(i+1) * time.Hour)
		}
		burn(t, e, reg, last.Code)
		_, env := k.reissue(reg, nikSiti, e.now())
		wantAnswer(t, "fourth re-issue in 24 h", k.push(env)[0], ikdsync.StatusRejected, ikdsync.ErrReissueRateLimited.Code)
		if ms := e.sentMails(); len(ms) != 0 {
			t.Fatalf("a refused re-issue mailed %+v", ms)
		}

		e.advance(start.Add(24*time.Hour + time.Minute).Sub(e.now()))
		_, env = k.reissue(reg, nikSiti, e.now())
		wantAnswer(t, "re-issue after the first left the window", k.push(env)[0], ikdsync.StatusAccepted, "")
		reissued(t, e, reg, last)
	})
}

// TestReissueAuthorization: a re-issue passes the same authorization as an activation.
func TestReissueAuthorization(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(*testing.T) registry.Store) {
		e := newEnv(t, open(t))
		home := e.enroll(testArea)
		other := e.enroll("Bojong Gede")
		reg, _ := approved(t, e, home)
		e.advance(registry.DefaultCodeTTL)

		_, env := other.reissue(reg, nikSiti, e.now())
		wantAnswer(t, "kiosk of another area", other.push(env)[0], ikdsync.StatusRejected, ikdsync.ErrAreaMismatch.Code)
		_, env = home.reissueBy("199912312099121999", reg, nikSiti, e.now())
		wantAnswer(t, "unknown officer", home.push(env)[0], ikdsync.StatusRejected, ikdsync.ErrUnknownOfficer.Code)
		_, env = home.reissue(reg, nikSiti, e.now().Add(2*time.Hour))
		wantAnswer(t, "dated ahead", home.push(env)[0], ikdsync.StatusRejected, ikdsync.ErrRecordFutureDated.Code)
		if ms := e.sentMails(); len(ms) != 0 {
			t.Fatalf("refused re-issues mailed %+v", ms)
		}
		// Refused re-issues do not count against the limit.
		for range 3 {
			_, env = home.reissue(reg, nikSiti, e.now())
			wantAnswer(t, "re-issue", home.push(env)[0], ikdsync.StatusAccepted, "")
			e.advance(registry.DefaultCodeTTL)
		}
	})
}

// TestConcurrentReissues: several pushes of re-issues of one burned code at once, from two
// kiosks (on PostgreSQL, concurrent transactions): one is accepted and mails one code, the
// others find that code fresh.
func TestConcurrentReissues(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(*testing.T) registry.Store) {
		e := newEnv(t, open(t))
		a, b := e.enroll(testArea), e.enroll(testArea)
		reg, first := approved(t, e, a)
		burn(t, e, reg, first.Code)
		const n = 6
		envs := make([][]byte, n)
		for i := range envs {
			k := a
			if i%2 == 1 {
				k = b
			}
			_, envs[i] = k.reissue(reg, nikSiti, e.now())
		}
		answers := make([]ikdsync.Answer, n)
		errs := make([]error, n)
		var wg gosync.WaitGroup
		for i := range envs {
			k := a
			if i%2 == 1 {
				k = b
			}
			wg.Go(func() {
				got, err := k.tryPush(envs[i])
				if err == nil {
					answers[i] = got[0]
				}
				errs[i] = err
			})
		}
		wg.Wait()
		accepted := 0
		for i, ans := range answers {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			switch {
			case ans.Status == ikdsync.StatusAccepted:
				accepted++
			case ans.Code != ikdsync.ErrReissueCodeValid.Code:
				t.Errorf("answer %+v", ans)
			}
		}
		if accepted != 1 {
			t.Fatalf("%d re-issues accepted, want 1: %+v", accepted, answers)
		}
		reissued(t, e, reg, first)
	})
}

// TestReissueInTheApprovalsBatch: a batch applies its approval before its re-issue, whatever
// the order the kiosk listed them in; the re-issue finds a fresh code and is refused.
func TestReissueInTheApprovalsBatch(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	k := e.enroll(testArea)
	reg := e.register(nikSiti, "siti@example.id")
	_, act := k.activation(reg, nikSiti, e.now().Add(-time.Minute))
	_, re := k.reissue(reg, nikSiti, e.now().Add(-2*time.Minute))
	got := k.push(re, act)
	wantAnswer(t, "re-issue", got[0], ikdsync.StatusRejected, ikdsync.ErrReissueCodeValid.Code)
	wantAnswer(t, "activation", got[1], ikdsync.StatusAccepted, "")
}
