// Package fit holds the offline tools around package match's calibration: reading labelled
// descriptor files (Dataset), fitting the projection and thresholds (Fit), people-disjoint
// cross-validation (CrossValidate), pair-score error rates (PairScores) and the port-noise
// evaluation of converted models (Perturbation, PortThresholds). The kiosk never runs it;
// the commands in ../cmd do, to regenerate and check assets/calibration.
package fit
