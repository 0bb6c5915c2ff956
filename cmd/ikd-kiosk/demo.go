package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/ikd-field/ikd/assets"
	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/clock"
	"github.com/ikd-field/ikd/kiosk/qr"
	"github.com/ikd-field/ikd/kiosk/store"
	"github.com/ikd-field/ikd/kiosk/token"
	ikdsync "github.com/ikd-field/ikd/sync"
)

type demoConfig struct {
	dir    string
	lang   string
	models string
	faces  string
	out    io.Writer
	log    *slog.Logger
}

// uuidV7 makes time-ordered record ids.
type uuidV7 struct{}

func (uuidV7) NewID() string { return uuid.Must(uuid.NewV7()).String() }

// The demo's people. Their NIKs agree with their birth dates and sexes.
var demoResidents = []kiosk.Resident{
	{NIK: "3201014101900001", Name: "Siti Aminah", BirthPlace: "Bogor", BirthDate: date(1990, 1, 1),
		Sex: kiosk.Female, Address: "Jl. Pajajaran No. 12, RT 02/RW 05, Bogor", Kecamatan: "Bogor Tengah", Status: kiosk.ResidentActive},
	{NIK: "3201012508850123", Name: "Agus Salim", BirthPlace: "Bogor", BirthDate: date(1985, 8, 25),
		Sex: kiosk.Male, Address: "Jl. Suryakencana No. 7, Bogor", Kecamatan: "Bogor Tengah", Status: kiosk.ResidentActive},
	{NIK: "3201015203000007", Name: "Dewi Lestari", BirthPlace: "Bogor", BirthDate: date(2000, 3, 12),
		Sex: kiosk.Female, Address: "Gg. Mawar No. 3, Bogor", Kecamatan: "Bogor Tengah", Status: kiosk.ResidentInactive},
}

func date(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

// narrator prints the demo's numbered steps in the officer's language.
type narrator struct {
	out  io.Writer
	cat  assets.Catalog
	lang kiosk.Lang
	step int
}

func (n *narrator) say(key string, args ...any) {
	n.step++
	fmt.Fprintf(n.out, "%2d. %s\n", n.step, n.cat.T(key, args...))
}

// runDemo walks one officer through an activation, four refused QR codes, a lost-phone
// deactivation and a held-up photo, with the real store, token, scanner, envelope and (where
// the models are) face code.
func runDemo(ctx context.Context, cfg demoConfig) error {
	lang := kiosk.ParseLang(cfg.lang)
	cat, err := assets.LoadCatalog(string(lang))
	if err != nil {
		return err
	}
	n := &narrator{out: cfg.out, cat: cat, lang: lang}
	say := n.say
	fmt.Fprintln(cfg.out, cat.T("demo.title"))

	dir := cfg.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "ikd-demo-"); err != nil {
			return fmt.Errorf("demo directory: %w", err)
		}
	}
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	st, err := store.Create(ctx, filepath.Join(dir, "kiosk.db"), []byte(hex.EncodeToString(secret)), store.Options{})
	if err != nil {
		return fmt.Errorf("create store: %w", err)
	}
	defer st.Close()
	say("demo.store", dir, st.KioskID())

	supervisor := kiosk.Officer{ID: "198001012005011001", Name: "Budi Santoso", Role: kiosk.RoleSupervisor}
	const pin = "246810"
	if err := st.AddOfficer(ctx, "", supervisor, pin); err != nil {
		return fmt.Errorf("add officer: %w", err)
	}
	officer, err := st.Login(ctx, supervisor.ID, pin)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	say("demo.officer", officer.Name, officer.Role)

	clk := clock.New(clock.System())
	now := clk.Now()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	kid := token.DefaultKeyID(pub)
	if err := st.AddRegistryKey(ctx, officer.ID, kiosk.RegistryKey{KeyID: kid, PublicKey: pub, NotBefore: now.Add(-24 * time.Hour)}); err != nil {
		return fmt.Errorf("trust registry key: %w", err)
	}
	signer, err := token.NewSigner(kid, priv)
	if err != nil {
		return err
	}

	residents := slices.Clone(demoResidents)
	// The citizen who activates: a man, since Debian's photos that play him are of one.
	citizen := &residents[1]
	df, reason, err := openDemoFace(cfg)
	if err != nil {
		return err
	}
	var camCitizen *demoCitizen
	if df != nil {
		defer df.Close()
		df.sayModels(n)
		if camCitizen, reason, err = df.citizenFace(ctx, citizen, dir, n); err != nil {
			return err
		}
	}
	if reason != "" {
		say("demo.face.unavailable", reason)
	}
	counts, err := st.ApplyResidents(ctx, residents, nil, "demo-1")
	if err != nil {
		return fmt.Errorf("load residents: %w", err)
	}
	say("demo.residents", counts.Added)

	sealer, err := ikdsync.NewSealer(st.KioskID(), st.DeviceKey())
	if err != nil {
		return err
	}
	deps := kiosk.Deps{Tokens: token.NewVerifier(st), Residents: st, Outbox: st, Audit: st,
		Sealer: sealer, Clock: clk, IDs: uuidV7{}, KioskID: st.KioskID()}
	if camCitizen != nil {
		v := df.verifierFor(camCitizen)
		v.OnProgress = camCitizen.watch
		deps.Faces = v
	}

	// The citizen registers in the app and shows the QR to the kiosk's camera.
	sign := func(k *token.Signer, issued time.Time) (string, error) {
		return k.Sign(token.Claims{NIK: citizen.NIK, RegistrationID: uuidV7{}.NewID(),
			MaskedEmail: "a***m@gmail.com", MaskedPhone: "0812****789",
			IssuedAt: issued.Truncate(time.Second), ExpiresAt: issued.Truncate(time.Second).Add(10 * time.Minute)})
	}
	text, err := sign(signer, now)
	if err != nil {
		return err
	}
	say("demo.register", citizen.NIK.Masked(), now.Add(10*time.Minute).Format("15:04"))
	frame, err := camera.Render(camera.SceneOptions{Text: text, ModulePx: 4, Blur: 0.8, Noise: 6, Moire: 0.3, Seed: 1})
	if err != nil {
		return fmt.Errorf("render camera frame: %w", err)
	}
	var scanner qr.Scanner
	start := time.Now()
	scanned, err := scanner.Decode(ctx, frame)
	if err != nil {
		return fmt.Errorf("scan QR: %w", err)
	}
	say("demo.scan", time.Since(start).Milliseconds())

	flow := kiosk.NewActivation(deps, officer)
	if err := flow.ScanToken(ctx, scanned); err != nil {
		return err
	}
	tok := flow.Token()
	say("demo.token", tok.NIK.Masked(), tok.MaskedEmail, tok.MaskedPhone)
	if err := flow.FindResident(ctx); err != nil {
		return err
	}
	r := flow.Resident()
	say("demo.resident", r.Name, r.BirthDate.Format("02-01-2006"), r.Kecamatan)
	if err := faceStep(ctx, flow, n, camCitizen); err != nil {
		return err
	}
	if err := flow.Approve(ctx, kiosk.Approval{EyeChecked: flow.State() == kiosk.StateFaceUncertain}); err != nil {
		return err
	}
	say("demo.queued", flow.Record().ID, len(flow.Record().Envelope))
	if err := sayRecord(ctx, st, flow.Record().ID, n); err != nil {
		return err
	}

	// What an attacker or an unlucky citizen brings to the counter is refused with a message
	// the officer can act on.
	_, strangerKey, _ := ed25519.GenerateKey(rand.Reader)
	stranger, _ := token.NewSigner("stranger", strangerKey)
	forged, err := sign(stranger, now)
	if err != nil {
		return err
	}
	expired, err := sign(signer, now.Add(-30*time.Minute))
	if err != nil {
		return err
	}
	refusals := []struct{ key, text string }{
		{"demo.case.replay", scanned},
		{"demo.case.forged", forged},
		{"demo.case.expired", expired},
		{"demo.case.damaged", scanned[:len(scanned)/2]},
	}
	for _, c := range refusals {
		err := kiosk.NewActivation(deps, officer).ScanToken(ctx, c.text)
		if err == nil {
			return fmt.Errorf("demo: %s was accepted", cat.T(c.key))
		}
		var ke *kiosk.Error
		if !errors.As(err, &ke) {
			return fmt.Errorf("demo: %s: %w", cat.T(c.key), err)
		}
		say("demo.refused", cat.T(c.key), ke.Msg.In(lang))
	}

	// A citizen who lost their phone has no QR: the officer types the NIK.
	lost := residents[0]
	deact := kiosk.NewDeactivation(deps, officer)
	if err := deact.EnterNIK(lost.NIK.String()); err != nil {
		return err
	}
	say("demo.deactivation", lost.NIK.Masked())
	if err := deact.FindResident(ctx); err != nil {
		return err
	}
	if err := faceStep(ctx, deact, n, nil); err != nil {
		return err
	}
	if err := deact.Approve(ctx, kiosk.Approval{EyeChecked: deact.State() == kiosk.StateFaceUncertain, Reason: "HP hilang"}); err != nil {
		return err
	}
	say("demo.deactivated", deact.Record().ID)

	if df != nil {
		if err := df.photoAttack(ctx, cfg, st, deps, officer, dir, n); err != nil {
			return fmt.Errorf("photo attack: %w", err)
		}
	}

	byState, err := st.RecordCounts(ctx)
	if err != nil {
		return err
	}
	say("demo.queue", byState[kiosk.RecordPending])
	entries, err := st.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	say("demo.audit", entries)
	say("demo.done", dir)
	return nil
}

// faceStep runs the flow's face check and, where the band is uncertain, the officer's eye
// check; citizen, if not nil, is the demo's citizen in front of the camera.
func faceStep(ctx context.Context, f *kiosk.Flow, n *narrator, citizen *demoCitizen) error {
	say, lang := n.say, n.lang
	if err := f.VerifyFace(ctx); err != nil {
		return err
	}
	citizen.sayTurn(n)
	res := f.Face()
	if len(f.Resident().References) == 0 {
		say("demo.face.skip", kiosk.ErrNoReference.Msg.In(lang))
	} else {
		say("demo.face", res.Band, res.Score)
	}
	if f.State() == kiosk.StateFaceUncertain {
		say("demo.eye")
	}
	return nil
}

// sayRecord reads the queued record back from the outbox and checks its signature, as the
// registry will, and prints what it says about the face check.
func sayRecord(ctx context.Context, st *store.Store, id string, n *narrator) error {
	recs, err := st.Records(ctx, kiosk.RecordPending, 100)
	if err != nil {
		return fmt.Errorf("read outbox: %w", err)
	}
	for _, r := range recs {
		if r.ID != id {
			continue
		}
		pub, _ := st.DeviceKey().Public().(ed25519.PublicKey) // a wrong type fails in Open as a wrong-sized key
		rec, err := ikdsync.Open(r.Envelope, pub)
		if err != nil {
			return fmt.Errorf("open outbox record %s: %w", id, err)
		}
		if a := rec.Activation; a != nil {
			n.say("demo.record", rec.Kind, a.NIK.Masked(), a.FaceBand, a.FaceScore, a.EyeChecked)
			return nil
		}
		return fmt.Errorf("outbox record %s is a %s, not an activation", id, rec.Kind)
	}
	return fmt.Errorf("outbox record %s not found", id)
}
