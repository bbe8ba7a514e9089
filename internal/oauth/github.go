package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"golang.org/x/oauth2"
)

// maxAPIBody bounds what we read from the provider's API.
const maxAPIBody = 1 << 20

type githubUser struct {
	ID    json.Number `json:"id"`
	Login string      `json:"login"`
	Name  string      `json:"name"`
}

type githubEmail struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// githubProfile reads /user (the numeric id is the subject: logins can be
// renamed and reused) and /user/emails (the primary address, verified or
// not, with its verified flag).
func (p *Provider) githubProfile(ctx context.Context, tok *oauth2.Token) (*Profile, error) {
	var u githubUser
	if err := p.githubGet(ctx, tok, "/user", &u); err != nil {
		return nil, err
	}
	id, err := strconv.ParseInt(u.ID.String(), 10, 64)
	if err != nil || id <= 0 {
		return nil, failed(errors.New("oauth: github /user has no valid numeric id"))
	}
	var emails []githubEmail
	if err := p.githubGet(ctx, tok, "/user/emails", &emails); err != nil {
		return nil, err
	}
	prof := &Profile{Subject: strconv.FormatInt(id, 10), Name: u.Name}
	if prof.Name == "" {
		prof.Name = u.Login
	}
	for _, e := range emails {
		if e.Primary && e.Email != "" {
			prof.Email = e.Email
			prof.EmailVerified = e.Verified
			break
		}
	}
	return prof, nil
}

func (p *Provider) githubGet(ctx context.Context, tok *oauth2.Token, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.cfg.APIURL+path, nil)
	if err != nil {
		return failed(fmt.Errorf("oauth: github %s: %w", path, err))
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	resp, err := p.client.Do(req)
	if err != nil {
		return unavailable(fmt.Errorf("oauth: github %s unreachable: %w", path, err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 500:
		return unavailable(fmt.Errorf("oauth: github %s: HTTP %d", path, resp.StatusCode))
	case resp.StatusCode != http.StatusOK:
		return failed(fmt.Errorf("oauth: github %s: HTTP %d", path, resp.StatusCode))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIBody+1))
	if err != nil {
		return unavailable(fmt.Errorf("oauth: github %s: reading body: %w", path, err))
	}
	if len(body) > maxAPIBody {
		return failed(fmt.Errorf("oauth: github %s: response too large", path))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return failed(fmt.Errorf("oauth: github %s: malformed JSON: %w", path, err))
	}
	return nil
}
