package crypt

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxKeyFileSize bounds what LoadOrCreateKeyFile reads: a key file is one
// line of base64, so anything larger is not a key file.
const maxKeyFileSize = 1024

// LoadOrCreateKeyFile returns the 32-byte master key stored at path,
// creating it if the file does not exist.
//
// Format: one line holding the key in standard base64 with padding (44
// characters), followed by a newline. Text survives copying into a secret
// manager or an environment variable; surrounding white space is ignored
// when reading.
//
// An existing file that group or others can access in any way is refused,
// with an error naming the file and the fix (chmod 600). A new file is
// created with mode 0600 (its directory with 0700 if missing), written to
// a temporary file first and then linked into place, so a reader never
// sees a half-written key and two processes starting together end up with
// one key, not two.
func LoadOrCreateKeyFile(path string) ([]byte, error) {
	key, err := readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := createKeyFile(path); err != nil {
		return nil, err
	}
	return readKeyFile(path)
}

// LoadKeyFile returns the master key stored at path, with the checks of
// LoadOrCreateKeyFile, and never creates one. A missing file gives an
// error that wraps fs.ErrNotExist.
func LoadKeyFile(path string) ([]byte, error) { return readKeyFile(path) }

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("master key file: %w", err)
	}
	defer f.Close()
	// Check the open file, not the path, so the file checked is the file read.
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("master key file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("master key file %s is not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("master key file %s has mode %04o and can be read by group or others: run chmod 600 %s", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("master key file %s is too large to be a key file", path)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != KeySize {
		return nil, fmt.Errorf("master key file %s does not hold a %d-byte key in base64", path, KeySize)
	}
	return key, nil
}

func createKeyFile(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("master key directory: %w", err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("master key: reading random bytes: %w", err)
	}
	tmp := filepath.Join(dir, "."+filepath.Base(path)+".tmp-"+RandomToken(9))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("master key file: %w", err)
	}
	defer os.Remove(tmp) // after a successful link this only drops the temporary name
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("master key file %s: %w", tmp, werr)
	}
	// link, unlike rename, fails if path exists: another process that won
	// the race keeps its key and we read that one.
	if err := os.Link(tmp, path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("master key file %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes the new directory entry durable. Failure is not fatal: the
// file itself was synced, and some filesystems cannot sync a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
