// Package gotestcmd builds the go test command lines that failure messages
// print, so that a user can copy them to re-run, re-record or update
// exactly one test.
package gotestcmd

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// RunPattern returns the -run pattern that selects exactly the test (or
// subtest) name, e.g. ^TestX$/^sub$, unquoted.
func RunPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// Quote quotes s for a POSIX shell.
func Quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// PackageDir returns the current directory relative to the module root,
// in the form go test takes: "./recorder", or "." at the root (or when no
// go.mod is found).
func PackageDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			rel, err := filepath.Rel(dir, wd)
			if err != nil || rel == "." {
				return "."
			}
			return "./" + filepath.ToSlash(rel)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "."
		}
		dir = parent
	}
}
