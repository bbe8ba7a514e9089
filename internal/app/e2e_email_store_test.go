package app_test

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the driver latchkey's SQLite store uses
)

// TestMailedSecretsAreKeyedHashesAtRest (EM-03): what the database keeps
// of a mailed link and code is a keyed hash — not the token, not a bare
// hash of it — and a delivered mail's body (which carried them) is
// dropped. An administrator can mail a new link.
func TestMailedSecretsAreKeyedHashesAtRest(t *testing.T) {
	srv, _ := startWithAdmin(t, nil)
	box := &mailbox{srv: srv}
	tok := signup(t, srv, "at-rest@example.com")
	_, token, code := box.await(t, "verify-email", "at-rest@example.com")

	admAuth := bearer(loginJSON(t, srv, "root@example.com", adminPassword)["access_token"])
	if r := srv.Do(t, "POST", "/v1/admin/users/"+userID(tok)+"/email-verification", nil, admAuth...); r.Status != http.StatusAccepted {
		t.Fatalf("admin resend: %d %s", r.Status, r.Body)
	}
	_, token2, code2 := box.await(t, "verify-email", "at-rest@example.com")
	if token2 == token {
		t.Fatal("the resent mail carries the same token")
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(srv.DataDir, "latchkey.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT link_hash, code_hash FROM email_tokens`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var link, codeHash []byte
		if err := rows.Scan(&link, &codeHash); err != nil {
			t.Fatal(err)
		}
		n++
		for _, secret := range []string{token, token2, code, code2} {
			bare := sha256.Sum256([]byte(secret))
			for _, stored := range [][]byte{link, codeHash} {
				if bytes.Contains(stored, []byte(secret)) || bytes.Equal(stored, bare[:]) {
					t.Errorf("a stored hash is the secret or its bare SHA-256")
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no email tokens stored")
	}
	// Delivered mails keep no body.
	waitFor(t, 10*time.Second, "the outbox to drop delivered bodies", func() bool {
		var left int
		err := db.QueryRow(`SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL AND (text_body != '' OR html_body != '')`).Scan(&left)
		return err == nil && left == 0
	})
	var bodies string
	if err := db.QueryRow(`SELECT coalesce(group_concat(text_body || html_body, ''), '') FROM outbox WHERE sent_at IS NOT NULL`).Scan(&bodies); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(bodies, token) || strings.Contains(bodies, code) {
		t.Error("a delivered mail's body is still stored")
	}
}
