package cassettes

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/artana-go/go-artana/artana/ledger"
)

// tornAppend leaves a run's cassette as a process killed in the middle of
// an append would: the redo record written, and only the first cut bytes of
// the append on disk. It returns the bytes of the whole append.
func tornAppend(t *testing.T, s *Store, runID string, cut int) []byte {
	t.Helper()
	ctx := context.Background()
	// Append for real to learn the bytes, then put the file back as it was.
	path := s.Path(runID)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, runID, "t", &ledger.WorkflowStepRequested{StepIndex: 9, StepName: "late"}); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	off := bytes.LastIndex(before[:len(before)-1], []byte("\n")) + 1 // the old end record
	data := after[off:]
	if err := writeRedo(path, int64(off), data); err != nil {
		t.Fatal(err)
	}
	torn := append(append([]byte(nil), after[:off]...), data[:cut]...)
	if cut < len(before)-off { // the rest of the old end record is still there
		torn = append(torn, before[off+cut:]...)
	}
	if err := os.WriteFile(path, torn, 0o644); err != nil {
		t.Fatal(err)
	}
	return data
}

// TestInterruptedAppendIsFinished: a cassette left half-written by a
// killed appender reads back whole, with the append finished from its redo
// record, and the redo record is gone.
func TestInterruptedAppendIsFinished(t *testing.T) {
	ctx := context.Background()
	wantRedo := []string{"s", "s", "s", "late"} // the step names logged
	for _, cut := range []int{0, 20, 100, 400} {
		dir := t.TempDir()
		s, err := OpenStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if _, err := s.Append(ctx, "r", "t", &ledger.WorkflowStepRequested{StepIndex: int64(i), StepName: "s"}); err != nil {
				t.Fatal(err)
			}
		}
		tornAppend(t, s, "r", cut)
		s.Close()

		if _, _, err := ReadEvents(s.Path("r")); err == nil && cut > 0 {
			t.Errorf("cut %d: the torn file reads as whole without the redo record; the test is not tearing it", cut)
		}
		s2, err := OpenStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		events, err := s2.Events(ctx, "r", 0)
		if err != nil {
			t.Fatalf("cut %d: Events after an interrupted append: %v", cut, err)
		}
		var names []string
		for _, e := range events {
			if p, ok := e.Payload.(*ledger.WorkflowStepRequested); ok {
				names = append(names, p.StepName)
			} else {
				names = append(names, string(e.Type))
			}
		}
		if d := cmp.Diff(wantRedo, names); d != "" {
			t.Errorf("cut %d: want the 3 appended and the interrupted one (-want +got):\n%s", cut, d)
		}
		if err := ledger.VerifyChain(events); err != nil {
			t.Errorf("cut %d: %v", cut, err)
		}
		if _, err := os.Stat(redoPath(s2.Path("r"))); !os.IsNotExist(err) {
			t.Errorf("cut %d: the redo record is still there (%v)", cut, err)
		}
		if _, err := s2.Append(ctx, "r", "t", &ledger.RunStarted{}); err != nil {
			t.Errorf("cut %d: append after recovery: %v", cut, err)
		}
		s2.Close()
	}
}

// TestTornRedoRecordIsDropped: a redo record cut short means the crash
// came before the cassette was touched; it is removed and the cassette
// reads as it was.
func TestTornRedoRecordIsDropped(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Append(ctx, "r", "t", &ledger.RunStarted{}); err != nil {
		t.Fatal(err)
	}
	path := s.Path("r")
	if err := writeRedo(path, 10, []byte("some bytes that never reached the cassette")); err != nil {
		t.Fatal(err)
	}
	rec, _ := os.ReadFile(redoPath(path))
	if err := os.WriteFile(redoPath(path), rec[:len(rec)-5], 0o644); err != nil {
		t.Fatal(err)
	}
	events, err := s.Events(ctx, "r", 0)
	if err != nil || len(events) != 1 {
		t.Fatalf("Events = %d events, %v; want the one appended", len(events), err)
	}
	if _, err := os.Stat(redoPath(path)); !os.IsNotExist(err) {
		t.Errorf("the torn redo record is still there (%v)", err)
	}
}

// OpenShared finishes an interrupted append before it reads, or, with
// NoRecovery, reports it as an interrupted append, not as damage.
func TestOpenSharedInterruptedAppend(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 3 {
		if _, err := s.Append(ctx, "r", "t", &ledger.WorkflowStepRequested{StepIndex: int64(i), StepName: "s"}); err != nil {
			t.Fatal(err)
		}
	}
	tornAppend(t, s, "r", 20)
	path := s.Path("r")
	_, err = OpenShared(ctx, path, NoRecovery())
	if !errors.Is(err, ErrInterruptedAppend) || errors.Is(err, ErrBrokenChain) || !strings.Contains(err.Error(), "an interrupted append awaits recovery") {
		t.Fatalf("OpenShared(NoRecovery) = %v, want ErrInterruptedAppend", err)
	}
	r, err := OpenShared(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for {
		_, err := r.NextEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 4 {
		t.Errorf("read %d events, want 4 (the interrupted append finished)", n)
	}
}
