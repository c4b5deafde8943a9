package chaos

import (
	"os"
	"testing"

	"github.com/quirehq/quire/internal/testenv"
)

// TestMain removes the quire binary the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	testenv.RemoveQuire()
	os.Exit(code)
}
