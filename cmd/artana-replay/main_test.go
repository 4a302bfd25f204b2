package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"artana-replay":  main,
		"artana-fixture": fixtureMain,
	})
}

// TestScripts runs the scripts in testdata/scripts at the repository root.
// Set TESTSCRIPT_UPDATE=1 to rewrite the expected output of cmp commands.
func TestScripts(t *testing.T) {
	data, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:           filepath.Join("..", "..", "testdata", "scripts"),
		UpdateScripts: os.Getenv("TESTSCRIPT_UPDATE") != "",
		Setup: func(env *testscript.Env) error {
			env.Setenv("DATA", data)
			env.Setenv("NO_COLOR", "")
			return nil
		},
	})
}
