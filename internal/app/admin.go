package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/config"
	"github.com/latchkey/latchkey/internal/password"
	"github.com/latchkey/latchkey/internal/store"
	"github.com/latchkey/latchkey/internal/token"
)

// admin is what an administration command works with: the database of an
// existing installation and the use cases over it. Opening it creates,
// migrates and dials nothing; each command asks for what it needs on top
// (a password hasher, the signing keys).
type admin struct {
	cfg   *config.Config
	log   *slog.Logger
	store store.Store
	pub   publisher
	clock func() time.Time
}

// openAdmin loads the command's settings and opens the installation.
func openAdmin(ctx context.Context, name string, args []string, env Env) (*admin, error) {
	cfg, err := loadConfig(name, args, env)
	if err != nil {
		return nil, err
	}
	st, err := openExisting(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a := &admin{cfg: cfg, log: cliLogger(cfg, env.Stderr), store: st, clock: time.Now}
	a.pub = publisher{channel: cfg.RedisPrefix + "revocations", log: a.log}
	if cfg.Redis != "" {
		// go-redis dials on the first command: only a command that
		// revokes something ever connects.
		if a.pub.client, err = newRedisClient(cfg, redisTimeout); err != nil {
			st.Close()
			return nil, err
		}
	}
	return a, nil
}

func (a *admin) Close() {
	if a.pub.client != nil {
		_ = a.pub.client.Close()
	}
	_ = a.store.Close()
}

// withAdmin opens the installation, runs fn and closes it: the shape of
// every administration command.
func withAdmin(ctx context.Context, name string, args []string, env Env, fn func(a *admin) error) error {
	a, err := openAdmin(ctx, name, args, env)
	if err != nil {
		return err
	}
	defer a.Close()
	return fn(a)
}

// service returns the use cases. Only user create hashes a password, and
// only it pays for the hasher (whose set-up computes one argon2id hash)
// and the password blocklist.
func (a *admin) service(hashing bool) *auth.Service {
	d := auth.Deps{Store: a.store, Clock: a.clock, Logger: a.log, Events: cliEvents{a.pub}}
	if hashing {
		d.Hasher = password.NewHasher(hashParams(a.cfg), runtime.NumCPU(), 10*time.Second)
		d.Policy = passwordPolicy(a.cfg)
	}
	return auth.New(authConfig(a.cfg), d)
}

// signingKeys loads the master key (never creating one) and the signing
// keys: keys rotate needs them.
func (a *admin) signingKeys(ctx context.Context) (*token.KeyManager, error) {
	in, err := loadKeys(ctx, a.cfg, a.store, a.log, a.clock, false)
	if err != nil {
		return nil, err
	}
	return in.keys, nil
}

// cliEvents tell running servers, over Redis when there is one, what a
// command revoked or changed, so that they drop cached copies at once.
type cliEvents struct{ publisher }

func (cliEvents) Login(string)                   {}
func (cliEvents) TokensIssued(string)            {}
func (cliEvents) Refresh(string)                 {}
func (e cliEvents) SessionsRevoked(ids []string) { e.publish("s", ids) }
func (e cliEvents) SessionsChanged(ids []string) { e.publish("s", ids) }
func (e cliEvents) APIKeysRevoked(ids []string)  { e.publish("k", ids) }
func (e cliEvents) UserChanged(userID string)    { e.publish("u", []string{userID}) }

var _ auth.Events = cliEvents{}

// parseOwn parses a subcommand's own flags. A mistake is one line, said
// once (the flag package would print it and the whole usage, and the
// caller would print it again); -h prints the usage.
func parseOwn(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if err == nil {
		return nil
	}
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stderr, "Flags of latchkey %s (the shared settings are listed by \"latchkey serve -h\"):\n", fs.Name())
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		return err
	}
	msg := err.Error()
	// invalid value "soon" for flag -expires-in: parse error
	if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		if value, name, ok := strings.Cut(rest, " for flag -"); ok {
			name, why, _ := strings.Cut(name, ": ")
			if f := fs.Lookup(name); f != nil && why == "parse error" {
				why = "want " + f.Usage
			}
			msg = fmt.Sprintf("invalid --%s %s: %s", name, value, why)
		}
	} else if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		msg = "--" + name + " needs a value"
	}
	return usageError{fs.Name() + ": " + msg}
}
