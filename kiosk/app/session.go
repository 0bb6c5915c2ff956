package app

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store"
	ikdsync "github.com/ikd-field/ikd/sync"
)

// session is one logged-in officer.
type session struct {
	app     *App
	officer kiosk.Officer

	mu       sync.Mutex
	locked   bool
	lastUsed time.Time
	// confirmed are the supervisors who gave their PIN in this session, with when: an
	// approval naming a supervisor is taken only from this list.
	confirmed map[string]confirmedSupervisor
}

type confirmedSupervisor struct {
	officer kiosk.Officer
	at      time.Time
}

// supervisorConfirmTTL is how long a supervisor's PIN stands for an approval: the time to
// look at the citizen and press approve, not the rest of the shift.
const supervisorConfirmTTL = 10 * time.Minute

// confirmedSupervisor returns the supervisor id confirmed with their PIN in this session
// within supervisorConfirmTTL.
func (s *session) confirmedSupervisor(id string) (kiosk.Officer, bool) {
	now := s.app.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.confirmed[id]
	if !ok || now.Sub(c.at) > supervisorConfirmTTL {
		return kiosk.Officer{}, false
	}
	return c.officer, true
}

var _ Session = (*session)(nil)

func (s *session) Officer() kiosk.Officer { return s.officer }

// active refuses a locked session, and locks one left idle longer than the idle lock: a
// counter left unattended must not let the next person act as the officer.
func (s *session) active() error {
	idle := s.app.Settings().IdleLock
	now := s.app.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.locked && now.Sub(s.lastUsed) > idle {
		s.locked = true
	}
	if s.locked {
		return ErrSessionLocked
	}
	s.lastUsed = now
	_, err := s.app.store()
	return err
}

func (s *session) NewActivation() Visit {
	return s.app.newVisit(s, kiosk.PurposeActivation)
}

func (s *session) NewDeactivation() Visit {
	return s.app.newVisit(s, kiosk.PurposeDeactivation)
}

// ConfirmSupervisor implements Session: the PIN check is the store's login, audited and
// subject to the lockout like any other.
func (s *session) ConfirmSupervisor(ctx context.Context, supervisorID, pin string) (kiosk.Officer, error) {
	if err := s.active(); err != nil {
		return kiosk.Officer{}, err
	}
	st, err := s.app.store()
	if err != nil {
		return kiosk.Officer{}, err
	}
	o, err := st.Login(ctx, supervisorID, pin)
	if err != nil {
		return kiosk.Officer{}, err
	}
	if o.Role != kiosk.RoleSupervisor {
		return kiosk.Officer{}, kiosk.ErrPermission.With(fmt.Errorf("officer %s is a %s", o.ID, o.Role))
	}
	s.mu.Lock()
	if s.confirmed == nil {
		s.confirmed = map[string]confirmedSupervisor{}
	}
	s.confirmed[o.ID] = confirmedSupervisor{officer: o, at: s.app.now()}
	s.mu.Unlock()
	return o, nil
}

// UpdateSettings implements Session.
func (s *session) UpdateSettings(ctx context.Context, by kiosk.Officer, n Settings) error {
	if err := s.active(); err != nil {
		return err
	}
	if by.Role != kiosk.RoleSupervisor {
		return kiosk.ErrPermission.With(fmt.Errorf("officer %s is a %s", by.ID, by.Role))
	}
	return s.app.updateSettings(ctx, by, n)
}

// updateSettings applies n: the idle lock and language at once, the thresholds to the face
// pipeline, a camera change by restarting the bus. The registry changes only by enrolling.
func (a *App) updateSettings(ctx context.Context, by kiosk.Officer, n Settings) error {
	if n.IdleLock < MinIdleLock || n.IdleLock > MaxIdleLock {
		return ErrSettings.With(fmt.Errorf("idle lock %v outside %v..%v", n.IdleLock, MinIdleLock, MaxIdleLock))
	}
	if n.Lang != kiosk.LangID && n.Lang != kiosk.LangEN {
		return ErrSettings.With(fmt.Errorf("language %q", n.Lang))
	}
	if n.CameraWidth < 0 || n.CameraHeight < 0 || n.CameraWidth > 7680 || n.CameraHeight > 4320 {
		return ErrSettings.With(fmt.Errorf("camera size %dx%d", n.CameraWidth, n.CameraHeight))
	}
	if n.Stale != (kiosk.StalePolicy{}) {
		if err := n.Stale.Valid(); err != nil {
			return ErrSettings.With(err)
		}
	}
	if n.Retention < 0 || (n.Retention > 0 && n.Retention < 24*time.Hour) {
		return ErrSettings.With(fmt.Errorf("retention %v: at least a day", n.Retention))
	}
	st, err := a.store()
	if err != nil {
		return err
	}
	cur := a.Settings()
	if strings.TrimSpace(n.RegistryURL) != cur.RegistryURL {
		return ErrNotEnrolled.With(fmt.Errorf("registry %q: a new registry needs an enrollment code (App.Enroll)", n.RegistryURL))
	}
	if n.Thresholds != (kiosk.FaceThresholds{}) && n.Thresholds != cur.Thresholds {
		a.mu.Lock()
		p := a.face
		a.mu.Unlock()
		if p == nil {
			return ErrFaceUnavailable.With(fmt.Errorf("thresholds need the loaded models' calibration"))
		}
		if err := p.SetThresholds(n.Thresholds); err != nil {
			return err
		}
	}
	// The limits are kept in the store (zero: the default), so a restart keeps them.
	if n.Stale != cur.Stale || n.Retention != cur.Retention {
		if err := st.SetLimits(ctx, store.Limits{Stale: n.Stale, Retention: n.Retention}); err != nil {
			return err
		}
	}
	a.mu.Lock()
	camChanged := n.CameraDevice != a.settings.CameraDevice || n.CameraWidth != a.settings.CameraWidth || n.CameraHeight != a.settings.CameraHeight
	a.settings.IdleLock, a.settings.Lang = n.IdleLock, n.Lang
	a.settings.SupervisorForDeactivation = n.SupervisorForDeactivation
	a.settings.Stale, a.settings.Retention = n.Stale, n.Retention
	stale, retention := a.stalePolicy(), a.settings.Retention
	if retention == 0 {
		retention = DefaultRetention
	}
	if camChanged {
		a.settings.CameraDevice, a.settings.CameraWidth, a.settings.CameraHeight = n.CameraDevice, n.CameraWidth, n.CameraHeight
	}
	a.mu.Unlock()
	if camChanged {
		a.restartCamera(CameraConfig{Device: n.CameraDevice, Width: n.CameraWidth, Height: n.CameraHeight})
	}
	th := a.Settings().Thresholds
	ev := kiosk.AuditEvent{Time: st.Now(), OfficerID: by.ID, Action: "settings.updated", Subject: "kiosk",
		Detail: fmt.Sprintf("camera=%s %dx%d idle_lock=%v lang=%s supervisor_for_deactivation=%v match=%.3f no_match=%.3f max_distance=%.3f stale_warn=%v stale_supervisor=%v stale_stop=%v retention=%v",
			n.CameraDevice, n.CameraWidth, n.CameraHeight, n.IdleLock, n.Lang, n.SupervisorForDeactivation, th.Match, th.NoMatch, th.MatchMaxDistance,
			stale.WarnAfter, stale.SupervisorAfter, stale.StopAfter, retention)}
	if err := st.Record(ctx, ev); err != nil {
		return fmt.Errorf("audit settings: %w", err)
	}
	return nil
}

// Stats implements Session.
func (s *session) Stats(ctx context.Context, day time.Time) (DailySummary, error) {
	if err := s.active(); err != nil {
		return DailySummary{}, err
	}
	st, err := s.app.store()
	if err != nil {
		return DailySummary{}, err
	}
	from := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, day.Location())
	vs, err := st.VisitStats(ctx, from, from.AddDate(0, 0, 1))
	if err != nil {
		return DailySummary{}, err
	}
	return summarize(from, vs), nil
}

// Records implements Session.
func (s *session) Records(ctx context.Context, state kiosk.RecordState, limit int) ([]kiosk.OutboxRecord, error) {
	if err := s.active(); err != nil {
		return nil, err
	}
	st, err := s.app.store()
	if err != nil {
		return nil, err
	}
	// The store lists oldest first and stops at its limit; the panel shows the newest on top.
	// The outbox holds at most a few days of one counter's records, so reading it all is cheap.
	recs, err := st.Records(ctx, state, math.MaxInt32)
	if limit = max(limit, 0); len(recs) > limit {
		recs = recs[len(recs)-limit:]
	}
	slices.Reverse(recs)
	pub := st.DeviceKey().Public().(ed25519.PublicKey)
	for i, r := range recs {
		if r.Kind != kiosk.KindActivation && r.Kind != kiosk.KindCodeReissue {
			continue
		}
		// The store keeps only blind indexes of these; the signed record holds them in clear.
		rec, oerr := ikdsync.Open(r.Envelope, pub)
		switch {
		case oerr != nil:
			s.app.log.Warn("outbox record unreadable", "record_id", r.ID, "err", oerr)
		case rec.Activation != nil:
			recs[i].RegistrationID, recs[i].NIK = rec.Activation.RegistrationID, rec.Activation.NIK
		case rec.Reissue != nil:
			recs[i].RegistrationID, recs[i].NIK = rec.Reissue.RegistrationID, rec.Reissue.NIK
		}
	}
	return recs, err
}

// ReissueCode implements Session.
func (s *session) ReissueCode(ctx context.Context, registrationID string, nik kiosk.NIK) (kiosk.OutboxRecord, error) {
	if err := s.active(); err != nil {
		return kiosk.OutboxRecord{}, err
	}
	rec, err := kiosk.ReissueCode(ctx, s.app.visitDeps(), s.officer, registrationID, nik)
	if err != nil {
		return kiosk.OutboxRecord{}, err
	}
	s.app.log.Info("code re-issue queued", "record_id", rec.ID, "officer_id", s.officer.ID)
	s.app.SyncNow()
	s.app.updateCounts(ctx)
	return rec, nil
}

// KeepAlive implements Session.
func (s *session) KeepAlive() error { return s.active() }

// Lock implements Session.
func (s *session) Lock() {
	s.mu.Lock()
	s.locked = true
	s.mu.Unlock()
}
