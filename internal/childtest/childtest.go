// Package childtest is the one way the module's tests run a second
// process: the test binary re-runs itself with only TestHelperProcess
// selected and the child's mode and argument in the environment.
//
//	cmd := childtest.Command("lock", path) // in the parent test
//
//	func TestHelperProcess(t *testing.T) { // in the same package
//		mode, arg, ok := childtest.Mode()
//		if !ok {
//			t.Skip("the child process of the multi-process tests")
//		}
//		...
//	}
//
// A TestMain may take its mode first, before any test runs: the examples'
// TestMain runs the example's main that way (examples/internal/exampletest).
package childtest

import (
	"os"
	"os/exec"
)

// The variables that make a test binary a child.
const (
	modeEnv = "ARTANA_TEST_CHILD"
	argEnv  = "ARTANA_TEST_CHILD_ARG"
)

// Command returns the command that runs the current test binary as a child
// in mode with arg: it runs TestHelperProcess only, once. env adds
// variables (KEY=value) to the child's environment.
func Command(mode, arg string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), modeEnv+"="+mode, argEnv+"="+arg)
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// Mode returns the mode and argument the process was started with by
// Command, and false in a parent (a test binary run by go test).
func Mode() (mode, arg string, ok bool) {
	mode = os.Getenv(modeEnv)
	return mode, os.Getenv(argEnv), mode != ""
}
