package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/config"
	"github.com/latchkey/latchkey/internal/crypt"
	"github.com/latchkey/latchkey/internal/store"
)

// An installation is a database with latchkey's schema and signing keys,
// and the master key that seals those keys. Only serve and migrate create
// one (openOrCreate); every other command opens an existing one
// (openExisting) and never creates anything, so that a command run in the
// wrong directory fails instead of starting an empty installation.

// sqliteFile returns the file a SQLite --database names, or "" for any
// other database.
func sqliteFile(database string) string {
	if strings.Contains(database, "://") && !strings.HasPrefix(database, "sqlite://") {
		return ""
	}
	return strings.TrimPrefix(database, "sqlite://")
}

// noInstallation is the one line a command prints when it finds no
// installation where it was told to look.
func noInstallation(cfg *config.Config) error {
	if f := sqliteFile(cfg.Database); f != "" {
		return fmt.Errorf("no latchkey data found: %s does not exist (run the command where latchkey's data directory is, or give --data-dir or --database)", f)
	}
	return fmt.Errorf("no latchkey installation found in the database %s (give the right --database, or run \"latchkey migrate\" to set one up)", store.Redact(cfg.Database))
}

// openExisting opens the database of an existing installation without
// creating, migrating or changing anything.
func openExisting(ctx context.Context, cfg *config.Config) (store.Store, error) {
	if f := sqliteFile(cfg.Database); f != "" {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			return nil, noInstallation(cfg)
		}
	}
	st, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return nil, err
	}
	// Every installation has signing keys from its first start on.
	keys, err := st.ListSigningKeys(ctx)
	if err != nil || len(keys) == 0 {
		st.Close()
		if latchkey.IsCode(err, latchkey.EUnavailable) {
			return nil, databaseError(cfg, err)
		}
		return nil, noInstallation(cfg)
	}
	return st, nil
}

// firstStart undoes what a failed first start created: the data directory,
// when this start made it and left it empty.
type firstStart struct {
	dir     string
	created bool
}

func newFirstStart(dir string) firstStart {
	_, err := os.Stat(dir)
	return firstStart{dir: dir, created: errors.Is(err, fs.ErrNotExist)}
}

func (f firstStart) undo() {
	if f.created {
		_ = os.Remove(f.dir) // fails, as it should, unless empty
	}
}

// openOrCreate opens the database for serve and migrate, creating the
// SQLite file (and its directory) when missing, and applies the pending
// migrations.
func openOrCreate(ctx context.Context, cfg *config.Config) (store.Store, error) {
	st, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, databaseError(cfg, err)
	}
	return st, nil
}

// databaseError is one line about a database that failed: the database
// (without its password) and the operator's detail, without the
// client-facing message that a latchkey.Error carries too.
func databaseError(cfg *config.Config, err error) error {
	detail := err
	var le *latchkey.Error
	if errors.As(err, &le) && le.Err != nil {
		detail = le.Err
	}
	if latchkey.IsCode(err, latchkey.EUnavailable) {
		return fmt.Errorf("the database %s is unavailable: %s", store.Redact(cfg.Database), oneLine(detail))
	}
	return fmt.Errorf("the database %s: %s", store.Redact(cfg.Database), oneLine(detail))
}

// oneLine joins the lines of an error that a driver spread over several
// (one per address tried), dropping repeats.
func oneLine(err error) string {
	var parts []string
	for _, l := range strings.Split(err.Error(), "\n") {
		l = strings.TrimSuffix(strings.TrimSpace(l), ":")
		if l != "" && !slices.Contains(parts, l) {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, ": ")
}

// masterKey loads the master key from --master-key-file. create allows
// serve and migrate to create it, but only for a database that has no
// signing keys yet (the very first start): an instance that finds a
// database set up with another key must not make its own.
func masterKey(ctx context.Context, cfg *config.Config, st store.Store, create bool) (key []byte, created bool, err error) {
	path := cfg.MasterKeyFile
	key, err = crypt.LoadKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	keys, lerr := st.ListSigningKeys(ctx)
	if lerr != nil {
		return nil, false, databaseError(cfg, lerr)
	}
	if len(keys) > 0 || !create {
		return nil, false, fmt.Errorf("no master key at %s, but the database %s was set up with one: every instance needs that same key "+
			"(copy master.key from the data directory of the instance that first ran \"latchkey migrate\" or serve, or give its path with --master-key-file)",
			path, store.Redact(cfg.Database))
	}
	key, err = crypt.LoadOrCreateKeyFile(path)
	return key, err == nil, err
}

// wrongMasterKey turns the failure to open a signing key into the one line
// an operator needs: which key file is wrong, and where the right one is.
func wrongMasterKey(cfg *config.Config, err error) error {
	if !errors.Is(err, crypt.ErrOpen) {
		return fmt.Errorf("signing keys: %w", err)
	}
	return fmt.Errorf("the master key %s does not match the database %s (its signing keys were sealed with another master key): "+
		"every instance needs the key of the instance that first ran \"latchkey migrate\" or serve; copy that master.key, or give its path with --master-key-file",
		cfg.MasterKeyFile, store.Redact(cfg.Database))
}

// removeStrayKey removes a master key this start created once it turns out
// another instance set the database up first with its own.
func removeStrayKey(cfg *config.Config, created bool, err error) {
	if created && errors.Is(err, crypt.ErrOpen) {
		_ = os.Remove(cfg.MasterKeyFile)
	}
}
