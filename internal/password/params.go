package password

import "fmt"

// Params are argon2id's cost parameters.
type Params struct {
	Memory      uint32 // KiB
	Iterations  uint32
	Parallelism uint8
}

// DefaultParams are OWASP's first recommendation for argon2id: 19 MiB,
// two passes, one lane.
var DefaultParams = Params{Memory: 19456, Iterations: 2, Parallelism: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// validate refuses parameters argon2 would panic on and absurd costs.
func (p Params) validate() error {
	switch {
	case p.Parallelism < 1:
		return fmt.Errorf("parallelism must be at least 1")
	case p.Iterations < 1 || p.Iterations > maxIterations:
		return fmt.Errorf("iterations must be 1 to %d", maxIterations)
	case p.Memory < 8*uint32(p.Parallelism) || p.Memory > maxMemoryKiB:
		return fmt.Errorf("memory must be 8×parallelism to %d KiB", maxMemoryKiB)
	}
	return nil
}
