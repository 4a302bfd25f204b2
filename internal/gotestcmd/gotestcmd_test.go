package gotestcmd

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRunPattern(t *testing.T) {
	for name, want := range map[string]string{
		"TestX":          "^TestX$",
		"TestX/sub_case": "^TestX$/^sub_case$",
		"TestX/a.b(c)":   `^TestX$/^a\.b\(c\)$`,
	} {
		if got := RunPattern(name); got != want {
			t.Errorf("RunPattern(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestQuote(t *testing.T) {
	if got, want := Quote("it's"), `'it'\''s'`; got != want {
		t.Errorf("Quote = %s, want %s", got, want)
	}
}

func TestPackageDir(t *testing.T) {
	if got := PackageDir(); got != "./internal/gotestcmd" {
		t.Errorf("PackageDir() = %q, want ./internal/gotestcmd", got)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(dir, "a", "b"))
	if got := PackageDir(); got != "./a/b" {
		t.Errorf("PackageDir() in a/b = %q, want ./a/b", got)
	}
	t.Chdir(dir)
	if got := PackageDir(); got != "." {
		t.Errorf("PackageDir() at the root = %q, want .", got)
	}
}
