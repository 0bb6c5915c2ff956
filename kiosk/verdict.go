package kiosk

// Verdict is the one thing the officer is told to do with a review. It is derived from the
// band DecideFace gave and from what the officer has to compare with; the screen words it,
// the flow enforces it.
type Verdict string

const (
	// VerdictMatch: the face matches; read the data back and approve.
	VerdictMatch Verdict = "match"
	// VerdictEyeCheck: the officer compares the citizen with the reference photo, then
	// approves (confirming the comparison) or rejects.
	VerdictEyeCheck Verdict = "eye_check"
	// VerdictSupervisor: approval needs a supervisor's PIN (see Escalation); else reject.
	VerdictSupervisor Verdict = "supervisor"
	// VerdictNoMatch: the face does not match; the visit can only be rejected.
	VerdictNoMatch Verdict = "no_match"
)

// Escalation is why a review needs a supervisor rather than the officer's own eye.
type Escalation string

const (
	// EscalateOtherNIK: the live face also matches another resident (FaceResult.OtherNIKs),
	// a possible second identity.
	EscalateOtherNIK Escalation = "other_nik"
	// EscalateNoPhoto: the face must be compared by eye but there is no reference photo to
	// compare with.
	EscalateNoPhoto Escalation = "no_reference_photo"
)

// ReviewVerdict is the verdict on a face result for a resident with (hasPhoto) or without a
// reference photo, with the reasons a supervisor is needed. A face that did not match is
// VerdictNoMatch whatever else holds. A clear match needs no photo: the comparison was made
// against the reference descriptors, and the photo only serves the eye check.
func ReviewVerdict(face FaceResult, hasPhoto bool) (Verdict, []Escalation) {
	if face.Band == BandNoMatch {
		return VerdictNoMatch, nil
	}
	var esc []Escalation
	if len(face.OtherNIKs) > 0 {
		esc = append(esc, EscalateOtherNIK)
	}
	eye := NeedsEyeCheck(face)
	if eye && !hasPhoto {
		esc = append(esc, EscalateNoPhoto)
	}
	switch {
	case len(esc) > 0:
		return VerdictSupervisor, esc
	case eye:
		return VerdictEyeCheck, nil
	}
	return VerdictMatch, nil
}
