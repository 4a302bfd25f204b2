// Package original finds the Python original of artana for the
// interoperability tests: the directory named by ARTANA_SEED_DIR, prepared
// as README.md, section "Interoperability tests", says.
package original

import (
	"os"
	"path/filepath"
	"testing"
)

// SkipMessage is why a test that needs the Python original skips: it names
// the variable to set and the README section, and no path of a particular
// machine.
const SkipMessage = "ARTANA_SEED_DIR is unset or does not hold the Python original (src/artana): set it to run this interoperability test; see README.md, section \"Interoperability tests\""

// Dir returns the prepared Python original, or skips the test (fails it
// when ARTANA_REQUIRE_SEED=1).
func Dir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("ARTANA_SEED_DIR")
	if dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "src", "artana")); err == nil {
			return dir
		}
	}
	if os.Getenv("ARTANA_REQUIRE_SEED") == "1" {
		t.Fatal(SkipMessage + ", and ARTANA_REQUIRE_SEED=1")
	}
	t.Skip(SkipMessage)
	return ""
}

// PythonPath is the PYTHONPATH under which python3 imports the Python
// original prepared in dir and its dependencies.
func PythonPath(dir string) string {
	return filepath.Join(dir, "src") + string(os.PathListSeparator) + filepath.Join(dir, ".deps/usr/lib/python3/dist-packages")
}
