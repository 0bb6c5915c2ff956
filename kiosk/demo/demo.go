package demo

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/store"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
	"github.com/ikd-field/ikd/kiosk/token"
	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/mail"
	"github.com/ikd-field/ikd/sync/registry/sqlstore"
)

// DemoConfig is what the demo runs with. Everything else it makes itself.
type DemoConfig struct {
	Dir      string // "" makes a temporary directory, removed by Close
	ModelDir string // "" leaves the face step to the officer's eye, and the demo says why
	// Faces holds the shared face photos (tzuyu/) for the photo attack; "" looks in
	// $IKD_SHARED/testdata/faces and ../shared/testdata/faces, else uses Debian's photos.
	Faces string
	Lang  kiosk.Lang
	Log   *slog.Logger
}

// DemoArea is the kecamatan the demo's kiosk is enrolled for.
const DemoArea = "Bogor Tengah"

// The demo's supervisor and PIN.
var (
	DemoSupervisor = kiosk.Officer{ID: "198001012005011001", Name: "Budi Santoso", Role: kiosk.RoleSupervisor}
	DemoPIN        = "246810"
)

// The demo's people. Their NIKs agree with their birth dates and sexes.
var demoResidents = []kiosk.Resident{
	{NIK: "3201014101900001", Name: "Siti Aminah", BirthPlace: "Bogor", BirthDate: date(1990, 1, 1),
		Sex: kiosk.Female, Address: "Jl. Pajajaran No. 12, RT 02/RW 05, Bogor", Kecamatan: DemoArea, Status: kiosk.ResidentActive},
	{NIK: "3201012508850123", Name: "Agus Salim", BirthPlace: "Bogor", BirthDate: date(1985, 8, 25),
		Sex: kiosk.Male, Address: "Jl. Suryakencana No. 7, Bogor", Kecamatan: DemoArea, Status: kiosk.ResidentActive},
	{NIK: "3201015203000007", Name: "Dewi Lestari", BirthPlace: "Bogor", BirthDate: date(2000, 3, 12),
		Sex: kiosk.Female, Address: "Gg. Mawar No. 3, Bogor", Kecamatan: DemoArea, Status: kiosk.ResidentInactive},
}

func date(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

// Demo is a kiosk with everything it talks to in this process: the registry on SQLite in a
// temporary directory on a loopback port, its mail worker, an SMTP server whose mailbox the
// demo shows, and a scripted camera playing the citizen's phone and face.
type Demo struct {
	Kiosk   *app.App
	Mailbox *Mailbox
	Citizen *DemoCitizen
	Secret  []byte // the kiosk's unlock secret (already unlocked)
	Dir     string

	RegistryURL string
	Residents   []kiosk.Resident // as loaded into the registry
	// Activating is the demo citizen who activates (Agus Salim); LostPhone the one who
	// reports a lost phone (Siti Aminah).
	Activating, LostPhone kiosk.Resident
	// FaceReason says why the face camera step is left to the officer's eye; "" when the
	// models and photos are there and Activating has a reference descriptor.
	FaceReason string
	// Reference is the photo Activating's reference descriptor comes from; CameraPhotos is
	// how many other photos of him the camera plays.
	Reference    string
	CameraPhotos int
	// PhotoHolder is the resident whose photo is held up to the camera, with HeldPhoto;
	// zero when the photo attack cannot run (PhotoReason says why).
	PhotoHolder kiosk.Resident
	HeldPhoto   string
	PhotoReason string

	cam          *demoCamera
	signer       *token.Signer // the registry's
	citizenToken string        // the registry's citizen API token, which the demo's app holds
	heldChip     bool
	regStore     registry.Store
	// faces describes the residents' reference photos at the registry's import, as a
	// registry with the models does (nil without models).
	faces     registry.PhotoDescriber
	httpSrv   *http.Server
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	removeDir bool
}

// NewDemo builds the demo: the registry and its mailbox, the kiosk's store (initialised with
// the demo supervisor, enrolled with the registry by an enroll code), the demo residents in
// the registry, and one sync round that brings them to the kiosk. With models it waits for
// them, since the residents' reference descriptors are computed with them.
func NewDemo(ctx context.Context, cfg DemoConfig) (d *Demo, err error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	d = &Demo{Dir: cfg.Dir, cancel: cancel}
	defer func() {
		if err != nil {
			d.Close()
			d = nil
		}
	}()
	if d.Dir == "" {
		if d.Dir, err = os.MkdirTemp("", "ikd-demo-"); err != nil {
			return d, fmt.Errorf("demo directory: %w", err)
		}
		d.removeDir = true
	} else if err := os.MkdirAll(d.Dir, 0o700); err != nil {
		return d, fmt.Errorf("demo directory: %w", err)
	}
	if err := d.startRegistry(ctx, bg, cfg.Log); err != nil {
		return d, err
	}

	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return d, err
	}
	d.Secret = []byte(hex.EncodeToString(secret))
	st, err := store.Init(ctx, filepath.Join(d.Dir, app.StoreFile), d.Secret, app.StoreOptions(""), DemoSupervisor, DemoPIN)
	if err != nil {
		return d, fmt.Errorf("demo store: %w", err)
	}
	if err := st.Close(); err != nil {
		return d, err
	}
	if d.cam, err = newDemoCamera(); err != nil {
		return d, err
	}
	d.Citizen = &DemoCitizen{url: d.RegistryURL, token: d.citizenToken, cam: d.cam}
	k, err := app.Open(bg, app.Config{DataDir: d.Dir, ModelDir: cfg.ModelDir, Camera: app.CameraConfig{Source: d.cam},
		AllowUnverifiedModels: true, // a demo, not a production store
		Citizen:               d.cam, Lang: cfg.Lang, Log: cfg.Log,
		// The demo's frames come from files as fast as this machine analyses them; the
		// challenge's own timeout counts the frames' timestamps.
		FaceTimeout: 2 * time.Minute})
	if err != nil {
		return d, err
	}
	d.Kiosk = k
	if err := k.Unlock(ctx, d.Secret); err != nil {
		return d, err
	}
	code, err := registry.NewEnrollCode(ctx, d.regStore, DemoArea, time.Now(), time.Hour)
	if err != nil {
		return d, fmt.Errorf("demo enroll code: %w", err)
	}
	if _, err := k.Enroll(ctx, d.RegistryURL, code); err != nil {
		return d, fmt.Errorf("demo enrollment: %w", err)
	}

	d.Residents = slices.Clone(demoResidents)
	// The activating citizen's record carries the photo his reference comes from, for the
	// officer's eye check, also without models (then the eye is the only check).
	if photo, err := os.ReadFile(filepath.Join(debianJohns, demoJohn.dir, demoJohn.reference)); err == nil {
		d.Residents[1].Photo = photo
	}
	d.Activating, d.LostPhone = d.Residents[1], d.Residents[0]
	if err := d.prepareFaces(ctx, cfg); err != nil {
		return d, err
	}
	if err := d.loadResidents(ctx); err != nil {
		return d, err
	}
	if _, err := k.SyncRound(ctx); err != nil {
		return d, fmt.Errorf("demo: first sync: %w", err)
	}
	return d, nil
}

// startRegistry serves the registry on loopback with its mail worker sending to the mailbox.
func (d *Demo) startRegistry(ctx, bg context.Context, log *slog.Logger) error {
	// The registry seals personal data at rest as in production; the data key lives beside
	// the database so that a kept demo directory opens again.
	keyFile := filepath.Join(d.Dir, "registry-data.key")
	if err := registry.CreateDataKeyFile(keyFile); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("demo registry: %w", err)
	}
	keys, err := registry.ReadDataKeys(keyFile)
	if err != nil {
		return fmt.Errorf("demo registry: %w", err)
	}
	st, err := sqlstore.OpenSQLite(ctx, filepath.Join(d.Dir, "registry.db"))
	if err != nil {
		return fmt.Errorf("demo registry: %w", err)
	}
	d.regStore = registry.Seal(st, keys)
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	kid := token.DefaultKeyID(pub)
	signer, err := token.NewSigner(kid, key)
	if err != nil {
		return err
	}
	if err := registry.EnsureKey(ctx, d.regStore, kid, pub, time.Now().Add(-time.Hour)); err != nil {
		return fmt.Errorf("demo registry key: %w", err)
	}
	codeKey := make([]byte, 32)
	if _, err := rand.Read(codeKey); err != nil {
		return err
	}
	citizenToken := make([]byte, 16)
	if _, err := rand.Read(citizenToken); err != nil {
		return err
	}
	d.citizenToken = hex.EncodeToString(citizenToken)
	if d.Mailbox, err = OpenMailbox(log); err != nil {
		return err
	}
	w := &mail.Worker{Queue: d.regStore, Log: log, Poll: time.Second,
		Sender: &mail.SMTPSender{Addr: d.Mailbox.Addr(), From: "IKD Dukcapil <no-reply@ikd.invalid>", Timeout: 30 * time.Second}}
	d.signer = signer
	srv := &registry.Server{Store: d.regStore, Signer: signer, PublicKey: pub, TokenTTL: 10 * time.Minute,
		CodeKey: codeKey, Now: time.Now, Log: log, MailQueued: w.Kick, CitizenToken: []byte(d.citizenToken)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo registry: %w", err)
	}
	d.RegistryURL = "http://" + ln.Addr().String()
	d.httpSrv = &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	d.wg.Go(func() {
		if err := d.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("demo registry stopped", "err", err)
		}
	})
	d.wg.Go(func() {
		if err := w.Run(bg); err != nil && bg.Err() == nil {
			log.Warn("demo mail worker stopped", "err", err)
		}
	})
	return nil
}

// prepareFaces gives the activating citizen a reference descriptor from one of Debian's
// photos of John Schneider, whose other photos the camera plays, and picks the photo
// attack's photos. Without models or photos it records why.
func (d *Demo) prepareFaces(ctx context.Context, cfg DemoConfig) error {
	if cfg.ModelDir == "" {
		d.FaceReason = "IKD_MODELS / --models"
		d.PhotoReason = d.FaceReason
		return nil
	}
	p, err := d.Kiosk.FacePipeline(ctx)
	if err != nil {
		d.FaceReason = kiosk.OfficerMessage(err, kiosk.LangEN) + ": " + errors.Unwrap(err).Error()
		d.PhotoReason = d.FaceReason
		return nil
	}
	d.faces = p
	ref := filepath.Join(debianJohns, demoJohn.dir, demoJohn.reference)
	if _, err := os.Stat(ref); err != nil {
		d.FaceReason = err.Error() + " (Debian's libdlib19.1)"
	} else {
		desc, err := describePhoto(ctx, p, ref, true)
		if err != nil {
			return err
		}
		d.Residents[1].References = []kiosk.Descriptor{desc}
		// The small reference photo rides in the snapshot: the officer's eye check shows it and
		// the modern engine computes its template from it.
		if d.Residents[1].Photo, err = os.ReadFile(ref); err != nil {
			return err
		}
		d.Activating, d.Reference, d.CameraPhotos = d.Residents[1], ref, len(demoJohn.frontal)+1
		faces, err := newDemoFaces(debianJohns, filepath.Join(d.Dir, "camera", "citizen"), demoJohn)
		if err != nil {
			return err
		}
		d.cam.mu.Lock()
		d.cam.faces = faces
		d.cam.mu.Unlock()
	}
	holder, refPhoto, held, chip, reason := heldPhoto(cfg.Faces)
	if reason != "" {
		d.PhotoReason = reason
		return nil
	}
	desc, err := describePhoto(ctx, p, refPhoto, chip)
	if err != nil {
		return err
	}
	holder.References = []kiosk.Descriptor{desc}
	if holder.Photo, err = os.ReadFile(refPhoto); err != nil {
		return fmt.Errorf("demo reference photo: %w", err)
	}
	d.Residents = append(d.Residents, holder)
	d.PhotoHolder, d.HeldPhoto, d.heldChip = holder, held, chip
	return nil
}

// describePhoto is the reference descriptor of one photo, framed as the camera's are.
func describePhoto(ctx context.Context, p *app.FacePipeline, path string, chip bool) (kiosk.Descriptor, error) {
	img, err := photoFrame(path, chip, false, image.Point{})
	if err != nil {
		return kiosk.Descriptor{}, err
	}
	desc, err := p.Describe(ctx, img)
	if err != nil {
		return kiosk.Descriptor{}, fmt.Errorf("reference photo %s: %w", path, err)
	}
	return desc, nil
}

// loadResidents imports the demo's people and its officer into the registry, as the
// Dukcapil's data would be; with the models, the registry describes their reference photos
// (the kiosk then receives modern templates rather than compute them).
func (d *Demo) loadResidents(ctx context.Context) error {
	var b bytes.Buffer
	for _, r := range d.Residents {
		line, err := snapshot.EncodeLine(r)
		if err != nil {
			return fmt.Errorf("demo resident %s: %w", r.NIK.Masked(), err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	if _, err := registry.ImportResidentsDescribed(ctx, d.regStore, &b, d.faces, 1); err != nil {
		return fmt.Errorf("demo residents: %w", err)
	}
	// The registry authorizes each record by its officer: the demo's supervisor is in its list.
	if err := registry.AddOfficer(ctx, d.regStore, registry.OfficerRow{ID: DemoSupervisor.ID, Name: DemoSupervisor.Name,
		Area: DemoArea, Role: DemoSupervisor.Role}); err != nil {
		return fmt.Errorf("demo officer: %w", err)
	}
	return nil
}

// IssueToken signs a token for nik with the registry's key as the registry would have at
// issued, for a registration that does not exist: the demo's expired QR.
func (d *Demo) IssueToken(nik kiosk.NIK, issued time.Time) (string, error) {
	c, err := token.NewClaims(nik, uuid.Must(uuid.NewV7()).String(), DemoEmail(d.Activating), "0812-3456-7789", issued, 10*time.Minute)
	if err != nil {
		return "", err
	}
	return d.signer.Sign(c)
}

// ShowHeldPhoto makes the camera see the photo attack's photo, held still.
func (d *Demo) ShowHeldPhoto(ctx context.Context) error {
	if d.HeldPhoto == "" {
		return errors.New("demo: no photo to hold up: " + d.PhotoReason)
	}
	dir := filepath.Join(d.Dir, "camera", "held")
	if err := writeFrames(dir, []string{d.HeldPhoto}, d.heldChip, false, centred); err != nil {
		return err
	}
	frames, err := camera.OpenReplay(dir, camera.ReplayOptions{})
	if err != nil {
		return err
	}
	return d.cam.showHeld(ctx, frames)
}

// TurnAnswered is how the demo's citizen answered the head-turn prompt: the prompt's code
// and the measured yaw of the frame that answered it; ok is false before any turn.
func (d *Demo) TurnAnswered() (prompt string, yaw float64, ok bool) {
	d.cam.mu.Lock()
	defer d.cam.mu.Unlock()
	f := d.cam.faces
	if f == nil || f.turn == nil {
		return "", 0, false
	}
	return f.asked, f.turn.Obs.Quality.Pose.Yaw, true
}

// Close stops the kiosk, the registry, the mail worker and the mailbox, and removes a
// temporary directory.
func (d *Demo) Close() error {
	var errs []error
	if d.Kiosk != nil {
		errs = append(errs, d.Kiosk.Close())
	}
	if d.httpSrv != nil {
		// Close, not Shutdown: the kiosk, the only client, is gone, and Shutdown would wait
		// seconds for a connection it dialled but never used.
		errs = append(errs, d.httpSrv.Close())
	}
	d.cancel()
	d.wg.Wait()
	if d.Mailbox != nil {
		errs = append(errs, d.Mailbox.Close())
	}
	if d.regStore != nil {
		errs = append(errs, d.regStore.Close())
	}
	if d.removeDir {
		errs = append(errs, os.RemoveAll(d.Dir))
	}
	return errors.Join(errs...)
}

// DemoCitizen is the citizen's side of the demo: the IKD app registering, the phone showing
// its QR to the kiosk's camera, and confirming the e-mailed code.
type DemoCitizen struct {
	url   string
	token string // the citizen API's bearer token
	cam   *demoCamera
}

// Register registers nik in the citizen app and shows the QR on the phone held to the camera.
func (c *DemoCitizen) Register(ctx context.Context, nik kiosk.NIK, email, phone string) (registry.RegistrationResponse, error) {
	body, err := json.Marshal(registry.RegistrationRequest{NIK: string(nik), Email: email, Phone: phone})
	if err != nil {
		return registry.RegistrationResponse{}, err
	}
	var resp registry.RegistrationResponse
	if err := c.post(ctx, "/v1/registrations", body, http.StatusCreated, &resp); err != nil {
		return registry.RegistrationResponse{}, fmt.Errorf("register: %w", err)
	}
	if err := c.cam.ShowPhone(resp.Token); err != nil {
		return registry.RegistrationResponse{}, err
	}
	return resp, nil
}

// ConfirmCode sends the code from the e-mail, as the citizen types it into the app; a
// refused code is a *kiosk.Error with the registry's code and words.
func (c *DemoCitizen) ConfirmCode(ctx context.Context, registrationID, code string) (status string, err error) {
	body, err := json.Marshal(registry.ConfirmRequest{Code: code})
	if err != nil {
		return "", err
	}
	var resp registry.ConfirmResponse
	if err := c.post(ctx, "/v1/registrations/"+registrationID+"/confirm", body, http.StatusOK, &resp); err != nil {
		return "", fmt.Errorf("confirm code: %w", err)
	}
	return resp.Status, nil
}

func (c *DemoCitizen) post(ctx context.Context, path string, body []byte, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		var refusal struct{ Code, Error string }
		if err := json.NewDecoder(resp.Body).Decode(&refusal); err != nil {
			return fmt.Errorf("registry answered %s", resp.Status)
		}
		return &kiosk.Error{Code: refusal.Code, Msg: kiosk.Message{ID: refusal.Error, EN: refusal.Error},
			Err: fmt.Errorf("registry answered %s", resp.Status)}
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// sharedFaces is the shared face photos' directory: $IKD_SHARED/testdata/faces, else
// ../shared/testdata/faces (a development checkout's neighbour).
func sharedFaces() string {
	shared := os.Getenv("IKD_SHARED")
	if shared == "" {
		shared = filepath.Join("..", "shared")
	}
	return filepath.Join(shared, "testdata", "faces")
}

// photoHolder is a resident whose reference comes from one photo while someone holds another
// photo of her up to the camera.
var photoHolder = kiosk.Resident{NIK: "3201016305950004", Name: "Rina Wulandari", BirthPlace: "Bogor",
	BirthDate: date(1995, 5, 23), Sex: kiosk.Female, Address: "Jl. Veteran No. 9, Bogor",
	Kecamatan: DemoArea, Status: kiosk.ResidentActive}

// debianHolder is the same with Debian's photos, of a man.
var debianHolder = kiosk.Resident{NIK: "3201011407920005", Name: "Hendra Gunawan", BirthPlace: "Bogor",
	BirthDate: date(1992, 7, 14), Sex: kiosk.Male, Address: "Jl. Veteran No. 11, Bogor",
	Kecamatan: DemoArea, Status: kiosk.ResidentActive}

// heldPhoto picks the photo attack's resident and photos: the shared photos (tzuyu) when
// present, else Debian's face chips. It returns an empty reason when one set is there.
func heldPhoto(faces string) (holder kiosk.Resident, ref, held string, chip bool, reason string) {
	if faces == "" {
		faces = sharedFaces()
	}
	ref, held = filepath.Join(faces, "tzuyu", "2.jpg"), filepath.Join(faces, "tzuyu", "1.jpg")
	if _, err := os.Stat(held); err == nil {
		return photoHolder, ref, held, false, ""
	}
	p := debianPhotoHolder
	ref, held = filepath.Join(debianJohns, p.dir, p.reference), filepath.Join(debianJohns, p.dir, p.held)
	if _, err := os.Stat(held); err != nil {
		return kiosk.Resident{}, "", "", false, err.Error()
	}
	return debianHolder, ref, held, true, ""
}

// DemoEmail is a demo resident's e-mail address, delivered to the demo's mailbox.
func DemoEmail(r kiosk.Resident) string {
	return strings.ToLower(strings.ReplaceAll(r.Name, " ", ".")) + "@mail.demo"
}
