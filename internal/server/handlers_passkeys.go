package server

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

// The passkey endpoints speak WebAuthn's own JSON: begin answers the
// options object that navigator.credentials.create / get take
// (PublicKeyCredentialCreationOptionsJSON / RequestOptionsJSON: what
// @simplewebauthn/browser's startRegistration({optionsJSON}) and
// PublicKeyCredential.parseCreationOptionsFromJSON accept unchanged), and
// finish takes the credential as the browser returns it
// (PublicKeyCredential.toJSON(), or @simplewebauthn/browser's result).

type passkeyJSON struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	AAGUID         string     `json:"aaguid"`
	Transports     []string   `json:"transports"`
	BackupEligible *bool      `json:"backup_eligible"`
	BackedUp       *bool      `json:"backed_up"`
	CreatedAt      time.Time  `json:"created_at"`
	LastUsedAt     *time.Time `json:"last_used_at"`
}

func toPasskeyJSON(p *latchkey.Passkey) passkeyJSON {
	transports := p.Transports
	if transports == nil {
		transports = []string{}
	}
	return passkeyJSON{ID: p.ID, Name: p.Name, AAGUID: uuidString(p.AAGUID), Transports: transports,
		BackupEligible: p.BackupEligible, BackedUp: p.BackedUp, CreatedAt: p.CreatedAt.UTC(), LastUsedAt: utc(p.LastUsedAt)}
}

// uuidString writes a 16-byte AAGUID as a UUID (8-4-4-4-12).
func uuidString(b []byte) string {
	if len(b) != 16 {
		return ""
	}
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

type passkeyBeginRequest struct {
	Name string `json:"name"`
}

// writeOptions answers a ceremony's options: fresh each time, never cached.
func writeOptions(w http.ResponseWriter, options json.RawMessage) {
	noStore(w)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(options)
}

// readCredential reads a finish's body: JSON (415 otherwise), bounded.
// Its shape is checked by the use case, which allows the members
// browsers add over time.
func readCredential(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if err := requireJSON(r); err != nil {
		return nil, err
	}
	r.Body = http.MaxBytesReader(w, r.Body, auth.MaxPasskeyResponseBytes)
	body, err := readBody(w, r)
	if latchkey.IsCode(err, latchkey.EPayloadTooLarge) {
		return nil, latchkey.Errorf(latchkey.EPayloadTooLarge, "The passkey response is larger than %d bytes.", auth.MaxPasskeyResponseBytes)
	}
	return body, err
}

// handleBeginPasskeyRegistration answers creation options for a new
// passkey of the caller (a fresh sign-in). The body, {name}, is optional.
func (s *Server) handleBeginPasskeyRegistration() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		var req passkeyBeginRequest
		if r.ContentLength != 0 {
			var err error
			if req, err = decode[passkeyBeginRequest](w, r); err != nil {
				return err
			}
		}
		options, err := s.auth.BeginPasskeyRegistration(r.Context(), p, req.Name, s.meta(r))
		if err != nil {
			return err
		}
		writeOptions(w, options)
		return nil
	}
}

func (s *Server) handleFinishPasskeyRegistration() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		body, err := readCredential(w, r)
		if err != nil {
			return err
		}
		pk, err := s.auth.FinishPasskeyRegistration(r.Context(), p, body, s.meta(r))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, toPasskeyJSON(pk))
		return nil
	}
}

func (s *Server) handleListPasskeys() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		list, err := s.auth.ListPasskeys(r.Context(), p.User.ID)
		if err != nil {
			return err
		}
		out := make([]passkeyJSON, 0, len(list))
		for i := range list {
			out = append(out, toPasskeyJSON(&list[i]))
		}
		noStore(w)
		writeJSON(w, http.StatusOK, map[string]any{"passkeys": out})
		return nil
	}
}

type renamePasskeyRequest struct {
	Name string `json:"name"`
}

func (s *Server) handleRenamePasskey() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		req, err := decode[renamePasskeyRequest](w, r)
		if err != nil {
			return err
		}
		if err := s.auth.RenamePasskey(r.Context(), p, r.PathValue("id"), req.Name, s.meta(r)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (s *Server) handleRemovePasskey() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		if err := s.auth.RemovePasskey(r.Context(), p, r.PathValue("id"), s.meta(r)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// handleBeginPasskeySignIn answers request options for a username-less
// sign-in. It takes no body (an empty JSON object is accepted too).
func (s *Server) handleBeginPasskeySignIn() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		if r.ContentLength != 0 {
			if _, err := decode[struct{}](w, r); err != nil {
				return err
			}
		}
		options, err := s.auth.BeginPasskeySignIn(r.Context(), s.meta(r))
		if err != nil {
			return err
		}
		writeOptions(w, options)
		return nil
	}
}

func (s *Server) handleFinishPasskeySignIn() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		body, err := readCredential(w, r)
		if err != nil {
			return err
		}
		t, err := s.auth.PasskeySignIn(r.Context(), body, s.meta(r))
		if err != nil {
			return err
		}
		s.writeTokens(w, http.StatusOK, t)
		return nil
	}
}

// handleBeginPasskeyReauthentication answers request options for
// confirming the signed-in user with one of their passkeys; the assertion
// goes to POST /v1/auth/reauthenticate as {"passkey": …}.
func (s *Server) handleBeginPasskeyReauthentication() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		if r.ContentLength != 0 {
			if _, err := decode[struct{}](w, r); err != nil {
				return err
			}
		}
		options, err := s.auth.BeginPasskeyReauthentication(r.Context(), p, s.meta(r))
		if err != nil {
			return err
		}
		writeOptions(w, options)
		return nil
	}
}
