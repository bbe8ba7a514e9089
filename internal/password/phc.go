package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Limits on parameters read from a stored hash. A hash comes from our own
// database, but a corrupted or planted row must not make one login
// allocate gigabytes, spin for minutes, or panic inside argon2.
const (
	maxMemoryKiB  = 1 << 20 // 1 GiB
	maxIterations = 100
	minSaltLen    = 8
	maxSaltLen    = 64
	minKeyLen     = 16
	maxKeyLen     = 64
)

// errMalformed is wrapped by every PHC decoding error.
var errMalformed = errors.New("password: malformed argon2id hash")

// phc is a decoded PHC string.
type phc struct {
	params Params
	salt   []byte
	key    []byte
}

var b64 = base64.RawStdEncoding.Strict()

// encode returns $argon2id$v=19$m=<KiB>,t=<iterations>,p=<lanes>$<salt>$<key>,
// salt and key in standard base64 without padding, as the PHC string
// format specifies.
func (h phc) encode() string {
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s",
		h.params.Memory, h.params.Iterations, h.params.Parallelism,
		b64.EncodeToString(h.salt), b64.EncodeToString(h.key))
}

// decodePHC parses what encode produces and nothing else: fields in that
// order, decimal numbers without signs or leading zeros, canonical base64.
// It never panics.
func decodePHC(s string) (phc, error) {
	// The base64 decoder skips line breaks; a canonical hash has none.
	if strings.ContainsAny(s, "\r\n") {
		return phc{}, fmt.Errorf("%w: line break", errMalformed)
	}
	fields := strings.Split(s, "$")
	if len(fields) != 6 || fields[0] != "" {
		return phc{}, fmt.Errorf("%w: want 5 fields separated by $", errMalformed)
	}
	if fields[1] != "argon2id" {
		return phc{}, fmt.Errorf("%w: algorithm %q is not argon2id", errMalformed, truncate(fields[1]))
	}
	if fields[2] != "v=19" {
		return phc{}, fmt.Errorf("%w: version %q is not v=19", errMalformed, truncate(fields[2]))
	}
	var h phc
	var err error
	if h.params, err = parseParams(fields[3]); err != nil {
		return phc{}, err
	}
	if h.salt, err = b64.DecodeString(fields[4]); err != nil || len(h.salt) < minSaltLen || len(h.salt) > maxSaltLen {
		return phc{}, fmt.Errorf("%w: salt must be %d to %d bytes of base64", errMalformed, minSaltLen, maxSaltLen)
	}
	if h.key, err = b64.DecodeString(fields[5]); err != nil || len(h.key) < minKeyLen || len(h.key) > maxKeyLen {
		return phc{}, fmt.Errorf("%w: hash must be %d to %d bytes of base64", errMalformed, minKeyLen, maxKeyLen)
	}
	return h, nil
}

func parseParams(s string) (Params, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return Params{}, fmt.Errorf("%w: want m=,t=,p=", errMalformed)
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(parts[i], name)
		if !ok || v == "" || (len(v) > 1 && v[0] == '0') {
			return Params{}, fmt.Errorf("%w: want m=,t=,p= as decimal numbers", errMalformed)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return Params{}, fmt.Errorf("%w: parameter %s out of range", errMalformed, name)
		}
		vals[i] = n
	}
	p := Params{Memory: uint32(vals[0]), Iterations: uint32(vals[1])}
	if vals[2] < 1 || vals[2] > 255 {
		return Params{}, fmt.Errorf("%w: parallelism must be 1 to 255", errMalformed)
	}
	p.Parallelism = uint8(vals[2])
	if err := p.validate(); err != nil {
		return Params{}, fmt.Errorf("%w: %w", errMalformed, err)
	}
	return p, nil
}

func truncate(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}
