package crypt

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestLoadOrCreateKeyFileCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "latchkey-data")
	path := filepath.Join(dir, "master.key")
	key, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != KeySize || bytes.Equal(key, make([]byte, KeySize)) {
		t.Fatalf("key = %x", key)
	}
	assertMode(t, path, 0o600)
	assertMode(t, dir, 0o700)
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the key file", len(entries))
	}
	data, _ := os.ReadFile(path)
	if got := strings.TrimSpace(string(data)); got != base64.StdEncoding.EncodeToString(key) {
		t.Errorf("file holds %q, want the key in base64", got)
	}
	again, err := LoadOrCreateKeyFile(path)
	if err != nil || !bytes.Equal(again, key) {
		t.Fatalf("second load = %x, %v; want the same key", again, err)
	}
}

func TestLoadOrCreateKeyFileConcurrentStartsAgree(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := LoadOrCreateKeyFile(path)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for i := range keys {
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("process %d got a different key", i)
		}
	}
}

func TestLoadOrCreateKeyFileRefusesLoosePermissions(t *testing.T) {
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644, 0o620, 0o660, 0o666} {
		path := filepath.Join(t.TempDir(), "master.key")
		writeKey(t, path, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)), mode)
		_, err := LoadOrCreateKeyFile(path)
		if err == nil {
			t.Errorf("mode %04o accepted", mode)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "chmod 600") {
			t.Errorf("mode %04o: error %q should name the file and say chmod 600", mode, msg)
		}
		if strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))) {
			t.Errorf("error reveals the key")
		}
	}
}

func TestLoadOrCreateKeyFileReadsExisting(t *testing.T) {
	want := bytes.Repeat([]byte{9}, 32)
	for name, content := range map[string]string{
		"plain":         base64.StdEncoding.EncodeToString(want),
		"newline":       base64.StdEncoding.EncodeToString(want) + "\n",
		"crlf and tabs": "\t" + base64.StdEncoding.EncodeToString(want) + "\r\n",
	} {
		path := filepath.Join(t.TempDir(), "k")
		writeKey(t, path, content, 0o600)
		got, err := LoadOrCreateKeyFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: got %x, %v", name, got, err)
		}
	}
	assertRefused := func(name, content string) {
		t.Helper()
		path := filepath.Join(t.TempDir(), "k")
		writeKey(t, path, content, 0o600)
		if _, err := LoadOrCreateKeyFile(path); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if data, _ := os.ReadFile(path); string(data) != content {
			t.Errorf("%s: the file was changed", name)
		}
	}
	assertRefused("empty", "")
	assertRefused("short", base64.StdEncoding.EncodeToString(want[:31]))
	assertRefused("long", base64.StdEncoding.EncodeToString(append(want, 1)))
	assertRefused("raw bytes", string(want))
	assertRefused("url alphabet", base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)))
	assertRefused("huge", strings.Repeat("A", 4096))
}

func TestLoadOrCreateKeyFileRefusesDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKeyFile(path); err == nil {
		t.Fatal("a directory was accepted as a key file")
	}
}

func writeKey(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // WriteFile's mode is subject to umask
		t.Fatal(err)
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != want {
		t.Errorf("%s has mode %04o, want %04o", path, got, want)
	}
}

// LoadKeyFile reads what LoadOrCreateKeyFile wrote and never creates a
// file: a command that only reads must not mint a master key.
func TestLoadKeyFileNeverCreates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "master.key")
	if _, err := LoadKeyFile(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "sub")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LoadKeyFile created the directory: %v", err)
	}
	want, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := LoadKeyFile(path); err != nil || !bytes.Equal(got, want) {
		t.Errorf("got %x, %v; want %x", got, err, want)
	}
}
