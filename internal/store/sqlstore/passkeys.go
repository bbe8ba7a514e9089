package sqlstore

import (
	"fmt"

	"github.com/latchkey/latchkey"
)

// NeedHash refuses a record keyed by a hash that has none.
func (e Errors) NeedHash(op string, hash []byte) error {
	if len(hash) == 0 {
		return e.wrap(op, fmt.Errorf("%w: Hash", ErrMissing))
	}
	return nil
}

// CounterBehind is UsePasskey's EConflict: the signature counter did not
// move forward.
func CounterBehind() error {
	return latchkey.Errorf(latchkey.EConflict, "The passkey's signature counter did not move forward.")
}
