package server

import (
	"encoding/base64"
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/mfa"
)

// mfaChallengeJSON answers a sign-in whose user must prove a second
// factor: no token, a short-lived mfa_token for POST /v1/auth/mfa/verify.
type mfaChallengeJSON struct {
	MFARequired  bool     `json:"mfa_required"`
	MFAToken     string   `json:"mfa_token"`
	MFAExpiresIn int64    `json:"mfa_expires_in"`
	Factors      []string `json:"factors"`
}

// writeChallenge answers a sign-in that waits for its second factor.
func (s *Server) writeChallenge(w http.ResponseWriter, c *auth.MFAChallenge) {
	noStore(w)
	writeJSON(w, http.StatusOK, mfaChallengeJSON{MFARequired: true, MFAToken: c.Token.Reveal(),
		MFAExpiresIn: secondsUntil(c.ExpiresAt, s.now()), Factors: c.Factors})
}

type mfaVerifyRequest struct {
	MFAToken     string `json:"mfa_token"`
	Code         string `json:"code"`
	RecoveryCode string `json:"recovery_code"`
}

func (r mfaVerifyRequest) proof() auth.MFAProof {
	return auth.MFAProof{Code: r.Code, RecoveryCode: r.RecoveryCode}
}

// stepUpJSON is a step-up's answer: a new access token for the same
// session (its refresh token stays as it is).
type stepUpJSON struct {
	AccessToken string   `json:"access_token"`
	TokenType   string   `json:"token_type"`
	ExpiresIn   int64    `json:"expires_in"`
	SessionID   string   `json:"session_id"`
	ACR         string   `json:"acr"`
	AMR         []string `json:"amr"`
}

// handleMFAVerify is the second step of a sign-in ({mfa_token, code} or
// {mfa_token, recovery_code}: the token response), or, from a signed-in
// session's bearer token without an mfa_token, a step-up of that session.
// Either way the account's limits and back-off apply, keyed by the
// account the challenge or session belongs to: wrong codes count as
// failed sign-ins.
func (s *Server) handleMFAVerify() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		req, err := decode[mfaVerifyRequest](w, r)
		if err != nil {
			return err
		}
		if req.MFAToken == "" {
			return s.stepUp(w, r, req)
		}
		email, err := s.auth.MFAChallengeEmail(r.Context(), req.MFAToken)
		if err != nil {
			return err
		}
		attempt, ok := s.admitAccount(w, r, email)
		if !ok {
			return nil
		}
		t, err := s.auth.VerifyMFA(r.Context(), req.MFAToken, req.proof(), s.meta(r))
		attempt.done(w, r, err)
		if err != nil {
			return err
		}
		s.writeTokens(w, http.StatusOK, t)
		return nil
	}
}

// stepUp proves a second factor for the session of the request's bearer
// token.
func (s *Server) stepUp(w http.ResponseWriter, r *http.Request, req mfaVerifyRequest) error {
	if _, has := r.Header["Authorization"]; !has {
		return latchkey.Errorf(latchkey.EInvalidRequest, "Give mfa_token, or verify for a signed-in session with its access token.")
	}
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	if p.Via != "bearer" {
		return latchkey.Errorf(latchkey.EForbidden, "A step-up needs a session's access token; an API key has no session.")
	}
	attempt, ok := s.admitAccount(w, r, p.User.Email)
	if !ok {
		return nil
	}
	t, err := s.auth.StepUp(r.Context(), p, req.proof(), s.meta(r))
	attempt.done(w, r, err)
	if err != nil {
		return err
	}
	noStore(w)
	writeJSON(w, http.StatusOK, stepUpJSON{AccessToken: t.AccessToken.Reveal(), TokenType: "Bearer",
		ExpiresIn: secondsUntil(t.AccessExpiresAt, s.now()), SessionID: t.Session.ID,
		ACR: auth.ACRFor(t.Session.AMR), AMR: t.Session.AMR})
	return nil
}

// totpFactorJSON is an authenticator as its owner sees it (never its secret).
type totpFactorJSON struct {
	ID          string     `json:"id"`
	Type        string     `json:"type"`
	Name        string     `json:"name"`
	Confirmed   bool       `json:"confirmed"`
	CreatedAt   time.Time  `json:"created_at"`
	ConfirmedAt *time.Time `json:"confirmed_at,omitempty"`
	LastUsedAt  *time.Time `json:"last_used_at,omitempty"`
	// ExpiresAt is when a pending enrollment lapses.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

func toTOTPJSON(f *latchkey.TOTPFactor) totpFactorJSON {
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	return totpFactorJSON{ID: f.ID, Type: auth.FactorTOTP, Name: f.Name, Confirmed: f.Confirmed(), CreatedAt: f.CreatedAt.UTC(),
		ConfirmedAt: utc(f.ConfirmedAt), LastUsedAt: utc(f.LastUsedAt), ExpiresAt: utc(f.ExpiresAt)}
}

type enrollRequest struct {
	Name string `json:"name"`
}

// enrollmentJSON is shown once: the secret never again.
type enrollmentJSON struct {
	totpFactorJSON
	Secret     string `json:"secret"`
	OTPAuthURI string `json:"otpauth_uri"`
	QRSVG      string `json:"qr_svg"`
	QRPNG      string `json:"qr_png"` // base64 of a PNG image
}

// qrPNGSize is the PNG QR code's width and height in pixels.
const qrPNGSize = 256

func (s *Server) handleEnrollTOTP() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		req := enrollRequest{}
		if r.ContentLength != 0 {
			var err error
			if req, err = decode[enrollRequest](w, r); err != nil {
				return err
			}
		}
		e, err := s.auth.EnrollTOTP(r.Context(), p, req.Name, s.meta(r))
		if err != nil {
			return err
		}
		png, err := mfa.QRPNG(e.URI, qrPNGSize)
		if err != nil {
			return err
		}
		noStore(w)
		writeJSON(w, http.StatusCreated, enrollmentJSON{totpFactorJSON: toTOTPJSON(e.Factor), Secret: e.Secret.Base32(),
			OTPAuthURI: e.URI, QRSVG: e.QRSVG, QRPNG: base64.StdEncoding.EncodeToString(png)})
		return nil
	}
}

type codeRequest struct {
	Code string `json:"code"`
}

func (r codeRequest) Validate() error {
	if r.Code == "" {
		return latchkey.Errorf(latchkey.EInvalidRequest, "code is required.")
	}
	return nil
}

// confirmationJSON is an active authenticator; recovery_codes come with the
// first one, shown this once.
type confirmationJSON struct {
	totpFactorJSON
	RecoveryCodes []string `json:"recovery_codes,omitempty"`
}

func (s *Server) handleConfirmTOTP() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		req, err := decode[codeRequest](w, r)
		if err != nil {
			return err
		}
		c, err := s.auth.ConfirmTOTP(r.Context(), p, r.PathValue("id"), req.Code, s.meta(r))
		if err != nil {
			return err
		}
		noStore(w)
		writeJSON(w, http.StatusOK, confirmationJSON{totpFactorJSON: toTOTPJSON(c.Factor), RecoveryCodes: c.RecoveryCodes})
		return nil
	}
}

// mfaJSON is the caller's second factors.
type mfaJSON struct {
	Enabled           bool             `json:"enabled"`
	Factors           []totpFactorJSON `json:"factors"`
	RecoveryCodesLeft int              `json:"recovery_codes_left"`
}

// toMFAJSON is a user's second factors as GET /v1/me/mfa and the admin
// API show them: never a secret or a recovery code.
func toMFAJSON(st *auth.MFAStatus) mfaJSON {
	out := mfaJSON{Enabled: st.Active(), Factors: []totpFactorJSON{}, RecoveryCodesLeft: st.RecoveryCodesLeft}
	for i := range st.TOTP {
		out.Factors = append(out.Factors, toTOTPJSON(&st.TOTP[i]))
	}
	return out
}

func (s *Server) handleListMFA() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		st, err := s.auth.MFA(r.Context(), p.User.ID)
		if err != nil {
			return err
		}
		noStore(w)
		writeJSON(w, http.StatusOK, toMFAJSON(st))
		return nil
	}
}

type removeFactorRequest struct {
	Code         string `json:"code"`
	RecoveryCode string `json:"recovery_code"`
}

// handleRemoveTOTP removes an authenticator. The last active one needs a
// body with a current code or a recovery code (MF-05).
func (s *Server) handleRemoveTOTP() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		var req removeFactorRequest
		if r.ContentLength != 0 {
			var err error
			if req, err = decode[removeFactorRequest](w, r); err != nil {
				return err
			}
		}
		proof := auth.MFAProof{Code: req.Code, RecoveryCode: req.RecoveryCode}
		if err := s.auth.RemoveTOTP(r.Context(), p, r.PathValue("id"), proof, s.meta(r)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

type recoveryCodesJSON struct {
	Codes []string `json:"codes"`
}

func (s *Server) handleRegenerateRecoveryCodes() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		codes, err := s.auth.RegenerateRecoveryCodes(r.Context(), p, s.meta(r))
		if err != nil {
			return err
		}
		noStore(w)
		writeJSON(w, http.StatusCreated, recoveryCodesJSON{Codes: codes})
		return nil
	}
}

// handleAdminResetMFA removes every second factor of a user and ends their
// sessions: for a person who lost their phone and their recovery codes.
func (s *Server) handleAdminResetMFA() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		if _, err := s.auth.ResetMFA(r.Context(), r.PathValue("id"), actor(p, s.meta(r))); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
