package server

import (
	"net/http"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/auth"
)

// acceptedBody is the one answer of every request that mails an address
// it names: the same for every address, known or not.
type acceptedBody struct {
	Status string `json:"status"`
	Detail string `json:"detail"`
}

func writeAccepted(w http.ResponseWriter) {
	noStore(w)
	writeJSON(w, http.StatusAccepted, acceptedBody{Status: "accepted",
		Detail: "If the address can receive mail from us, a message is on its way."})
}

type emailRequest struct {
	Email string `json:"email"`
}

func (r emailRequest) Validate() error {
	if r.Email == "" {
		return latchkey.Errorf(latchkey.EInvalidRequest, "email is required.")
	}
	return nil
}

// mailSender is a public endpoint that mails the address in its body: the
// per-address limit applies once the body is read, and the answer is 202
// whatever the address.
func mailSender(s *Server, send func(r *http.Request, email string) error) handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		req, err := decode[emailRequest](w, r)
		if err != nil {
			return err
		}
		if _, ok := s.admitAccount(w, r, req.Email); !ok {
			return nil
		}
		if err := send(r, req.Email); err != nil {
			return err
		}
		writeAccepted(w)
		return nil
	}
}

func (s *Server) handleSendVerification() handler {
	return mailSender(s, func(r *http.Request, email string) error {
		return s.auth.SendVerification(r.Context(), email, s.meta(r))
	})
}

func (s *Server) handleForgotPassword() handler {
	return mailSender(s, func(r *http.Request, email string) error {
		return s.auth.ForgotPassword(r.Context(), email, s.meta(r))
	})
}

func (s *Server) handleStartEmailSignIn() handler {
	return mailSender(s, func(r *http.Request, email string) error {
		return s.auth.StartEmailSignIn(r.Context(), email, s.meta(r))
	})
}

// proofRequest is a mailed link's token, or the address and code.
type proofRequest struct {
	Token string `json:"token"`
	Email string `json:"email"`
	Code  string `json:"code"`
}

func (r proofRequest) proof() auth.EmailProof {
	return auth.EmailProof{Token: r.Token, Email: r.Email, Code: r.Code}
}

func (r proofRequest) Validate() error {
	if (r.Token == "") == (r.Code == "") || (r.Code != "" && r.Email == "") {
		return latchkey.Errorf(latchkey.EInvalidRequest, "Send either token, or email and code.")
	}
	return nil
}

func (s *Server) handleConfirmEmail() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		req, err := decode[proofRequest](w, r)
		if err != nil {
			return err
		}
		if _, err := s.auth.ConfirmEmail(r.Context(), req.proof(), s.meta(r)); err != nil {
			return err
		}
		noStore(w)
		writeJSON(w, http.StatusOK, map[string]bool{"email_verified": true})
		return nil
	}
}

type resetPasswordRequest struct {
	proofRequest
	NewPassword string `json:"new_password"`
}

func (r resetPasswordRequest) Validate() error {
	if r.NewPassword == "" {
		return latchkey.Errorf(latchkey.EInvalidRequest, "new_password is required.")
	}
	return r.proofRequest.Validate()
}

func (s *Server) handleResetPassword() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		req, err := decode[resetPasswordRequest](w, r)
		if err != nil {
			return err
		}
		if err := s.auth.ResetPassword(r.Context(), req.proof(), req.NewPassword, s.meta(r)); err != nil {
			return err
		}
		noStore(w)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (s *Server) handleVerifyEmailSignIn() handler {
	return tokenEndpoint(s, http.StatusOK, func(r *http.Request, req proofRequest) (*auth.Tokens, error) {
		return s.auth.VerifyEmailSignIn(r.Context(), req.proof(), s.meta(r))
	})
}

type tokenOnlyRequest struct {
	Token string `json:"token"`
}

func (r tokenOnlyRequest) Validate() error {
	if r.Token == "" {
		return latchkey.Errorf(latchkey.EInvalidRequest, "token is required.")
	}
	return nil
}

func (s *Server) handleCancelEmailChange() handler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		req, err := decode[tokenOnlyRequest](w, r)
		if err != nil {
			return err
		}
		if err := s.auth.CancelEmailChange(r.Context(), req.Token, s.meta(r)); err != nil {
			return err
		}
		noStore(w)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (s *Server) handleRequestEmailChange() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		req, err := decode[emailRequest](w, r)
		if err != nil {
			return err
		}
		if err := s.auth.RequestEmailChange(r.Context(), p, req.Email, s.meta(r)); err != nil {
			return err
		}
		writeAccepted(w)
		return nil
	}
}

func (s *Server) handleConfirmEmailChange() handler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		req, err := decode[proofRequest](w, r)
		if err != nil {
			return err
		}
		u, err := s.auth.ConfirmEmailChange(r.Context(), p, req.proof(), s.meta(r))
		if err != nil {
			return err
		}
		noStore(w)
		writeJSON(w, http.StatusOK, toUserJSON(u))
		return nil
	}
}
