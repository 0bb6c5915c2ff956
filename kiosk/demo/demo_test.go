package demo

import (
	"context"
	"errors"
	"testing"

	"github.com/ikd-field/ikd/kiosk"
)

// The demo as the window drives it: the citizen registers, the kiosk scans, approves and
// syncs, the e-mail arrives in the mailbox, a wrong code is refused and the right one
// activates. Without models the face is the officer's eye check.
func TestDemoFromRegistrationToActivation(t *testing.T) {
	ctx := context.Background()
	d, err := NewDemo(ctx, DemoConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := d.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	if d.FaceReason == "" {
		t.Error("no reason given for the face step without models")
	}
	s, err := d.Kiosk.Login(ctx, DemoSupervisor.ID, DemoPIN)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := d.Citizen.Register(ctx, d.Activating.NIK, DemoEmail(d.Activating), "0812-3456-7789")
	if err != nil {
		t.Fatal(err)
	}
	preview, err := d.Kiosk.Preview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := <-preview; !ok || f.Image == nil {
		t.Fatal("no preview frame")
	}
	v := s.NewActivation()
	if err := v.ScanQR(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := v.FindResident(ctx); err != nil {
		t.Fatal(err)
	}
	if err := v.CaptureFace(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Approve(ctx, kiosk.Approval{EyeChecked: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Kiosk.SyncRound(ctx); err != nil {
		t.Fatal(err)
	}
	if st := d.Kiosk.Status(); !st.Online || st.SyncUnavailable != "" {
		t.Errorf("status after sync %+v", st)
	}
	msg, err := d.Mailbox.WaitFor(ctx, DemoEmail(d.Activating))
	if err != nil {
		t.Fatal(err)
	}
	wrong := "000000"
	if msg.Code == wrong {
		wrong = "111111"
	}
	var ke *kiosk.Error
	if _, err := d.Citizen.ConfirmCode(ctx, reg.RegistrationID, wrong); !errors.As(err, &ke) || ke.Code == "" {
		t.Fatalf("wrong code: %v", err)
	}
	status, err := d.Citizen.ConfirmCode(ctx, reg.RegistrationID, msg.Code)
	if err != nil || status != "activated" {
		t.Fatalf("confirm: %q, %v", status, err)
	}
}
